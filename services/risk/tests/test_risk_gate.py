"""RiskGate: which orders pass, why the others are denied, and where the limits come from."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from foxtrot.common.messages.v1 import OrderDenied, SubmitOrder, SubmitOrderList
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.risk import Denial, DenialCode, RiskLimits
from foxtrot.risk.config import RiskSettings
from foxtrot.risk.service import RiskGate

BTC_PERP = InstrumentId("BTC-PERP", "FTX")
LIMITS = RiskLimits(max_order_quantity=Decimal("10"), max_order_notional=Decimal("100000"))
TS = 1_700_000_000_000_000_000


def submit(**fields: object) -> SubmitOrder:
    order: dict[str, object] = {
        "client_order_id": "sma-cross-1-1640991720000000000",
        "strategy_id": "sma-cross-1",
        "account_id": "SIM-001",
        "instrument_id": "BTC-PERP.FTX",
        "side": "BUY",
        "order_type": "MARKET",
        "quantity": "0.01",
        "ts_event": TS,
        "ts_init": TS,
    }
    return SubmitOrder.model_validate({**order, **fields})


def gate_with_price(price: str = "46377.0", limits: RiskLimits = LIMITS) -> RiskGate:
    gate = RiskGate(limits)
    gate.on_price(BTC_PERP, Decimal(price))
    return gate


def test_small_market_order_passes_once_a_price_is_known() -> None:
    assert gate_with_price().check(submit()) is None


def test_market_order_is_denied_while_no_price_is_known() -> None:
    denial = RiskGate(LIMITS).check(submit())

    assert denial is not None
    assert denial.code == DenialCode.NO_REFERENCE_PRICE
    assert "BTC-PERP.FTX" in denial.message


def test_a_price_of_another_instrument_does_not_value_the_order() -> None:
    gate = RiskGate(LIMITS)
    gate.on_price(InstrumentId("BTC-PERP", "BINANCE"), Decimal("46000"))

    denial = gate.check(submit())
    assert denial is not None
    assert denial.code == DenialCode.NO_REFERENCE_PRICE


def test_limit_order_is_valued_at_its_own_price_without_a_market_price() -> None:
    order = submit(order_type="LIMIT", price="46000")
    assert RiskGate(LIMITS).check(order) is None


def test_order_above_the_max_quantity_is_denied() -> None:
    denial = gate_with_price("1").check(submit(quantity="10.001"))

    assert denial is not None
    assert denial.code == DenialCode.MAX_ORDER_QUANTITY
    assert denial.message == "quantity must be at most 10, was 10.001"


def test_order_at_exactly_the_max_quantity_passes() -> None:
    assert gate_with_price("1").check(submit(quantity="10")) is None


def test_order_above_the_max_notional_is_denied() -> None:
    # 3 x 46377.0 = 139131.0 > 100000
    denial = gate_with_price().check(submit(quantity="3"))

    assert denial is not None
    assert denial.code == DenialCode.MAX_ORDER_NOTIONAL
    assert "139131" in denial.message
    assert "100000" in denial.message


def test_notional_is_valued_at_the_latest_price() -> None:
    gate = gate_with_price("46377.0")
    gate.on_price(BTC_PERP, Decimal("30000"))

    # 3 x 30000 = 90000 <= 100000
    assert gate.check(submit(quantity="3")) is None


def test_limit_order_notional_uses_its_limit_price_not_the_market() -> None:
    gate = gate_with_price("1")
    denial = gate.check(submit(order_type="LIMIT", price="50000", quantity="3"))

    assert denial is not None
    assert denial.code == DenialCode.MAX_ORDER_NOTIONAL


def test_quantity_is_checked_before_the_price_is_needed() -> None:
    denial = RiskGate(LIMITS).check(submit(quantity="11"))
    assert denial is not None
    assert denial.code == DenialCode.MAX_ORDER_QUANTITY


def test_without_limits_any_order_passes_even_without_a_price() -> None:
    assert RiskGate(RiskLimits()).check(submit(quantity="1000000")) is None


def test_denied_event_belongs_to_the_commands_flow_and_names_the_reason() -> None:
    correlation = uuid.UUID("11111111-2222-3333-4444-555555555555")
    command = submit(correlation_id=str(correlation), quantity="11")
    denial = gate_with_price().check(command)
    assert denial is not None

    event = RiskGate.denied(command, denial, TS + 5)

    assert isinstance(event, OrderDenied)
    assert event.correlation_id == correlation
    assert event.causation_id == command.message_id
    assert event.message_id not in (command.message_id, correlation)
    assert event.client_order_id == command.client_order_id
    assert event.strategy_id == "sma-cross-1"
    assert event.instrument_id == "BTC-PERP.FTX"
    assert event.reason_code == "MAX_ORDER_QUANTITY"
    assert event.reason == denial.message
    assert event.ts_event == event.ts_init == TS + 5


def test_denied_event_of_a_command_that_started_its_flow_is_correlated_to_it() -> None:
    command = submit()  # no correlation id: the command starts its own flow
    event = RiskGate.denied(command, Denial(DenialCode.NO_REFERENCE_PRICE, "no price"), TS)

    assert command.correlation_id == command.message_id
    assert event.correlation_id == command.message_id
    assert event.causation_id == command.message_id
    assert event.reason_code == "NO_REFERENCE_PRICE"


# --- RiskSettings ---------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("FOXTROT_MAX_ORDER_QUANTITY", "FOXTROT_MAX_ORDER_NOTIONAL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_default_to_ten_units_and_a_million_notional(
    clean_env: pytest.MonkeyPatch,
) -> None:
    assert RiskSettings().limits() == RiskLimits(Decimal("10"), Decimal("1000000"))


def test_limits_are_read_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FOXTROT_MAX_ORDER_QUANTITY", "2.5")
    clean_env.setenv("FOXTROT_MAX_ORDER_NOTIONAL", "5000")

    assert RiskSettings().limits() == RiskLimits(Decimal("2.5"), Decimal("5000"))


def test_none_in_the_environment_switches_a_limit_off(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FOXTROT_MAX_ORDER_NOTIONAL", "none")

    limits = RiskSettings().limits()
    assert limits == RiskLimits(Decimal("10"), None)
    # With the notional limit off, an unpriced market order is no longer refused.
    assert RiskGate(limits).check(submit()) is None


def test_both_limits_can_be_switched_off(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FOXTROT_MAX_ORDER_QUANTITY", "none")
    clean_env.setenv("FOXTROT_MAX_ORDER_NOTIONAL", "none")

    assert RiskSettings().limits() == RiskLimits(None, None)


@pytest.mark.parametrize("value", ["0", "-1", "lots", "NaN"])
def test_a_limit_that_is_not_a_positive_number_is_refused(
    clean_env: pytest.MonkeyPatch, value: str
) -> None:
    clean_env.setenv("FOXTROT_MAX_ORDER_QUANTITY", value)
    with pytest.raises(ValidationError, match="max_order_quantity"):
        RiskSettings()


def test_environment_limits_are_what_the_gate_enforces(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FOXTROT_MAX_ORDER_QUANTITY", "0.5")
    gate = gate_with_price(limits=RiskSettings().limits())

    assert gate.check(submit(quantity="0.5")) is None
    denial = gate.check(submit(quantity="0.6"))
    assert denial is not None
    assert denial.code == DenialCode.MAX_ORDER_QUANTITY


def test_an_order_list_is_denied_whole_naming_the_order_that_failed() -> None:
    gate = RiskGate(RiskLimits(max_order_quantity=Decimal(5)))
    common = {
        "strategy_id": "s1",
        "account_id": "acc",
        "instrument_id": "BTCUSDT.SIM",
        "side": "BUY",
        "order_type": "LIMIT",
        "price": "100",
        "order_list_id": "L1",
        "contingency_type": "OCO",
        "ts_event": 1,
        "ts_init": 1,
    }
    small = SubmitOrder(client_order_id="a", quantity="1", linked_order_ids=("b",), **common)
    large = SubmitOrder(client_order_id="b", quantity="6", linked_order_ids=("a",), **common)
    denial = gate.check_list(
        SubmitOrderList(order_list_id="L1", orders=(small, large), ts_event=1, ts_init=1)
    )
    assert denial is not None
    assert denial.code == "MAX_ORDER_QUANTITY"
    assert denial.message.startswith("order b: ")
    fine = large.model_copy(update={"quantity": Decimal(5)})
    assert (
        gate.check_list(
            SubmitOrderList(order_list_id="L1", orders=(small, fine), ts_event=1, ts_init=1)
        )
        is None
    )
