"""The account's exposure that risk keeps as fills, positions and prices come in: it must
always be what adding up every instrument held at its last price gives."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from foxtrot.core.enums import OrderSide, OrderType
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.portfolio import Position
from foxtrot.core.risk import SWITCHABLE, RiskBook, RiskLimits

D = Decimal
ACCOUNT = AccountId("SIM-001")
INSTRUMENTS = tuple(InstrumentId(symbol, "SIM") for symbol in ("BTC", "ETH", "SOL", "EUR/USD"))
STRATEGIES = (StrategyId("s1"), StrategyId("s2"))
NOW = 1_700_000_000_000_000_000
_ids = itertools.count(1)


def make_book() -> RiskBook:
    book = RiskBook(RiskLimits.from_values({}, SWITCHABLE), ACCOUNT)
    for iid in INSTRUMENTS:
        book.instruments[iid] = Instrument(iid, iid.symbol, "USD", D("0.00001"), D("0.001"), D(0))
    book.known.update(dict.fromkeys(book.known, True))
    return book


def added_up(book: RiskBook) -> tuple[Decimal, Decimal]:
    """Gross and net exposure, every instrument valued again at its last price."""
    gross = net = D(0)
    for iid, quantity in book.net.items():
        value = quantity * book.prices.get(iid, D(0))
        gross += abs(value)
        net += value
    return gross, net


def fresh(iid: InstrumentId) -> InstrumentId:
    """An equal id, as another message decodes it: not the object the book holds."""
    return InstrumentId(iid.symbol, iid.venue)


instruments = st.sampled_from(INSTRUMENTS).map(fresh)
quantities = st.integers(min_value=1, max_value=50_000).map(lambda lots: lots * D("0.001"))
prices = st.one_of(
    st.integers(min_value=1, max_value=10_000_000).map(lambda ticks: ticks * D("0.01")),
    st.integers(min_value=1, max_value=200_000).map(lambda ticks: ticks * D("0.00001")),
    st.sampled_from([D(40000), D("40000.00"), D("0.5")]),  # the same value, other digits
)


class ExposureFollowsTheBook(RuleBasedStateMachine):
    """Fills, position snapshots, orders, cancels and price moves in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.book = make_book()
        self.open: list[OrderSpec] = []

    @rule(iid=instruments, price=prices)
    def price_moves(self, iid: InstrumentId, price: Decimal) -> None:
        self.book.prices[iid] = price

    @rule(iid=instruments)
    def price_is_forgotten(self, iid: InstrumentId) -> None:
        if iid in self.book.prices:
            del self.book.prices[iid]

    @rule(strategy=st.sampled_from(STRATEGIES), iid=instruments, quantity=quantities)
    def execution_reports_a_position(
        self, strategy: StrategyId, iid: InstrumentId, quantity: Decimal
    ) -> None:
        self.book.set_position(Position(strategy, iid, quantity, quantity))

    @rule(
        strategy=st.sampled_from(STRATEGIES),
        iid=instruments,
        side=st.sampled_from(OrderSide),
        quantity=quantities,
    )
    def order_is_approved(
        self, strategy: StrategyId, iid: InstrumentId, side: OrderSide, quantity: Decimal
    ) -> None:
        spec = OrderSpec(
            ClientOrderId(f"o-{next(_ids)}"),
            strategy,
            ACCOUNT,
            iid,
            side,
            OrderType.MARKET,
            quantity,
        )
        self.book.approved(spec, NOW)
        self.open.append(spec)

    @precondition(lambda self: self.open)
    @rule(pick=st.integers(min_value=0), part=st.integers(min_value=1, max_value=4), price=prices)
    def order_fills(self, pick: int, part: int, price: Decimal) -> None:
        spec = self.open[pick % len(self.open)]
        open_order = self.book.orders[spec.client_order_id]
        quantity = max(D("0.001"), (open_order.remaining / part).quantize(D("0.001")))
        quantity = min(quantity, open_order.remaining)
        self.book.on_fill(
            spec.client_order_id,
            spec.strategy_id,
            fresh(spec.instrument_id),
            spec.side,
            quantity,
            price,
            D(0),
            NOW,
        )
        if spec.client_order_id not in self.book.orders:
            self.open.remove(spec)

    @precondition(lambda self: self.open)
    @rule(pick=st.integers(min_value=0))
    def order_is_canceled(self, pick: int) -> None:
        spec = self.open.pop(pick % len(self.open))
        self.book.on_done(spec.client_order_id)

    @invariant()
    def totals_are_the_sum_over_every_instrument(self) -> None:
        exposure = self.book.exposure
        assert (exposure.gross, exposure.net) == added_up(self.book)
        assert exposure.values == {
            iid: quantity * self.book.prices[iid]
            for iid, quantity in self.book.net.items()
            if quantity and self.book.prices.get(iid)
        }

    @invariant()
    def an_orders_exposure_is_the_same_either_way(self) -> None:
        for iid in INSTRUMENTS:
            for position, price in ((D("1.5"), D(100)), (D(-2), D("0.01")), (D(0), D(7))):
                fast = self.book.exposure_with(iid, position, price)
                assert fast == self.book.exposure_added_up(iid, position, price)


ExposureFollowsTheBook.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None
)
test_exposure_follows_fills_positions_and_prices = ExposureFollowsTheBook.TestCase


def test_a_fill_and_a_price_move_revalue_the_exposure() -> None:
    book = make_book()
    btc, eth = INSTRUMENTS[:2]
    book.prices[btc], book.prices[eth] = D(40000), D(2000)
    book.set_position(Position(STRATEGIES[0], btc, D("0.5"), D(20000)))
    book.set_position(Position(STRATEGIES[1], fresh(eth), D(-3), D(6000)))
    assert (book.exposure.gross, book.exposure.net) == (D(26000), D(14000))
    book.prices[fresh(btc)] = D(42000)
    assert (book.exposure.gross, book.exposure.net) == (D(27000), D(15000))
    del book.prices[eth]  # no price: valued at nothing, as before
    assert (book.exposure.gross, book.exposure.net) == (D(21000), D(21000))


def test_the_exposure_with_an_order_leaves_the_instruments_position_out() -> None:
    book = make_book()
    btc, eth = INSTRUMENTS[:2]
    book.prices[btc], book.prices[eth] = D(40000), D(2000)
    book.set_position(Position(STRATEGIES[0], btc, D("0.5"), D(20000)))
    book.set_position(Position(STRATEGIES[0], eth, D(-3), D(6000)))
    assert book.exposure_with(fresh(btc), D("0.8"), D(41000)) == (D(38800), D(26800))


def test_a_denial_shows_the_exposure_as_the_instruments_add_up_at_todays_prices() -> None:
    book = make_book()
    book.limits = RiskLimits.from_values({"max_gross_exposure": "70000"}, SWITCHABLE)
    book.set_balances(ACCOUNT, [("USD", D(10**9))])
    btc, eth = INSTRUMENTS[:2]
    book.prices[btc], book.prices[eth] = D(40000), D("2000.25")
    book.set_position(Position(STRATEGIES[0], eth, D(-3), D(6000)))
    book.prices[eth] = D(2000)  # the totals keep the digits of 2000.25 x 3
    spec = OrderSpec(
        ClientOrderId("o-big"),
        STRATEGIES[0],
        ACCOUNT,
        btc,
        OrderSide.BUY,
        OrderType.MARKET,
        D("1.7"),
    )
    denial = book.check(spec, NOW).denial
    assert denial is not None
    assert denial.message == "gross exposure would reach 74000.0, beyond the limit 70000"


def test_a_price_that_is_not_a_number_spoils_the_exposure_only_until_it_is_replaced() -> None:
    book = make_book()
    btc, eth = INSTRUMENTS[:2]
    book.prices[btc], book.prices[eth] = D(40000), D(2000)
    book.set_position(Position(STRATEGIES[0], btc, D("0.5"), D(20000)))
    book.set_position(Position(STRATEGIES[0], eth, D(-3), D(6000)))
    book.prices[btc] = D("NaN")
    assert book.exposure.gross.is_nan()
    book.prices[btc] = D(41000)
    assert (book.exposure.gross, book.exposure.net) == added_up(book) == (D(26500), D(14500))


@pytest.mark.parametrize(
    "write",
    [
        lambda prices: prices.update({INSTRUMENTS[0]: D(1)}),
        lambda prices: prices.pop(INSTRUMENTS[0]),
        lambda prices: prices.setdefault(INSTRUMENTS[0], D(1)),
        lambda prices: prices.clear(),
    ],
)
def test_prices_are_written_one_at_a_time_so_none_escapes_the_exposure(
    write: Callable[[dict[InstrumentId, Decimal]], object],
) -> None:
    book = make_book()
    book.prices[INSTRUMENTS[0]] = D(5)
    with pytest.raises(TypeError, match="one at a time"):
        write(book.prices)
    assert book.prices == {INSTRUMENTS[0]: D(5)}
