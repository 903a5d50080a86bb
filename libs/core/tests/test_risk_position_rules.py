"""Pre-trade risk rules about positions: reduce-only, max position (with the orders open),
REDUCING, and gross and net exposure."""

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
_ids = itertools.count(1)


def make_book(**limits: object) -> RiskBook:
    """A book that knows its state: BTC at 40000 and ETH at 2000, plenty of money."""
    values = {name: None if v is None else str(v) for name, v in limits.items()}
    book = RiskBook(RiskLimits.from_values(values, SWITCHABLE), ACCOUNT)
    for iid, base in ((BTC, "BTC"), (ETH, "ETH")):
        book.instruments[iid] = Instrument(iid, base, "USDT", D("0.01"), D("0.001"), D("0.001"))
    book.prices[BTC], book.prices[ETH] = D("40000"), D("2000")
    book.set_balances(ACCOUNT, [("USDT", D(10**7)), ("BTC", D(1000)), ("ETH", D(1000))])
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
