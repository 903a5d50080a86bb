"""Pre-trade risk on a modify: the order as it would be after the change is judged, what
has filled stays filled, and a modify that took effect changes what the book counts."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

from foxtrot.core.enums import OrderSide, OrderType, RiskScope, TradingState
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.portfolio import Position
from foxtrot.core.risk import MODIFY_RULES, SWITCHABLE, Decision, DenialCode, RiskBook, RiskLimits

D = Decimal
BTC = InstrumentId("BTCUSDT", "BINANCE")
ACCOUNT = AccountId("BINANCE-001")
S1, S2 = StrategyId("s1"), StrategyId("s2")
NOW = 1_700_000_000_000_000_000
SECOND = 1_000_000_000
_ids = itertools.count(1)


def make_book(balances: dict[str, str] | None = None, **limits: object) -> RiskBook:
    """A book that knows its state: BTC at 40000, plenty of money unless ``balances``."""
    values = {name: None if v is None else str(v) for name, v in limits.items()}
    book = RiskBook(RiskLimits.from_values(values, SWITCHABLE), ACCOUNT)
    book.instruments[BTC] = Instrument(BTC, "BTC", "USDT", D("0.01"), D("0.001"), D("0.001"))
    book.prices[BTC] = D("40000")
    free = balances or {"USDT": "10000000", "BTC": "1000"}
    book.set_balances(ACCOUNT, [(currency, D(amount)) for currency, amount in free.items()])
    book.known.update(dict.fromkeys(book.known, True))
    return book


def open_order(
    book: RiskBook,
    side: str = "BUY",
    qty: str = "1",
    price: str | None = "40000",
    strategy: StrategyId = S1,
) -> OrderSpec:
    """An order approved and accepted."""
    spec = OrderSpec(
        ClientOrderId(f"o-{next(_ids)}"),
        strategy,
        ACCOUNT,
        BTC,
        OrderSide(side),
        OrderType.LIMIT if price is not None else OrderType.MARKET,
        D(qty),
        price=None if price is None else D(price),
    )
    assert book.check(spec, NOW).approved
    book.approved(spec, NOW)
    book.on_accepted(spec.client_order_id)
    return spec


def market(side: str, qty: str) -> OrderSpec:
    return OrderSpec(
        ClientOrderId(f"o-{next(_ids)}"),
        S1,
        ACCOUNT,
        BTC,
        OrderSide(side),
        OrderType.MARKET,
        D(qty),
    )


def fill(book: RiskBook, spec: OrderSpec, qty: str) -> None:
    book.on_fill(
        spec.client_order_id,
        spec.strategy_id,
        BTC,
        spec.side,
        D(qty),
        spec.price or D(40000),
        D(0),
        NOW,
    )


def denied(decision: Decision, code: str) -> str:
    """The denial's message, after checking its code."""
    assert decision.denial is not None, f"expected {code}, was approved"
    assert decision.denial.code == code, decision.denial
    return decision.denial.message


def test_modify_of_an_order_not_open_is_denied() -> None:
    book = make_book()
    decision = book.check_modify(ClientOrderId("o-missing"), NOW, quantity=D(2))
    assert denied(decision, DenialCode.ORDER_UNKNOWN) == "no open order o-missing"
    assert decision.results == (("order", DenialCode.ORDER_UNKNOWN),)


def test_modify_of_an_order_done_already_is_denied() -> None:
    book = make_book()
    spec = open_order(book)
    book.on_done(spec.client_order_id)
    denied(book.check_modify(spec.client_order_id, NOW, price=D(39000)), "ORDER_UNKNOWN")


def test_modify_that_makes_the_order_invalid_is_denied() -> None:
    book = make_book()
    spec = open_order(book, price=None)
    decision = book.check_modify(spec.client_order_id, NOW, price=D(39000))
    assert denied(decision, DenialCode.INVALID_ORDER) == "a MARKET order takes no price, was 39000"
    assert decision.results == (("order", DenialCode.INVALID_ORDER),)


def test_modify_to_what_has_filled_or_less_is_denied() -> None:
    book = make_book()
    spec = open_order(book, qty="1")
    fill(book, spec, "0.6")
    message = denied(book.check_modify(spec.client_order_id, NOW, D("0.6")), "INVALID_ORDER")
    assert message == "quantity must exceed the 0.6 already filled, was 0.6"
    assert book.check_modify(spec.client_order_id, NOW, D("0.601")).approved


def test_modify_judges_the_order_as_changed() -> None:
    book = make_book(max_order_quantity=2)
    spec = open_order(book)
    message = denied(book.check_modify(spec.client_order_id, NOW, D(3)), "MAX_ORDER_QUANTITY")
    assert message == "quantity must be at most 2, was 3"
    denied(book.check_modify(spec.client_order_id, NOW, price=D("1.001")), "PRICE_NOT_ON_TICK")


def test_modify_that_would_breach_the_max_position_is_denied() -> None:
    book = make_book(max_position=5)
    spec = open_order(book, qty="3")
    open_order(book, qty="1")
    message = denied(book.check_modify(spec.client_order_id, NOW, D("4.5")), "MAX_POSITION")
    assert message == (
        "position would reach 5.5 with this order and those open, beyond the limit 5"
    )
    assert book.check_modify(spec.client_order_id, NOW, D(4)).approved  # 3 not counted twice


def test_modify_of_a_partly_filled_order_counts_only_what_would_be_left() -> None:
    book = make_book(max_position=5)
    spec = open_order(book, qty="4")
    fill(book, spec, "3")  # position 3, 1 open
    assert book.check_modify(spec.client_order_id, NOW, D(5)).approved  # 3 + 2 left
    message = denied(book.check_modify(spec.client_order_id, NOW, D("5.1")), "MAX_POSITION")
    assert message.startswith("position would reach 5.1 ")


def test_modify_that_reduces_a_partly_filled_closing_order_passes_while_reducing() -> None:
    book = make_book()
    book.set_position(Position(S1, BTC, D(10), D(400000)))
    spec = open_order(book, "SELL", "10")
    fill(book, spec, "6")  # position 4, 4 left to sell
    book.set_state(RiskScope.ACCOUNT, ACCOUNT, TradingState.REDUCING, "drawdown")
    assert book.check_modify(spec.client_order_id, NOW, D(9)).approved  # 3 left
    assert book.check_modify(spec.client_order_id, NOW, D(10)).approved  # 4 left
    denied(book.check_modify(spec.client_order_id, NOW, D("10.001")), "TRADING_REDUCING")


def test_approved_rise_in_quantity_counts_before_the_venue_confirms_it() -> None:
    book = make_book(max_position=5)
    spec = open_order(book, qty="1")
    assert book.check_modify(spec.client_order_id, NOW, D(4)).approved
    book.modified(replace(spec, quantity=D(4)), NOW)
    assert book.projected(spec, None) == D(5)  # 4 asked, 1 more
    denied(book.check(market("BUY", "2"), NOW), DenialCode.MAX_POSITION)
    book.on_updated(spec.client_order_id, D(4), None)
    assert book.projected(spec, None) == D(5)
    denied(book.check(market("BUY", "2"), NOW), DenialCode.MAX_POSITION)


def test_a_pending_rise_is_not_counted_twice_by_the_next_modify() -> None:
    book = make_book(max_position=5)
    spec = open_order(book, qty="1")
    book.modified(replace(spec, quantity=D(4)), NOW)
    assert book.check_modify(spec.client_order_id, NOW, D(5)).approved
    denied(book.check_modify(spec.client_order_id, NOW, D("5.001")), "MAX_POSITION")


def test_a_rise_the_venue_refused_stays_counted_until_the_order_ends() -> None:
    book = make_book(max_position=5)
    spec = open_order(book, qty="1")
    book.modified(replace(spec, quantity=D(4)), NOW)  # no OrderUpdated comes
    fill(book, spec, "0.5")
    assert book.projected(spec, None) == D(5)  # 0.5 filled, 0.5 left, 3 asked more
    fill(book, spec, "0.5")
    assert book.projected(spec, None) == D(2)  # filled: done, nothing asked any more


def test_confirming_an_earlier_modify_keeps_a_larger_later_one_counted() -> None:
    book = make_book(max_position=10)
    spec = open_order(book, qty="1")
    book.modified(replace(spec, quantity=D(2)), NOW)
    book.modified(replace(spec, quantity=D(6)), NOW)
    book.on_updated(spec.client_order_id, D(2), None)
    assert book.projected(spec, None) == D(7)  # 6 may still come, 1 more
    book.on_updated(spec.client_order_id, D(6), None)
    assert book.projected(spec, None) == D(7)


def test_a_later_cut_becomes_a_rise_when_an_earlier_smaller_one_is_confirmed() -> None:
    book = make_book(max_position=10)
    spec = open_order(book, qty="4")
    book.modified(replace(spec, quantity=D(1)), NOW)
    book.modified(replace(spec, quantity=D(3)), NOW)  # less than the 4 open: no rise yet
    assert book.projected(spec, None) == D(8)  # 4 open, 4 more
    book.on_updated(spec.client_order_id, D(1), None)
    assert book.projected(spec, None) == D(7)  # 3 may still come, 4 more
    book.on_updated(spec.client_order_id, D(3), None)
    assert book.projected(spec, None) == D(7)


def test_a_modify_with_the_order_unchanged_counts_no_rise() -> None:
    book = make_book(max_position=5)
    spec = open_order(book, qty="1")
    book.modified(spec, NOW)
    assert book.projected(spec, None) == D(2)


def test_halted_denies_modifies() -> None:
    book = make_book()
    spec = open_order(book)
    book.set_state(RiskScope.STRATEGY, S1, TradingState.HALTED, "by hand")
    message = denied(book.check_modify(spec.client_order_id, NOW, price=D(39000)), "TRADING_HALTED")
    assert message == "strategy s1 is HALTED: by hand"


def test_modify_results_list_the_modify_rules() -> None:
    book = make_book()
    spec = open_order(book)
    decision = book.check_modify(spec.client_order_id, NOW, price=D(39000))
    assert decision.results == tuple((name, None) for name, _ in MODIFY_RULES)


def test_strategy_modifying_faster_than_its_rate_is_denied() -> None:
    book = make_book(max_modifies_per_second_strategy=2)
    spec = open_order(book)
    for i in range(2):
        assert book.check_modify(spec.client_order_id, NOW + i, price=D(39000)).approved
        book.modified(spec, NOW + i)
    message = denied(book.check_modify(spec.client_order_id, NOW + 2, price=D(1)), "MODIFY_RATE")
    assert message == "strategy s1 sent 2 modifies in the last second already"
    assert book.check_modify(spec.client_order_id, NOW + SECOND, price=D(39000)).approved


def test_account_modifying_faster_than_its_rate_is_denied() -> None:
    book = make_book(max_modifies_per_second_account=2)
    first, second = open_order(book, strategy=S1), open_order(book, strategy=S2)
    for spec in (first, second):
        book.modified(spec, NOW)
    message = denied(book.check_modify(first.client_order_id, NOW, price=D(1)), "MODIFY_RATE")
    assert message == "account BINANCE-001 sent 2 modifies in the last second already"


def test_modifies_do_not_count_as_submits() -> None:
    book = make_book(max_submits_per_second_strategy=2)
    spec = open_order(book)
    book.modified(spec, NOW)
    book.modified(spec, NOW)
    assert book.check(market("BUY", "1"), NOW).approved


def test_modify_that_took_effect_changes_the_quantity_counted_open() -> None:
    book = make_book(max_position=5)
    spec = open_order(book, qty="4")
    fill(book, spec, "1")
    book.on_updated(spec.client_order_id, D(2), None)  # 1 left
    assert book.orders[spec.client_order_id].remaining == D(1)
    assert book.projected(spec, None) == D(6)  # position 1, 1 open, 4 more


def test_update_to_no_more_than_has_filled_ends_the_order() -> None:
    book = make_book()
    spec = open_order(book, qty="4")
    fill(book, spec, "1")
    book.on_updated(spec.client_order_id, D(1), None)  # the venue cut it to what filled
    assert spec.client_order_id not in book.orders
    assert book.projected(spec, None) == D(5)  # position 1, nothing open, 4 more


def test_modify_of_an_order_not_yet_accepted_reserves_at_its_new_size_and_price() -> None:
    book = make_book({"USDT": "1000"})
    spec = OrderSpec(
        ClientOrderId("o-unacked"), S1, ACCOUNT, BTC, OrderSide.BUY, OrderType.LIMIT, D("0.02"),
        price=D(40000),
    )  # fmt: skip
    book.approved(spec, NOW)  # 800 reserved
    book.on_updated(spec.client_order_id, D("0.01"), D(30000))
    assert book.free(ACCOUNT, "USDT") == D(700)
    book.on_done(spec.client_order_id)
    assert book.free(ACCOUNT, "USDT") == D(1000)
