"""Pre-trade risk: the rules about the order itself (instrument, expiry, tick, lot,
duplicates, valuation, size, price collar), the safety checks (what risk knows, trading
states) and what a Decision reports. Rules about positions are in
test_risk_book_rules.py with those about balances, open orders and rates, modifies in
test_risk_modify.py."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.enums import OrderSide, OrderType, RiskScope, TimeInForce, TradingState
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.risk import SUBMIT_RULES, SWITCHABLE, Decision, DenialCode, RiskBook, RiskLimits

D = Decimal
BTC = InstrumentId("BTCUSDT", "BINANCE")
ETH = InstrumentId("ETHUSDT", "BINANCE")
ACCOUNT = AccountId("BINANCE-001")
NOW = 1_700_000_000_000_000_000
_ids = itertools.count(1)


def make_book(**limits: object) -> RiskBook:
    """A book that knows its state: BTC at 40000 and ETH at 2000, plenty of money."""
    values = {name: None if v is None else str(v) for name, v in limits.items()}
    book = RiskBook(RiskLimits.from_values(values, SWITCHABLE), ACCOUNT)
    for iid, base in ((BTC, "BTC"), (ETH, "ETH")):
        book.instruments[iid] = Instrument(
            iid, base, "USDT", D("0.01"), D("0.001"), D("0.002"), D("100"), D("5")
        )
    book.prices[BTC], book.prices[ETH] = D("40000"), D("2000")
    book.set_balances(ACCOUNT, [("USDT", D("10000000")), ("BTC", D("1000")), ("ETH", D("1000"))])
    book.known.update(dict.fromkeys(book.known, True))
    return book


def order(
    side: str = "BUY",
    qty: str = "1",
    price: str | None = None,
    order_type: OrderType | None = None,
    **fields: Any,
) -> OrderSpec:
    """A limit order when priced, else a market order, with a fresh client order id."""
    fields.setdefault("client_order_id", ClientOrderId(f"o-{next(_ids)}"))
    fields.setdefault("strategy_id", StrategyId("s1"))
    fields.setdefault("account_id", ACCOUNT)
    fields.setdefault("instrument_id", BTC)
    if order_type is None:
        order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderSpec(
        side=OrderSide(side),
        order_type=order_type,
        quantity=D(qty),
        price=None if price is None else D(price),
        **fields,
    )


def denied(decision: Decision, code: str) -> str:
    """The denial's message, after checking its code."""
    assert decision.denial is not None, f"expected {code}, was approved"
    assert decision.denial.code == code, decision.denial
    return decision.denial.message


# -- the instrument -------------------------------------------------------------------------


def test_order_for_an_unknown_instrument_is_denied() -> None:
    book = make_book()
    message = denied(
        book.check(order(instrument_id=InstrumentId("XRPUSDT", "BINANCE")), NOW),
        DenialCode.INSTRUMENT_UNKNOWN,
    )
    assert message == "instrument XRPUSDT.BINANCE is not known"


def test_order_for_an_instrument_not_tradable_is_denied() -> None:
    book = make_book()
    book.instruments[BTC] = Instrument(
        BTC, "BTC", "USDT", D("0.01"), D("0.001"), D("0.001"), tradable=False
    )
    message = denied(book.check(order(), NOW), DenialCode.INSTRUMENT_NOT_TRADABLE)
    assert message == "instrument BTCUSDT.BINANCE is not tradable now"


# -- time in force, tick and lot ------------------------------------------------------------


def test_gtd_order_that_expired_already_is_denied() -> None:
    book = make_book()
    message = denied(
        book.check(order(time_in_force=TimeInForce.GTD, expire_time_ns=NOW), NOW),
        DenialCode.GTD_EXPIRED,
    )
    assert message == f"GTD expiry {NOW} is not after now ({NOW})"


def test_gtd_order_expiring_later_passes() -> None:
    book = make_book()
    assert book.check(order(time_in_force=TimeInForce.GTD, expire_time_ns=NOW + 1), NOW).approved


def test_price_off_the_tick_is_denied() -> None:
    book = make_book()
    message = denied(book.check(order(price="40000.005"), NOW), DenialCode.PRICE_NOT_ON_TICK)
    assert message == "price must be a multiple of tick size 0.01, was 40000.005"


def test_trigger_price_off_the_tick_is_denied() -> None:
    book = make_book()
    stop = order("SELL", order_type=OrderType.STOP_MARKET, trigger_price=D("39000.123"))
    message = denied(book.check(stop, NOW), DenialCode.PRICE_NOT_ON_TICK)
    assert message == "price must be a multiple of tick size 0.01, was 39000.123"


def test_quantity_off_the_lot_is_denied() -> None:
    book = make_book()
    message = denied(book.check(order(qty="0.0025"), NOW), DenialCode.QUANTITY_INVALID)
    assert message == "quantity must be a multiple of lot size 0.001, was 0.0025"


def test_quantity_below_the_instrument_minimum_is_denied() -> None:
    book = make_book()
    message = denied(book.check(order(qty="0.001"), NOW), DenialCode.QUANTITY_INVALID)
    assert message == "quantity must be at least 0.002, was 0.001"


def test_quantity_above_the_instrument_maximum_is_denied() -> None:
    book = make_book()
    message = denied(book.check(order(qty="100.001"), NOW), DenialCode.QUANTITY_INVALID)
    assert message == "quantity must be at most 100, was 100.001"


# -- duplicates -----------------------------------------------------------------------------


def test_client_order_id_used_by_an_approved_order_is_denied() -> None:
    book = make_book()
    first = order()
    book.approved(first, NOW)
    again = order(client_order_id=first.client_order_id, qty="2")
    message = denied(book.check(again, NOW + 10**12), DenialCode.DUPLICATE_ORDER)
    assert message == f"client order id {first.client_order_id} was used before"


def test_client_order_id_of_a_denied_order_cannot_come_back() -> None:
    book = make_book(max_order_quantity=1)
    first = order(qty="2")
    assert not book.check(first, NOW).approved
    book.denied(first)
    again = order(client_order_id=first.client_order_id, qty="1")
    denied(book.check(again, NOW), DenialCode.DUPLICATE_ORDER)


def test_same_order_again_within_the_window_is_a_duplicate() -> None:
    book = make_book(duplicate_window_ms=500)
    first = order(price="40000")
    book.approved(first, NOW)
    message = denied(
        book.check(order(price="40000"), NOW + 499_999_999), DenialCode.DUPLICATE_ORDER
    )
    assert message == f"the same order as {first.client_order_id} was sent less than 500 ms ago"


def test_same_order_again_after_the_window_passes() -> None:
    book = make_book(duplicate_window_ms=500)
    book.approved(order(price="40000"), NOW)
    assert book.check(order(price="40000"), NOW + 500_000_000).approved


def test_an_order_differing_in_price_is_no_duplicate() -> None:
    book = make_book(duplicate_window_ms=500)
    book.approved(order(price="40000"), NOW)
    assert book.check(order(price="40000.01"), NOW + 1).approved


def test_orders_older_than_the_duplicate_window_are_forgotten() -> None:
    book = make_book(duplicate_window_ms=500)
    for i in range(10):
        book.approved(order(qty=f"{i + 1}", price="40000"), NOW + i * 400_000_000)
    assert [seen for _, seen in book.fingerprints.values()] == [
        NOW + 3_200_000_000,
        NOW + 3_600_000_000,
    ]


def test_same_order_is_no_duplicate_when_the_window_is_off() -> None:
    book = make_book()
    book.approved(order(price="40000"), NOW)
    assert book.check(order(price="40000"), NOW + 1).approved


# -- valuation and size ---------------------------------------------------------------------


def test_market_order_without_a_last_price_is_denied() -> None:
    book = make_book()
    del book.prices[BTC]
    message = denied(book.check(order(), NOW), DenialCode.NO_REFERENCE_PRICE)
    assert message == "no price known for BTCUSDT.BINANCE to value a MARKET order"


def test_limit_order_is_valued_at_its_own_price_without_a_last_price() -> None:
    book = make_book()
    del book.prices[BTC]
    assert book.check(order(price="40000"), NOW).approved


def test_order_below_the_min_notional_is_denied() -> None:
    book = make_book()
    message = denied(book.check(order(qty="0.002", price="2000"), NOW), DenialCode.MIN_NOTIONAL)
    assert message == "notional must be at least 5 USDT, was 4.000 (0.002 x 2000)"


def test_order_above_the_max_order_quantity_is_denied() -> None:
    book = make_book(max_order_quantity=2)
    assert book.check(order(qty="2"), NOW).approved
    message = denied(book.check(order(qty="2.001"), NOW), DenialCode.MAX_ORDER_QUANTITY)
    assert message == "quantity must be at most 2, was 2.001"


def test_instrument_max_order_quantity_overrides_the_global_one() -> None:
    book = make_book(max_order_quantity=2, **{"instrument:ETHUSDT.BINANCE:max_order_quantity": 50})
    assert book.check(order(qty="40", instrument_id=ETH), NOW).approved
    message = denied(
        book.check(order(qty="51", instrument_id=ETH), NOW), DenialCode.MAX_ORDER_QUANTITY
    )
    assert message == "quantity must be at most 50, was 51"
    denied(book.check(order(qty="3"), NOW), DenialCode.MAX_ORDER_QUANTITY)  # BTC: global


def test_order_above_the_max_order_notional_is_denied() -> None:
    book = make_book(max_order_notional=100000)
    assert book.check(order(qty="2.5", price="40000"), NOW).approved
    message = denied(
        book.check(order(qty="2.501", price="40000"), NOW), DenialCode.MAX_ORDER_NOTIONAL
    )
    assert message == "notional must be at most 100000, was 100040.000 (2.501 x 40000)"


def test_market_order_notional_is_valued_at_the_last_price() -> None:
    book = make_book(max_order_notional=100000)
    book.prices[BTC] = D("50000")
    message = denied(book.check(order(qty="2.5"), NOW), DenialCode.MAX_ORDER_NOTIONAL)
    assert message == "notional must be at most 100000, was 125000.0 (2.5 x 50000)"


def test_instrument_max_order_notional_overrides_the_global_one() -> None:
    book = make_book(
        max_order_notional=100000, **{"instrument:BTCUSDT.BINANCE:max_order_notional": 1000}
    )
    message = denied(book.check(order(qty="0.026"), NOW), DenialCode.MAX_ORDER_NOTIONAL)
    assert message == "notional must be at most 1000, was 1040.000 (0.026 x 40000)"
    assert book.check(order(qty="40", instrument_id=ETH), NOW).approved  # ETH: global


# -- price collar ---------------------------------------------------------------------------


def test_limit_price_outside_the_collar_is_denied() -> None:
    book = make_book(price_collar_bps=100)  # 1% of 40000 is 400
    assert book.check(order("SELL", price="39600"), NOW).approved
    message = denied(book.check(order("SELL", price="39599.99"), NOW), DenialCode.PRICE_COLLAR)
    assert message == "price 39599.99 is more than 100 bps from the market price 40000"


def test_trigger_price_outside_the_collar_is_denied() -> None:
    book = make_book(price_collar_bps=100)
    stop = order(order_type=OrderType.STOP_MARKET, trigger_price=D("40400.01"))
    message = denied(book.check(stop, NOW), DenialCode.PRICE_COLLAR)
    assert message == "price 40400.01 is more than 100 bps from the market price 40000"


def test_price_collar_needs_a_market_price() -> None:
    book = make_book(price_collar_bps=100)
    del book.prices[BTC]
    message = denied(book.check(order(price="40000"), NOW), DenialCode.NO_REFERENCE_PRICE)
    assert message == "no market price for BTCUSDT.BINANCE to check the price collar against"


def test_no_price_collar_without_a_limit() -> None:
    book = make_book()
    assert book.check(order(qty="0.01", price="4000"), NOW).approved


# -- what risk knows and trading states -----------------------------------------------------


def test_every_order_is_denied_until_risk_knows_its_state() -> None:
    book = make_book()
    book.known["positions"] = book.known["balances"] = False
    message = denied(book.check(order(), NOW), DenialCode.STATE_UNKNOWN)
    assert message == "risk does not know positions, balances yet"
    book.known["positions"] = True
    assert denied(book.check(order(), NOW), DenialCode.STATE_UNKNOWN).endswith("balances yet")
    book.known["balances"] = True
    assert book.check(order(), NOW).approved


def test_halted_account_denies_every_order() -> None:
    book = make_book()
    book.set_state(RiskScope.ACCOUNT, ACCOUNT, TradingState.HALTED, "daily loss limit")
    message = denied(book.check(order(), NOW), DenialCode.TRADING_HALTED)
    assert message == "account BINANCE-001 is HALTED: daily loss limit"


def test_halted_strategy_leaves_other_strategies_trading() -> None:
    book = make_book()
    book.set_state(RiskScope.STRATEGY, "s1", TradingState.HALTED, "by hand")
    denied(book.check(order(), NOW), DenialCode.TRADING_HALTED)
    assert book.check(order(strategy_id=StrategyId("s2")), NOW).approved


def test_reducing_instrument_denies_an_order_that_opens_a_position() -> None:
    book = make_book()
    book.set_state(RiskScope.INSTRUMENT, str(BTC), TradingState.REDUCING, "max drawdown")
    message = denied(book.check(order(), NOW), DenialCode.TRADING_REDUCING)
    assert message == (
        "instrument BTCUSDT.BINANCE is REDUCING: max drawdown; "
        "only orders that reduce the position may pass"
    )
    assert book.check(order(instrument_id=ETH), NOW).approved


def test_the_strictest_state_of_account_strategy_and_instrument_applies() -> None:
    book = make_book()
    book.set_state(RiskScope.ACCOUNT, ACCOUNT, TradingState.REDUCING, "drawdown")
    book.set_state(RiskScope.INSTRUMENT, str(BTC), TradingState.HALTED, "venue trouble")
    message = denied(book.check(order(), NOW), DenialCode.TRADING_HALTED)
    assert message == "instrument BTCUSDT.BINANCE is HALTED: venue trouble"
    denied(book.check(order(instrument_id=ETH), NOW), DenialCode.TRADING_REDUCING)


def test_back_to_active_lets_orders_through_again() -> None:
    book = make_book()
    book.set_state(RiskScope.STRATEGY, "s1", TradingState.HALTED, "by hand")
    book.set_state(RiskScope.STRATEGY, "s1", TradingState.ACTIVE, "")
    assert book.check(order(), NOW).approved


# -- the decision ---------------------------------------------------------------------------


def test_an_approval_lists_every_rule_that_ran_with_none() -> None:
    decision = make_book().check(order(), NOW)
    assert decision.approved
    assert decision.denial is None
    assert decision.results == tuple((name, None) for name, _ in SUBMIT_RULES)


def test_a_denial_ends_the_results_with_its_code_and_later_rules_do_not_run() -> None:
    decision = make_book(max_order_quantity=1).check(order(qty="2"), NOW)
    names = [name for name, _ in SUBMIT_RULES]
    stop = names.index("max_order_quantity")
    assert decision.results == (
        *((name, None) for name in names[:stop]),
        ("max_order_quantity", DenialCode.MAX_ORDER_QUANTITY),
    )


def test_a_rule_switched_off_does_not_run_and_is_absent_from_the_results() -> None:
    book = make_book(max_order_quantity=1, **{"rule:max_order_quantity": "off"})
    decision = book.check(order(qty="2"), NOW)
    assert decision.approved
    assert "max_order_quantity" not in dict(decision.results)
    assert len(decision.results) == len(SUBMIT_RULES) - 1


def test_a_rule_switched_back_on_runs_again() -> None:
    book = make_book(max_order_quantity=1, **{"rule:max_order_quantity": "off"})
    assert book.check(order(qty="2"), NOW).approved
    book.limits = book.limits.changed({"rule:max_order_quantity": "on"}, SWITCHABLE)
    denied(book.check(order(qty="2"), NOW), DenialCode.MAX_ORDER_QUANTITY)


def test_changed_limits_apply_from_the_next_order() -> None:
    book = make_book(max_order_quantity=5)
    assert book.check(order(qty="4"), NOW).approved
    book.limits = book.limits.changed(
        {"max_order_quantity": "3", "instrument:ETHUSDT.BINANCE:max_order_quantity": "1"},
        SWITCHABLE,
    )
    denied(book.check(order(qty="4"), NOW), DenialCode.MAX_ORDER_QUANTITY)
    denied(book.check(order(qty="2", instrument_id=ETH), NOW), DenialCode.MAX_ORDER_QUANTITY)


@pytest.mark.parametrize("rule", ["known", "trading_state"])
def test_safety_checks_cannot_be_switched_off(rule: str) -> None:
    assert rule not in SWITCHABLE
