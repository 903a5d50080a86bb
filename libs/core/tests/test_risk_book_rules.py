"""Pre-trade risk rules about positions and the account: reduce-only, max position (with the
orders open), REDUCING, gross and net exposure; buying power (with what approved orders not
yet accepted reserve), open orders and submit rates."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from foxtrot.core.enums import OrderSide, OrderType, RiskScope, TradingState
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.portfolio import Position
from foxtrot.core.risk import SWITCHABLE, Decision, DenialCode, RiskBook, RiskLimits

D = Decimal
BTC = InstrumentId("BTCUSDT", "BINANCE")
ETH = InstrumentId("ETHUSDT", "BINANCE")
ACCOUNT = AccountId("BINANCE-001")
S1, S2 = StrategyId("s1"), StrategyId("s2")
NOW = 1_700_000_000_000_000_000
SECOND = 1_000_000_000
_ids = itertools.count(1)


def make_book(balances: dict[str, str] | None = None, /, **limits: object) -> RiskBook:
    """A book that knows its state: BTC at 40000 and ETH at 2000, plenty of money unless
    ``balances`` say otherwise."""
    values = {name: None if v is None else str(v) for name, v in limits.items()}
    book = RiskBook(RiskLimits.from_values(values, SWITCHABLE), ACCOUNT)
    for iid, base in ((BTC, "BTC"), (ETH, "ETH")):
        book.instruments[iid] = Instrument(iid, base, "USDT", D("0.01"), D("0.001"), D("0.001"))
    book.prices[BTC], book.prices[ETH] = D("40000"), D("2000")
    free = balances or {"USDT": "10000000", "BTC": "1000", "ETH": "1000"}
    book.set_balances(ACCOUNT, [(currency, D(amount)) for currency, amount in free.items()])
    book.known.update(dict.fromkeys(book.known, True))
    return book


def order(side: str = "BUY", qty: str = "1", price: str | None = None, **fields: Any) -> OrderSpec:
    """A limit order when priced, else a market order, with a fresh client order id."""
    fields.setdefault("client_order_id", ClientOrderId(f"o-{next(_ids)}"))
    fields.setdefault("strategy_id", S1)
    fields.setdefault("account_id", ACCOUNT)
    fields.setdefault("instrument_id", BTC)
    return OrderSpec(
        side=OrderSide(side),
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=D(qty),
        price=None if price is None else D(price),
        **fields,
    )


def hold(book: RiskBook, quantity: str, strategy: StrategyId = S1, iid: InstrumentId = BTC) -> None:
    """A position as execution reports it at start."""
    qty = D(quantity)
    book.set_position(Position(strategy, iid, qty, abs(qty) * book.prices[iid]))


def submit(book: RiskBook, spec: OrderSpec, now: int = NOW) -> Decision:
    """Check an order and book the outcome, as the service does."""
    decision = book.check(spec, now)
    if decision.approved:
        book.approved(spec, now)
    else:
        book.denied(spec)
    return decision


def fill(book: RiskBook, spec: OrderSpec, qty: str, price: str = "40000") -> None:
    book.on_fill(
        spec.client_order_id,
        spec.strategy_id,
        spec.instrument_id,
        spec.side,
        D(qty),
        D(price),
        D(0),
        NOW,
    )


def denied(decision: Decision, code: str) -> str:
    """The denial's message, after checking its code."""
    assert decision.denial is not None, f"expected {code}, was approved"
    assert decision.denial.code == code, decision.denial
    return decision.denial.message


# -- reduce-only ----------------------------------------------------------------------------


def test_reduce_only_order_that_reduces_the_position_passes() -> None:
    book = make_book()
    hold(book, "2")
    assert book.check(order("SELL", "2", reduce_only=True), NOW).approved


def test_reduce_only_order_that_would_flip_the_position_is_denied() -> None:
    book = make_book()
    hold(book, "2")
    message = denied(book.check(order("SELL", "3", reduce_only=True), NOW), DenialCode.REDUCE_ONLY)
    assert message == (
        "reduce-only SELL 3 would not reduce the position 2 "
        "(with the orders already open that side)"
    )


def test_reduce_only_order_that_increases_position_is_denied() -> None:
    book = make_book()
    hold(book, "-2")
    message = denied(book.check(order("SELL", "1", reduce_only=True), NOW), DenialCode.REDUCE_ONLY)
    assert "reduce-only SELL 1 would not reduce the position -2" in message


def test_reduce_only_order_when_flat_is_denied() -> None:
    book = make_book()
    denied(book.check(order("SELL", "1", reduce_only=True), NOW), DenialCode.REDUCE_ONLY)


def test_reduce_only_counts_the_orders_already_open_that_side() -> None:
    book = make_book()
    hold(book, "2")
    assert submit(book, order("SELL", "1.5")).approved
    assert book.check(order("SELL", "0.5", reduce_only=True), NOW).approved
    denied(book.check(order("SELL", "0.501", reduce_only=True), NOW), DenialCode.REDUCE_ONLY)


def test_reduce_only_looks_at_its_own_strategy_position() -> None:
    book = make_book()
    hold(book, "2", strategy=S2)
    denied(book.check(order("SELL", "1", reduce_only=True), NOW), DenialCode.REDUCE_ONLY)


def test_reduce_only_passes_on_its_strategy_position_whatever_the_net() -> None:
    book = make_book()
    hold(book, "2", strategy=S1)
    hold(book, "-3", strategy=S2)  # net -1: the sell grows the net short
    assert book.check(order("SELL", "1", reduce_only=True), NOW).approved


# -- max position ---------------------------------------------------------------------------


def test_order_that_would_take_the_position_past_the_limit_is_denied() -> None:
    book = make_book(max_position=5)
    hold(book, "4")
    assert book.check(order("BUY", "1"), NOW).approved
    message = denied(book.check(order("BUY", "1.001"), NOW), DenialCode.MAX_POSITION)
    assert message == (
        "position would reach 5.001 with this order and those open, beyond the limit 5"
    )


def test_max_position_counts_the_orders_open_that_side() -> None:
    book = make_book(max_position=5)
    assert submit(book, order("BUY", "3")).approved
    assert submit(book, order("SELL", "4")).approved  # the other side does not help
    message = denied(book.check(order("BUY", "3"), NOW), DenialCode.MAX_POSITION)
    assert message.startswith("position would reach 6 ")
    assert book.check(order("BUY", "2"), NOW).approved


def test_max_position_counts_fills_and_what_is_left_open() -> None:
    book = make_book(max_position=5)
    first = order("BUY", "4")
    submit(book, first)
    fill(book, first, "2.5")
    assert book.net[BTC] == D("2.5")
    denied(book.check(order("BUY", "1.001"), NOW), DenialCode.MAX_POSITION)
    assert book.check(order("BUY", "1"), NOW).approved


def test_max_position_limits_short_positions_too() -> None:
    book = make_book(max_position=5)
    hold(book, "-4")
    message = denied(book.check(order("SELL", "2"), NOW), DenialCode.MAX_POSITION)
    assert message.startswith("position would reach -6 ")


def test_max_position_is_the_net_of_every_strategy() -> None:
    book = make_book(max_position=5)
    hold(book, "3", strategy=S1)
    hold(book, "2", strategy=S2)
    denied(book.check(order("BUY", "0.001"), NOW), DenialCode.MAX_POSITION)


def test_reducing_order_passes_even_above_the_max_position() -> None:
    book = make_book(max_position=5)
    hold(book, "8")  # the limit was lowered under the position
    assert book.check(order("SELL", "1"), NOW).approved
    denied(book.check(order("BUY", "0.001"), NOW), DenialCode.MAX_POSITION)


def test_instrument_max_position_overrides_the_global_one() -> None:
    book = make_book(max_position=5, **{"instrument:ETHUSDT.BINANCE:max_position": 100})
    assert book.check(order("BUY", "60", instrument_id=ETH), NOW).approved
    message = denied(book.check(order("BUY", "101", instrument_id=ETH), NOW), "MAX_POSITION")
    assert message.endswith("beyond the limit 100")
    denied(book.check(order("BUY", "6"), NOW), DenialCode.MAX_POSITION)


# -- REDUCING -------------------------------------------------------------------------------


def test_reducing_allows_an_order_that_reduces_the_position() -> None:
    book = make_book()
    hold(book, "2")
    book.set_state(RiskScope.ACCOUNT, ACCOUNT, TradingState.REDUCING, "drawdown")
    assert book.check(order("SELL", "2"), NOW).approved
    denied(book.check(order("SELL", "2.001"), NOW), DenialCode.TRADING_REDUCING)
    denied(book.check(order("BUY", "0.001"), NOW), DenialCode.TRADING_REDUCING)


def test_reducing_counts_the_orders_open_that_side() -> None:
    book = make_book()
    hold(book, "2")
    submit(book, order("SELL", "1.5"))
    book.set_state(RiskScope.STRATEGY, S1, TradingState.REDUCING, "drawdown")
    assert book.check(order("SELL", "0.5"), NOW).approved
    denied(book.check(order("SELL", "0.6"), NOW), DenialCode.TRADING_REDUCING)


def test_reducing_needs_the_strategy_position_to_shrink_too() -> None:
    book = make_book()
    hold(book, "1", strategy=S1)
    hold(book, "3", strategy=S2)  # net 4: selling 2 shrinks it but flips S1 short
    book.set_state(RiskScope.ACCOUNT, ACCOUNT, TradingState.REDUCING, "drawdown")
    denied(book.check(order("SELL", "2", strategy_id=S1), NOW), DenialCode.TRADING_REDUCING)
    assert book.check(order("SELL", "2", strategy_id=S2), NOW).approved


def test_reducing_counts_other_strategies_orders_open_that_side() -> None:
    book = make_book()
    hold(book, "2", strategy=S1)
    submit(book, order("SELL", "2", strategy_id=S2))  # S2 going short, before REDUCING
    book.set_state(RiskScope.ACCOUNT, ACCOUNT, TradingState.REDUCING, "drawdown")
    denied(book.check(order("SELL", "2", strategy_id=S1), NOW), DenialCode.TRADING_REDUCING)


def test_reducing_needs_the_instrument_net_position_to_shrink_too() -> None:
    book = make_book()
    hold(book, "2", strategy=S1)
    hold(book, "-3", strategy=S2)  # net -1: selling more grows the account's short
    book.set_state(RiskScope.ACCOUNT, ACCOUNT, TradingState.REDUCING, "drawdown")
    denied(book.check(order("SELL", "1"), NOW), DenialCode.TRADING_REDUCING)


# -- exposure -------------------------------------------------------------------------------


def test_order_that_takes_gross_exposure_past_the_limit_is_denied() -> None:
    book = make_book(max_gross_exposure=70000)
    hold(book, "1")  # 40000
    hold(book, "-10", iid=ETH)  # 20000
    assert book.check(order("BUY", "0.25"), NOW).approved  # 50000 + 20000
    message = denied(book.check(order("BUY", "0.3"), NOW), DenialCode.MAX_GROSS_EXPOSURE)
    assert message == "gross exposure would reach 72000.0, beyond the limit 70000"


def test_order_that_takes_net_exposure_past_the_limit_is_denied() -> None:
    book = make_book(max_net_exposure=25000)
    hold(book, "1")
    hold(book, "-10", iid=ETH)  # net 40000 - 20000 = 20000
    message = denied(book.check(order("BUY", "0.2"), NOW), DenialCode.MAX_NET_EXPOSURE)
    assert message == "net exposure would reach 28000.0, beyond the limit 25000"
    assert book.check(order("SELL", "5", instrument_id=ETH), NOW).approved  # net 10000


def test_order_that_reduces_exposure_passes_above_the_limits() -> None:
    book = make_book(max_gross_exposure=10000, max_net_exposure=10000)
    hold(book, "1")
    assert book.check(order("SELL", "0.5"), NOW).approved
    denied(book.check(order("BUY", "0.001"), NOW), DenialCode.MAX_GROSS_EXPOSURE)


# -- buying power ---------------------------------------------------------------------------


def test_buy_needs_its_value_in_free_quote_currency() -> None:
    book = make_book({"USDT": "1000", "BTC": "0"})
    assert book.check(order("BUY", "0.025"), NOW).approved
    message = denied(book.check(order("BUY", "0.03"), NOW), DenialCode.INSUFFICIENT_BALANCE)
    assert message == "needs 1200.00 USDT, free 1000 USDT"


def test_sell_needs_its_quantity_in_free_base_currency() -> None:
    book = make_book({"USDT": "0", "BTC": "0.5"})
    assert book.check(order("SELL", "0.5"), NOW).approved
    message = denied(book.check(order("SELL", "0.6"), NOW), DenialCode.INSUFFICIENT_BALANCE)
    assert message == "needs 0.6 BTC, free 0.5 BTC"


def test_approved_buy_not_yet_accepted_reserves_its_value() -> None:
    book = make_book({"USDT": "1000"})
    first = order("BUY", "0.02", "40000")
    submit(book, first)  # 800 reserved
    message = denied(
        book.check(order("BUY", "0.006", "40000"), NOW), DenialCode.INSUFFICIENT_BALANCE
    )
    assert message == "needs 240.000 USDT, free 200.00 USDT"
    book.on_accepted(first.client_order_id)  # execution's balance holds it from here
    assert book.free(ACCOUNT, "USDT") == D("1000")
    assert book.check(order("BUY", "0.006", "40000"), NOW).approved


def test_approved_sell_not_yet_accepted_reserves_its_quantity() -> None:
    book = make_book({"BTC": "1"})
    first = order("SELL", "0.7")
    submit(book, first)
    message = denied(book.check(order("SELL", "0.5"), NOW), DenialCode.INSUFFICIENT_BALANCE)
    assert message == "needs 0.5 BTC, free 0.3 BTC"
    book.on_done(first.client_order_id)  # denied or rejected before execution locked it
    assert book.check(order("SELL", "0.5"), NOW).approved


def test_fill_before_acceptance_releases_what_it_filled() -> None:
    book = make_book({"USDT": "1000"})
    first = order("BUY", "0.02", "40000")
    submit(book, first)
    fill(book, first, "0.015")  # 0.005 left, 200 still reserved
    assert book.free(ACCOUNT, "USDT") == D("800")
    fill(book, first, "0.005")
    assert book.free(ACCOUNT, "USDT") == D("1000")
    assert first.client_order_id not in book.orders


def test_acceptance_after_a_fill_releases_the_rest_once() -> None:
    book = make_book({"USDT": "1000"})
    first = order("BUY", "0.02", "40000")
    submit(book, first)
    fill(book, first, "0.01")
    book.on_accepted(first.client_order_id)
    book.on_accepted(first.client_order_id)
    book.on_done(first.client_order_id)
    assert book.free(ACCOUNT, "USDT") == D("1000")


# -- open orders ----------------------------------------------------------------------------


def test_account_with_its_max_open_orders_is_denied_more() -> None:
    book = make_book(max_open_orders=2)
    first, second = order(strategy_id=S1), order(strategy_id=S2)
    submit(book, first)
    submit(book, second)
    message = denied(book.check(order(), NOW), DenialCode.MAX_OPEN_ORDERS)
    assert message == "account BINANCE-001 has 2 orders open already"
    book.on_done(first.client_order_id)
    assert book.check(order(), NOW).approved


def test_strategy_with_its_max_open_orders_is_denied_more() -> None:
    book = make_book(max_open_orders_per_strategy=2)
    first = order()
    submit(book, first)
    submit(book, order())
    message = denied(book.check(order(), NOW), DenialCode.MAX_OPEN_ORDERS)
    assert message == "strategy s1 has 2 orders open already"
    assert book.check(order(strategy_id=S2), NOW).approved
    fill(book, first, "1")  # filled: no longer open
    assert book.check(order(), NOW).approved


def test_orders_learned_from_execution_count_as_open() -> None:
    book = make_book(max_open_orders=1)
    book.learn_open(order(), D("0.5"))
    denied(book.check(order(), NOW), DenialCode.MAX_OPEN_ORDERS)


# -- rates ----------------------------------------------------------------------------------


def test_strategy_submitting_faster_than_its_rate_is_denied() -> None:
    book = make_book(max_submits_per_second_strategy=2)
    submit(book, order(), NOW)
    submit(book, order(), NOW + SECOND // 2)
    message = denied(book.check(order(), NOW + SECOND - 1), DenialCode.SUBMIT_RATE)
    assert message == "strategy s1 sent 2 orders in the last second already"
    assert book.check(order(strategy_id=S2), NOW + SECOND - 1).approved
    assert book.check(order(), NOW + SECOND).approved  # the first is a second old


def test_account_submitting_faster_than_its_rate_is_denied() -> None:
    book = make_book(max_submits_per_second_account=3)
    for strategy in (S1, S2, S1):
        assert submit(book, order(strategy_id=strategy)).approved
    message = denied(book.check(order(strategy_id=S2), NOW + 1), DenialCode.SUBMIT_RATE)
    assert message == "account BINANCE-001 sent 3 orders in the last second already"


def test_denied_orders_do_not_count_towards_the_rate() -> None:
    book = make_book(max_submits_per_second_strategy=1, max_order_quantity=1)
    denied(submit(book, order(qty="2")), DenialCode.MAX_ORDER_QUANTITY)
    assert submit(book, order()).approved


def test_recent_submits_are_forgotten_while_the_rate_limits_are_off() -> None:
    book = make_book()
    for i in range(10):
        book.approved(order(), NOW + i * SECOND)
    assert book.rate("submit", S1, NOW + 9 * SECOND) == 1
    assert all(len(stamps) == 1 for stamps in book._stamps.values())
