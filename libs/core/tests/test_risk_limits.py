"""Risk limits by name: stored values, per-instrument overrides, rule switches, and bad
names or values refused with a message that names them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from foxtrot.core.enums import TradingState
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.risk import SWITCHABLE, InstrumentLimits, InvalidLimit, RiskLimits

D = Decimal
BTC = InstrumentId("BTCUSDT", "BINANCE")
ETH = InstrumentId("ETHUSDT", "BINANCE")
GLOBAL_NAMES = (
    "max_order_quantity",
    "max_order_notional",
    "max_position",
    "max_gross_exposure",
    "max_net_exposure",
    "max_open_orders",
    "max_open_orders_per_strategy",
    "max_submits_per_second_strategy",
    "max_submits_per_second_account",
    "max_modifies_per_second_strategy",
    "max_modifies_per_second_account",
    "duplicate_window_ms",
    "price_collar_bps",
    "daily_loss_limit",
    "max_drawdown",
    "breach_action",
)


def test_default_limits_are_all_off_and_breaches_halt() -> None:
    values = RiskLimits().values()
    assert tuple(values) == GLOBAL_NAMES
    assert values == {**dict.fromkeys(GLOBAL_NAMES), "breach_action": "HALTED"}


def test_from_values_and_values_round_trip() -> None:
    stored = {
        "max_order_quantity": "10",
        "max_position": "5.5",
        "max_open_orders": "200",
        "duplicate_window_ms": "250",
        "price_collar_bps": "150",
        "daily_loss_limit": "10000",
        "breach_action": "REDUCING",
        "instrument:BTCUSDT.BINANCE:max_position": "2",
        "instrument:ETHUSDT.BINANCE:max_order_notional": "50000",
        "rule:price_collar": "off",
    }
    limits = RiskLimits.from_values(stored, SWITCHABLE)
    assert limits.max_position == D("5.5")
    assert limits.max_open_orders == 200
    assert limits.breach_action is TradingState.REDUCING
    assert limits.disabled == frozenset({"price_collar"})
    values = limits.values()
    assert {k: v for k, v in values.items() if v is not None} == stored
    assert RiskLimits.from_values(values, SWITCHABLE) == limits


def test_instrument_limit_overrides_the_global_one_for_that_instrument_only() -> None:
    limits = RiskLimits.from_values(
        {
            "max_order_quantity": "10",
            "max_position": "5",
            "instrument:BTCUSDT.BINANCE:max_position": "2",
        },
        SWITCHABLE,
    )
    assert limits.instruments == {BTC: InstrumentLimits(max_position=D(2))}
    assert limits.for_instrument(BTC) == InstrumentLimits(D(10), None, D(2))
    assert limits.for_instrument(ETH) == InstrumentLimits(D(10), None, D(5))


def test_instrument_limit_set_to_none_falls_back_to_the_global_one() -> None:
    limits = RiskLimits.from_values(
        {"max_position": "5", "instrument:BTCUSDT.BINANCE:max_position": "2"}, SWITCHABLE
    )
    limits = limits.changed({"instrument:BTCUSDT.BINANCE:max_position": None}, SWITCHABLE)
    assert limits.instruments == {}
    assert limits.for_instrument(BTC).max_position == D(5)


def test_instrument_whose_symbol_holds_a_colon_round_trips() -> None:
    name = "instrument:ES:H4.CME:max_order_quantity"
    limits = RiskLimits.from_values({name: "3"}, SWITCHABLE)
    assert limits.for_instrument(InstrumentId("ES:H4", "CME")).max_order_quantity == D(3)
    assert limits.values()[name] == "3"


@pytest.mark.parametrize("off", [None, "none", "None", "NONE"])
def test_none_switches_a_limit_off(off: str | None) -> None:
    limits = RiskLimits.from_values({"max_position": "5", "max_open_orders": "3"}, SWITCHABLE)
    limits = limits.changed({"max_position": off, "max_open_orders": off}, SWITCHABLE)
    assert limits.max_position is None
    assert limits.max_open_orders is None


def test_rule_switches_off_and_on_by_name() -> None:
    limits = RiskLimits().changed({"rule:price_collar": "off", "rule:gtd": "off"}, SWITCHABLE)
    assert limits.disabled == frozenset({"price_collar", "gtd"})
    limits = limits.changed({"rule:gtd": "on", "rule:price_collar": None}, SWITCHABLE)
    assert limits.disabled == frozenset()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("max_positon", "5", "max_positon: no such limit; limits are max_order_quantity, "),
        ("max_position", "-1", "max_position: must be a positive number, was '-1'"),
        ("max_position", "0", "max_position: must be a positive number, was '0'"),
        ("max_position", "lots", "max_position: must be a decimal number, was 'lots'"),
        ("max_position", "NaN", "max_position: must be a positive number, was 'NaN'"),
        ("max_position", "Infinity", "max_position: must be a positive number, was 'Infinity'"),
        ("max_open_orders", "1.5", "max_open_orders: must be a whole number, was '1.5'"),
        ("max_open_orders", "0", "max_open_orders: must be positive, was '0'"),
        ("breach_action", "ACTIVE", "breach_action: must be REDUCING or HALTED, was 'ACTIVE'"),
        ("breach_action", None, "breach_action: must be REDUCING or HALTED, was None"),
        ("rule:nope", "off", "rule:nope: no such rule; rules are buying_power, "),
        ("rule:known", "off", "rule:known: no such rule; rules are "),
        ("rule:gtd", "maybe", "rule:gtd: must be on or off, was 'maybe'"),
        (
            "instrument:BTCUSDT.BINANCE:max_open_orders",
            "3",
            "instrument:BTCUSDT.BINANCE:max_open_orders: an instrument limit is one of "
            "max_order_quantity, max_order_notional, max_position",
        ),
        (
            "instrument:BTCUSDT:max_position",
            "3",
            "instrument:BTCUSDT:max_position: instrument id must be SYMBOL.VENUE, was 'BTCUSDT'",
        ),
        (
            "instrument:BTCUSDT.BINANCE:max_position",
            "-3",
            "instrument:BTCUSDT.BINANCE:max_position: must be a positive number, was '-3'",
        ),
    ],
)
def test_bad_name_or_value_raises_invalid_limit_naming_it(
    name: str, value: str | None, message: str
) -> None:
    with pytest.raises(InvalidLimit) as raised:
        RiskLimits().changed({name: value}, SWITCHABLE)
    assert str(raised.value).startswith(message)


def test_a_bad_change_leaves_the_limits_as_they_were() -> None:
    limits = RiskLimits.from_values({"max_position": "5"}, SWITCHABLE)
    with pytest.raises(InvalidLimit, match="max_open_orders"):
        limits.changed({"max_position": "7", "max_open_orders": "x"}, SWITCHABLE)
    assert limits.max_position == D(5)
