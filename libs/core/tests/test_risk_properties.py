"""Property tests: whatever orders, fills, cancels, modifies, price moves and trading-state
switches come in, risk never approves its way past max_position, an order approved while
REDUCING never makes a position grow, and nothing is approved while HALTED.

The book is driven as the service drives it: ``check`` then ``approved`` or ``denied``;
``check_modify`` then ``modified`` with the order as changed, and ``on_updated`` only when
the venue applies the modify, later or never; fills through ``on_fill``, acknowledgements
through ``on_accepted``, cancels through ``on_done``. The test keeps its own account of
positions and open orders from what it sent and checks the invariants against that, not
against the book's counters. Every invariant is checked in every test; the tests differ in
the sequences they generate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from foxtrot.core.enums import OrderSide, OrderType, RiskScope, TradingState
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.risk import SWITCHABLE, DenialCode, RiskBook, RiskLimits

D = Decimal
ACCOUNT = AccountId("SIM-001")
BTC = InstrumentId("BTC-PERP", "SIM")
ETH = InstrumentId("ETH-PERP", "SIM")
INSTRUMENTS = (BTC, ETH)
STRATEGIES = (StrategyId("s1"), StrategyId("s2"), StrategyId("s3"))
LIMIT = {BTC: D(5), ETH: D(3)}  # max_position: BTC by the global limit, ETH by its own
START_PRICE = {BTC: D(100), ETH: D(20)}
LOT = D("0.1")
Scope = tuple[RiskScope, str]
SCOPES: tuple[Scope, ...] = (
    (RiskScope.ACCOUNT, ACCOUNT),
    *((RiskScope.STRATEGY, s) for s in STRATEGIES),
    *((RiskScope.INSTRUMENT, str(i)) for i in INSTRUMENTS),
)
# HALTED denies everything, so it comes up less often than the other two.
STATES = (TradingState.ACTIVE, TradingState.REDUCING) * 2 + (TradingState.HALTED,)
TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET)

lots = st.integers(min_value=1, max_value=40)  # 0.1 to 4.0
picks = st.integers(min_value=0, max_value=1_000)  # an open order, by position
moves = st.integers(min_value=-20, max_value=20)  # percent from the starting price
strategies, instruments = st.sampled_from(STRATEGIES), st.sampled_from(INSTRUMENTS)
sides = st.sampled_from(OrderSide)
submit = st.tuples(
    st.just("submit"), strategies, instruments, sides, lots, st.sampled_from(TYPES), moves,
    st.booleans(),
)  # fmt: skip
to_the_limit = st.tuples(st.just("to_the_limit"), strategies, instruments, sides)
reduce = st.tuples(st.just("reduce"), strategies, instruments, lots)
take = st.tuples(st.just("take"), strategies, instruments, sides, lots)  # fills at once
fill = st.tuples(st.just("fill"), picks, lots, moves)
modify = st.tuples(st.just("modify"), picks, lots)
modify_to_the_limit = st.tuples(st.just("modify_to_the_limit"), picks)
cancel = st.tuples(st.just("cancel"), picks)
venue = st.one_of(
    st.tuples(st.just("accept"), picks),
    cancel,
    st.tuples(st.just("confirm"), picks),  # the venue applies the oldest modify asked
    st.tuples(st.just("refuse"), picks),  # the venue refuses it
    st.tuples(st.just("price"), instruments, moves),
)
switch = st.tuples(st.just("state"), st.sampled_from(SCOPES), st.sampled_from(STATES))
trading = st.one_of(
    submit, take, to_the_limit, reduce, reduce, fill, fill, modify, modify_to_the_limit, venue
)


@dataclass
class Approval:
    """When risk approved an order's quantity, and its scopes that were REDUCING then."""

    step: int
    reducing: tuple[Scope, ...]


@dataclass
class Sent:
    """An order the test sent and risk approved, as the test accounts for it."""

    spec: OrderSpec
    remaining: Decimal
    approval: Approval  # of its quantity now
    asked: list[tuple[Decimal, Approval]] = field(default_factory=list)  # modifies unanswered

    @property
    def at_most(self) -> Decimal:
        """The most it may still fill, whichever modify the venue applies."""
        asked = max([self.spec.quantity, *(quantity for quantity, _ in self.asked)])
        return asked - (self.spec.quantity - self.remaining)


@dataclass
class Run:
    """A book and the test's own account of what happened to it."""

    book: RiskBook
    now: int = 1_700_000_000_000_000_000
    step: int = 0
    ids: int = 0
    open: dict[ClientOrderId, Sent] = field(default_factory=dict)
    positions: dict[tuple[StrategyId, InstrumentId], Decimal] = field(default_factory=dict)
    states: dict[Scope, TradingState] = field(default_factory=dict)
    went_active: dict[Scope, int] = field(default_factory=dict)

    # -- the test's account ---------------------------------------------------------------

    def state(self, scope: Scope) -> TradingState:
        return self.states.get(scope, TradingState.ACTIVE)

    def net(self, iid: InstrumentId) -> Decimal:
        return sum((q for (_, i), q in self.positions.items() if i == iid), D(0))

    def open_on(self, iid: InstrumentId, sign: int) -> Decimal:
        """The most the orders open that side may still fill."""
        return sum(
            (
                s.at_most
                for s in self.open.values()
                if s.spec.instrument_id == iid and s.spec.side.sign == sign
            ),
            D(0),
        )

    def pick(self, index: int) -> Sent | None:
        if not self.open:
            return None
        return list(self.open.values())[index % len(self.open)]

    def approval(self, spec: OrderSpec) -> Approval:
        reducing = [s for s in _scopes(spec) if self.state(s) is TradingState.REDUCING]
        return Approval(self.step, tuple(reducing))

    def judged(self, spec: OrderSpec, approved: bool, code: str | None) -> None:
        """What every judgement must respect: nothing passes while HALTED."""
        if any(self.state(scope) is TradingState.HALTED for scope in _scopes(spec)):
            assert not approved, f"{spec.client_order_id} approved while HALTED"
            assert code == DenialCode.TRADING_HALTED

    def check_max_position(self) -> None:
        """Whatever subset of the open orders fills, no net position passes its limit."""
        for iid in INSTRUMENTS:
            net, limit = self.net(iid), LIMIT[iid]
            buys, sells = self.open_on(iid, 1), self.open_on(iid, -1)
            assert net + buys <= limit, (iid, net, buys)
            assert net - sells >= -limit, (iid, net, sells)

    # -- what the service and the venue do ---------------------------------------------------

    def submit(self, spec: OrderSpec) -> None:
        self.step += 1
        self.now += 1_000_000
        decision = self.book.check(spec, self.now)
        self.judged(spec, decision.approved, decision.denial.code if decision.denial else None)
        if decision.approved:
            self.book.approved(spec, self.now)
            self.open[spec.client_order_id] = Sent(spec, spec.quantity, self.approval(spec))
        else:
            self.book.denied(spec)

    def modify(self, sent: Sent, quantity: Decimal) -> None:
        self.step += 1
        self.now += 1_000_000
        decision = self.book.check_modify(sent.spec.client_order_id, self.now, quantity=quantity)
        if quantity <= sent.spec.quantity - sent.remaining:
            assert decision.denial is not None
            assert decision.denial.code == DenialCode.INVALID_ORDER
            return
        code = decision.denial.code if decision.denial else None
        self.judged(sent.spec, decision.approved, code)
        if decision.approved:
            self.book.modified(replace(sent.spec, quantity=quantity), self.now)
            sent.asked.append((quantity, self.approval(sent.spec)))

    def answer(self, sent: Sent, applied: bool) -> None:
        """The venue applies or refuses the oldest modify asked of the order."""
        if not sent.asked:
            return
        quantity, approval = sent.asked.pop(0)
        filled = sent.spec.quantity - sent.remaining
        if applied and quantity > filled:  # else it filled past it meanwhile: refused
            self.book.on_updated(sent.spec.client_order_id, quantity, None)
            sent.spec = replace(sent.spec, quantity=quantity)
            sent.remaining, sent.approval = quantity - filled, approval

    def fill(self, sent: Sent, quantity: Decimal, price: Decimal) -> None:
        """A fill of the order; one approved while REDUCING must not make the positions
        of the scopes that were REDUCING grow, while they still are."""
        self.step += 1
        spec = sent.spec
        key = (spec.strategy_id, spec.instrument_id)
        quantity = min(quantity, sent.remaining)
        before = (abs(self.positions.get(key, D(0))), abs(self.net(spec.instrument_id)))
        self.positions[key] = self.positions.get(key, D(0)) + spec.side.sign * quantity
        after = (abs(self.positions[key]), abs(self.net(spec.instrument_id)))
        for scope in sent.approval.reducing:
            if self.went_active.get(scope, -1) > sent.approval.step:
                continue  # ACTIVE since then: orders that grow were allowed meanwhile
            assert after[0] <= before[0], f"{spec.client_order_id} grew {key} in {scope}"
            if scope[0] is not RiskScope.STRATEGY:  # every order of the instrument reduced
                assert after[1] <= before[1], f"{spec.client_order_id} grew the net in {scope}"
        self.book.on_fill(
            spec.client_order_id,
            spec.strategy_id,
            spec.instrument_id,
            spec.side,
            quantity,
            price,
            D(0),
            self.now,
        )
        sent.remaining -= quantity
        if sent.remaining == 0:
            del self.open[spec.client_order_id]

    def set_state(self, scope: Scope, state: TradingState) -> None:
        self.step += 1
        self.book.set_state(scope[0], scope[1], state, "property test")
        if state is TradingState.ACTIVE and self.state(scope) is not TradingState.ACTIVE:
            self.went_active[scope] = self.step
        self.states[scope] = state

    def play(self, action: tuple[Any, ...]) -> None:
        """One action, as the service would see it; then the max position is checked."""
        kind = action[0]
        if kind in ("submit", "to_the_limit", "reduce"):
            self.submit_of(action)
        elif kind == "take":
            _, strategy, iid, side, qty = action
            self.submit_of(("submit", strategy, iid, side, qty, OrderType.MARKET, 0, False))
            sent = self.open.get(ClientOrderId(f"o-{self.ids}"))
            if sent is not None:
                self.fill(sent, sent.remaining, price_of(iid, 0))
        elif kind == "state":
            self.set_state(action[1], action[2])
        elif kind == "price":
            self.book.prices[action[1]] = price_of(action[1], action[2])
        elif (sent := self.pick(action[1])) is None:
            return
        elif kind == "fill":
            self.fill(sent, action[2] * LOT, price_of(sent.spec.instrument_id, action[3]))
        elif kind == "modify":
            self.modify(sent, action[2] * LOT)
        elif kind == "modify_to_the_limit":  # raised as far as the limit allows
            iid, sign = sent.spec.instrument_id, sent.spec.side.sign
            room = LIMIT[iid] - sign * self.net(iid) - self.open_on(iid, sign)
            if room >= LOT:
                self.modify(sent, sent.spec.quantity + room)
        elif kind in ("confirm", "refuse"):
            self.answer(sent, kind == "confirm")
        elif kind == "accept":
            self.book.on_accepted(sent.spec.client_order_id)
        elif kind == "cancel":
            self.book.on_done(sent.spec.client_order_id)
            del self.open[sent.spec.client_order_id]
        self.check_max_position()

    def submit_of(self, action: tuple[Any, ...]) -> None:
        kind, strategy, iid = action[:3]
        order_type, move, reduce_only = OrderType.MARKET, 0, False
        if kind == "submit":
            side, qty, order_type, move, reduce_only = action[3:]
        elif kind == "to_the_limit":  # as much as the limit allows, forgetting open orders
            side = action[3]
            qty = int((LIMIT[iid] - side.sign * self.net(iid)) / LOT)
        else:  # part of the strategy's position back: what REDUCING lets through
            position = self.positions.get((strategy, iid), D(0))
            side = OrderSide.SELL if position > 0 else OrderSide.BUY
            qty = min(action[3], int(abs(position) / LOT))
        if qty < 1:
            return
        self.ids += 1
        price = price_of(iid, move)
        self.submit(
            OrderSpec(
                ClientOrderId(f"o-{self.ids}"),
                strategy,
                ACCOUNT,
                iid,
                side,
                order_type,
                qty * LOT,
                price=price if order_type is OrderType.LIMIT else None,
                trigger_price=price if order_type is OrderType.STOP_MARKET else None,
                reduce_only=reduce_only,
            )
        )

    def fill_everything(self, rng: Any) -> None:
        """Every order still open fills completely, in any order."""
        rest = list(self.open.values())
        rng.shuffle(rest)
        for sent in rest:
            self.fill(sent, sent.remaining, price_of(sent.spec.instrument_id, 0))
            for iid in INSTRUMENTS:
                assert abs(self.net(iid)) <= LIMIT[iid]
        assert self.book.net == {iid: self.net(iid) for iid in self.book.net}


def _scopes(spec: OrderSpec) -> tuple[Scope, ...]:
    return (
        (RiskScope.ACCOUNT, spec.account_id),
        (RiskScope.STRATEGY, spec.strategy_id),
        (RiskScope.INSTRUMENT, str(spec.instrument_id)),
    )


def price_of(iid: InstrumentId, move: int) -> Decimal:
    return START_PRICE[iid] * (100 + move) / 100


def make_book() -> RiskBook:
    limits = RiskLimits.from_values(
        {"max_position": "5", f"instrument:{ETH}:max_position": "3"}, SWITCHABLE
    )
    book = RiskBook(limits, ACCOUNT)
    for iid in INSTRUMENTS:
        book.instruments[iid] = Instrument(iid, iid.symbol[:3], "USD", D("0.01"), LOT, LOT)
        book.prices[iid] = START_PRICE[iid]
    book.set_balances(ACCOUNT, [("USD", D(10**12)), ("BTC", D(10**6)), ("ETH", D(10**6))])
    book.known.update(dict.fromkeys(book.known, True))
    return book


@settings(max_examples=250, deadline=None)
@given(st.lists(st.one_of(trading, switch), min_size=20, max_size=80), st.randoms())
@example(  # a new order while the venue works on a modify that raised another to the limit
    [
        ("submit", "s1", BTC, OrderSide.BUY, 10, OrderType.MARKET, 0, False),
        ("modify", 0, 50),
        ("submit", "s1", BTC, OrderSide.BUY, 10, OrderType.MARKET, 0, False),
        ("confirm", 0),
    ],
    random.Random(0),
)
def test_no_approved_order_takes_a_position_past_max_position(
    actions: list[tuple[Any, ...]], rng: Any
) -> None:
    run = Run(make_book())
    for action in actions:
        run.play(action)
    run.fill_everything(rng)


def reducing_in(scope: Scope) -> st.SearchStrategy[tuple[Any, ...]]:
    """Orders that reduce a position under ``scope``, partly fills, and cancels that
    clear the open orders in their way, with the other trading and switches between."""
    kind, key = scope
    within = st.tuples(
        st.just("reduce"),
        st.sampled_from([key]) if kind is RiskScope.STRATEGY else strategies,
        st.sampled_from([InstrumentId.parse(key)]) if kind is RiskScope.INSTRUMENT else instruments,
        lots,
    )
    return st.one_of(trading, switch, within, within, within, fill, cancel)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(trading, take, take, take), min_size=5, max_size=30),
    st.sampled_from(SCOPES).flatmap(
        lambda scope: st.tuples(st.just(scope), st.lists(reducing_in(scope), min_size=20))
    ),
    st.randoms(),
)
@example(  # another strategy's sell, open already, would take the net short
    [
        ("take", "s1", BTC, OrderSide.BUY, 20),
        ("submit", "s2", BTC, OrderSide.SELL, 20, OrderType.MARKET, 0, False),
    ],
    ((RiskScope.ACCOUNT, ACCOUNT), [("reduce", "s1", BTC, 20), ("fill", 0, 20, 0)]),
    random.Random(0),
)
def test_orders_approved_while_reducing_never_grow_a_position(
    before: list[tuple[Any, ...]], then: tuple[Scope, list[tuple[Any, ...]]], rng: Any
) -> None:
    run = Run(make_book())
    for action in before:
        run.play(action)
    scope, after = then
    run.set_state(scope, TradingState.REDUCING)
    for action in after:
        run.play(action)
    run.fill_everything(rng)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(trading, min_size=5, max_size=30),
    st.sampled_from(SCOPES),
    st.lists(st.one_of(trading, modify, modify), min_size=10, max_size=40),
)
def test_nothing_is_approved_while_halted(
    before: list[tuple[Any, ...]], scope: Scope, after: list[tuple[Any, ...]]
) -> None:
    run = Run(make_book())
    for action in before:
        run.play(action)
    run.set_state(scope, TradingState.HALTED)
    for action in after:
        run.play(action)  # every judgement of an order in the scope is TRADING_HALTED
