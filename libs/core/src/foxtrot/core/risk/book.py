"""What risk knows, and its judgement of each order.

A :class:`RiskBook` holds what the rules look at: instruments, last prices, a position per
strategy and instrument (booked from fills with the same :class:`Position` execution uses),
the account's exposure at the last prices (kept as fills and prices come in), the orders
open, free balances, recent orders and trading states. It is pure: time comes
in with each call, and the live service and the backtester feed it the same way.

An order risk approves counts as open at once, before execution has seen it, so a burst of
orders cannot slip past a position or open-order limit between approval and acceptance.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final

from foxtrot.core.enums import OrderSide, RiskScope, TradingState
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.portfolio import Position
from foxtrot.core.risk.exposure import Exposure, LastPrices
from foxtrot.core.risk.limits import InstrumentLimits, RiskLimits
from foxtrot.core.risk.rules import (
    MODIFY_RULES,
    SUBMIT_RULES,
    Denial,
    DenialCode,
    OrderCheck,
    Rule,
    fingerprint,
)

__all__ = ["Decision", "OpenOrder", "RiskBook", "list_denial"]

_ZERO: Final = Decimal(0)
_SECOND_NS: Final = 1_000_000_000
_RECENT: Final = 200_000  # client order ids remembered (beyond the open ones)
_SIGN: Final = {OrderSide.BUY: 1, OrderSide.SELL: -1}  # cheaper than OrderSide.sign
_ACTIVE: Final = TradingState.ACTIVE


def list_denial(client_order_id: str, denial: Denial) -> Denial:
    """The denial of a whole order list, naming the order of the list that was denied."""
    return Denial(denial.code, f"order {client_order_id}: {denial.message}")


@dataclass(frozen=True, slots=True)
class Decision:
    """A judgement: the denial (None when approved) and each rule's result in the order
    the rules ran (a code, or None for a pass); rules after a denial did not run."""

    denial: Denial | None
    results: tuple[tuple[str, str | None], ...]

    @property
    def approved(self) -> bool:
        return self.denial is None


@dataclass(slots=True)
class OpenOrder:
    """An order approved and not yet done; ``acknowledged`` once execution accepted it
    (from then on execution's balances lock its funds, not risk's reservation)."""

    spec: OrderSpec
    remaining: Decimal
    acknowledged: bool = False
    reserved: tuple[tuple[str, str], Decimal] | None = None  # (account, currency), amount


class RiskBook:
    """Risk's state and its rules."""

    def __init__(self, limits: RiskLimits, account_id: AccountId) -> None:
        self.limits = limits
        self.account_id = account_id  # the account execution books positions into
        self.instruments: dict[InstrumentId, Instrument] = {}
        self.positions: dict[tuple[StrategyId, InstrumentId], Position] = {}
        self.net: dict[InstrumentId, Decimal] = {}
        # Each change of a last price or a net position revalues the account's exposure.
        self.prices: dict[InstrumentId, Decimal] = LastPrices(self._revalue)
        self.exposure = Exposure()
        self.orders: dict[ClientOrderId, OpenOrder] = {}
        self.states: dict[tuple[RiskScope, str], TradingState] = {}
        self.state_reasons: dict[tuple[RiskScope, str], str] = {}
        self.recent_ids: OrderedDict[ClientOrderId, None] = OrderedDict()
        self.fingerprints: OrderedDict[tuple[object, ...], tuple[ClientOrderId, int]] = (
            OrderedDict()
        )
        self.known = {"positions": False, "open orders": False, "balances": False}
        self._free: dict[tuple[str, str], Decimal] = {}
        self._reserved: dict[tuple[str, str], Decimal] = {}
        self._open_qty: dict[tuple[InstrumentId, OrderSide], Decimal] = {}
        self._open_qty_strategy: dict[tuple[StrategyId, InstrumentId, OrderSide], Decimal] = {}
        self._open_count: Counter[tuple[RiskScope, str]] = Counter()
        self._stamps: dict[tuple[str, str], deque[int]] = {}
        # Derived from self.limits, kept while it is the same object (RiskLimits is frozen).
        self._limits_seen: RiskLimits | None = None
        self._per_instrument: dict[InstrumentId, InstrumentLimits] = {}
        self._plans: dict[int, tuple[tuple[Rule, ...], Decision]] = {}
        # The largest quantity approved modifies asked of an order, kept until the venue
        # confirms at least as much (it may still apply any of them); beyond the order's
        # quantity it counts as open.
        self._asked: dict[ClientOrderId, Decimal] = {}

    # -- judging --------------------------------------------------------------------------

    def check(self, order: OrderSpec, now_ns: int) -> Decision:
        """Judge a new order."""
        return self._run(SUBMIT_RULES, self._check_of(order, now_ns, None))

    def check_modify(
        self,
        client_order_id: ClientOrderId,
        now_ns: int,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Decision:
        """Judge a change to an open order: the order as it would be after the change."""
        open_order = self.orders.get(client_order_id)
        if open_order is None:
            denial = Denial(DenialCode.ORDER_UNKNOWN, f"no open order {client_order_id}")
            return Decision(denial, (("order", denial.code),))
        changes: dict[str, Decimal] = {}
        for name, value in (("quantity", quantity), ("price", price)):
            if value is not None:
                changes[name] = value
        if trigger_price is not None:
            changes["trigger_price"] = trigger_price
        filled = open_order.spec.quantity - open_order.remaining
        try:
            if quantity is not None and not quantity > filled:
                raise InvalidOrder(
                    f"quantity must exceed the {filled} already filled, was {quantity}"
                )
            changed = replace(open_order.spec, **changes)  # type: ignore[arg-type]
        except InvalidOrder as exc:
            denial = Denial(DenialCode.INVALID_ORDER, str(exc))
            return Decision(denial, (("order", denial.code),))
        return self._run(MODIFY_RULES, self._check_of(changed, now_ns, open_order))

    def _check_of(self, order: OrderSpec, now_ns: int, open_order: OpenOrder | None) -> OrderCheck:
        iid = order.instrument_id
        if self.limits is not self._limits_seen:  # new limits: what was derived from the old goes
            self._limits_seen = self.limits
            self._per_instrument.clear()
            self._plans.clear()
        limits = self._per_instrument.get(iid)
        if limits is None:
            limits = self._per_instrument[iid] = self.limits.for_instrument(iid)
        return OrderCheck(
            order,
            now_ns,
            self,
            self.instruments.get(iid),
            limits,
            order.price or order.trigger_price or self.prices.get(iid),
            open_order.spec if open_order else None,
            self.state_of(order) if self.states else _ACTIVE,
        )

    def _run(self, rules: tuple[tuple[str, Rule], ...], check: OrderCheck) -> Decision:
        # The rules switched on and the results of a pass through them are worked out once
        # per limits (_check_of forgets them when the limits change), not per order.
        plan = self._plans.get(id(rules))
        if plan is None:
            on = [(name, rule) for name, rule in rules if name not in self.limits.disabled]
            passed = Decision(None, tuple((name, None) for name, _ in on))
            plan = self._plans[id(rules)] = (tuple(rule for _, rule in on), passed)
        on_rules, passed = plan
        for rule in on_rules:
            denial = rule(check)
            if denial is not None:
                index = on_rules.index(rule)  # looked up only when a rule denies
                name = passed.results[index][0]
                return Decision(denial, (*passed.results[:index], (name, denial.code)))
        return passed  # every approval is the same Decision, and it is immutable

    # -- what the rules ask -----------------------------------------------------------------

    def unknown(self) -> str:
        """What risk does not know yet ("" when it knows all it needs)."""
        if all(self.known.values()):
            return ""
        return ", ".join(name for name, known in self.known.items() if not known)

    def state_of(self, order: OrderSpec) -> TradingState:
        """The strictest trading state of the order's account, strategy and instrument."""
        if not self.states:
            return TradingState.ACTIVE
        return max(
            (
                self.states.get((RiskScope.ACCOUNT, order.account_id), TradingState.ACTIVE),
                self.states.get((RiskScope.STRATEGY, order.strategy_id), TradingState.ACTIVE),
                self.states.get(
                    (RiskScope.INSTRUMENT, str(order.instrument_id)), TradingState.ACTIVE
                ),
            ),
            key=lambda s: s.rank,
        )

    def why_state(self, order: OrderSpec) -> str:
        """Which scope put the order's trading state where it is, and why."""
        state = self.state_of(order)
        for scope, key in (
            (RiskScope.ACCOUNT, order.account_id),
            (RiskScope.STRATEGY, order.strategy_id),
            (RiskScope.INSTRUMENT, str(order.instrument_id)),
        ):
            if self.states.get((scope, key)) is state:
                reason = self.state_reasons.get((scope, key), "")
                return f"{scope.lower()} {key} is {state}: {reason}"
        return f"trading is {state}"

    def strategy_position(self, strategy_id: StrategyId, instrument_id: InstrumentId) -> Decimal:
        position = self.positions.get((strategy_id, instrument_id))
        return position.quantity if position else _ZERO

    def projected(self, order: OrderSpec, replaces: OrderSpec | None) -> Decimal:
        """The instrument's net position if this order and every open order its side filled."""
        iid, side = order.instrument_id, order.side
        added = order.quantity if replaces is None else self._added(order, replaces)
        open_qty = self._open_qty.get((iid, side), _ZERO)
        return self.net.get(iid, _ZERO) + _SIGN[side] * (open_qty + added)

    def reduces(self, order: OrderSpec, replaces: OrderSpec | None) -> bool:
        """Whether the order makes both its instrument's net position and its strategy's
        position smaller (with the open orders that side), never crossing zero."""
        return self._shrinks(
            self.net.get(order.instrument_id, _ZERO),
            self._open_qty.get((order.instrument_id, order.side), _ZERO),
            order,
            replaces,
        ) and self.reduces_strategy(order, replaces)

    def reduces_strategy(self, order: OrderSpec, replaces: OrderSpec | None) -> bool:
        """Whether the order makes its strategy's position smaller, never crossing zero."""
        key = (order.strategy_id, order.instrument_id, order.side)
        return self._shrinks(
            self.strategy_position(order.strategy_id, order.instrument_id),
            self._open_qty_strategy.get(key, _ZERO),
            order,
            replaces,
        )

    def _shrinks(
        self, position: Decimal, open_qty: Decimal, order: OrderSpec, replaces: OrderSpec | None
    ) -> bool:
        if position == 0 or _SIGN[order.side] * position > 0:
            return False
        return open_qty + self._added(order, replaces) <= abs(position)

    def exposure_after(
        self, order: OrderSpec, price: Decimal, replaces: OrderSpec | None
    ) -> tuple[Decimal, Decimal, bool]:
        """Gross and net exposure of the account if the order (and those open its side)
        filled, and whether that is more exposure than now."""
        after = self.projected(order, replaces)
        gross, net = self.exposure_with(order.instrument_id, after, price)
        return gross, net, abs(after) > abs(self.net.get(order.instrument_id, _ZERO))

    def exposure_with(
        self, instrument_id: InstrumentId, position: Decimal, price: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Gross and net exposure of the account, valued at last prices, if the instrument's
        net position were ``position`` at ``price``."""
        return self.exposure.with_position(instrument_id, position, price)

    def exposure_added_up(
        self, instrument_id: InstrumentId, position: Decimal, price: Decimal
    ) -> tuple[Decimal, Decimal]:
        """The same figures as :meth:`exposure_with`, added up instrument by instrument
        (slower): a denial shows them with the digits of that sum."""
        others = self.net.copy()  # leave it out once, not compare every key with it
        others.pop(instrument_id, None)
        gross = net = _ZERO
        prices = self.prices
        for other, quantity in others.items():
            if quantity:
                value = quantity * prices.get(other, _ZERO)
                gross += abs(value)
                net += value
        return gross + abs(position) * price, net + position * price

    def free(self, account_id: str, currency: str) -> Decimal:
        """Free balance less what approved orders not yet at execution will need."""
        key = (account_id, currency)
        return self._free.get(key, _ZERO) - self._reserved.get(key, _ZERO)

    def open_count(self, scope: RiskScope, key: str) -> int:
        return self._open_count[(scope, key)]

    def rate(self, kind: str, scope: str, now_ns: int) -> int:
        """How many ``kind`` (submit, modify) ``scope`` made in the last second."""
        stamps = self._stamps.get((kind, scope))
        if not stamps:
            return 0
        while stamps and stamps[0] <= now_ns - _SECOND_NS:
            stamps.popleft()
        return len(stamps)

    def judge_list(
        self,
        orders: Sequence[OrderSpec],
        now_ns: int,
        check: Callable[[OrderSpec, int], Decision] | None = None,
    ) -> tuple[list[Decision], Denial | None]:
        """Judge an order list, which stands or falls together: its orders in turn, each
        approved one counting for the next (a bracket's entry is open when its stop is
        judged). If one is denied, every one is, with that order's denial naming it, and
        those counted are taken back. Returns the decisions made (the ones after a denial
        are not) and the list's denial, if any. ``check`` judges one order (``check`` by
        default; the risk service times and records each)."""
        judge = check or self.check
        decisions: list[Decision] = []
        counted: list[ClientOrderId] = []
        for order in orders:
            decision = judge(order, now_ns)
            decisions.append(decision)
            if decision.denial is not None:
                refused = list_denial(order.client_order_id, decision.denial)
                for client_order_id in counted:
                    self.on_done(client_order_id)
                for member in orders:
                    self.denied(member)
                return decisions, refused
            self.approved(order, now_ns)
            counted.append(order.client_order_id)
        return decisions, None

    # -- what happens -------------------------------------------------------------------------

    def approved(self, order: OrderSpec, now_ns: int) -> None:
        """Count an approved order as open and remember it, its rate and its fingerprint."""
        self._remember(order.client_order_id)
        self._fingerprint(order, now_ns)
        self._stamp("submit", order, now_ns)
        self._open(OpenOrder(order, order.quantity))

    def denied(self, order: OrderSpec) -> None:
        """A denied order's id is used up too: it may not come back approved later."""
        self._remember(order.client_order_id)

    def modified(self, order: OrderSpec, now_ns: int) -> None:
        """Count an approved modify towards the modify rate. Given the order as changed, a
        rise in its quantity counts as open at once, like a new order, until the venue
        confirms it (on_updated) or the order ends; a modify the venue refuses stays
        counted till then, on the safe side."""
        self._stamp("modify", order, now_ns)
        open_order = self.orders.get(order.client_order_id)
        if open_order is not None:
            asked = self._asked.get(order.client_order_id)
            if asked is None or order.quantity > asked:
                self._count(open_order, -1)
                self._asked[order.client_order_id] = order.quantity
                self._count(open_order, +1)

    def learn_open(self, order: OrderSpec, remaining: Decimal) -> None:
        """An order open at execution (from its snapshot at start)."""
        self._remember(order.client_order_id)
        if order.client_order_id not in self.orders:
            self._open(OpenOrder(order, remaining, acknowledged=True))

    def on_accepted(self, client_order_id: ClientOrderId) -> None:
        """Execution accepted the order: its funds are locked there now."""
        open_order = self.orders.get(client_order_id)
        if open_order is not None and not open_order.acknowledged:
            self._release(open_order)
            open_order.acknowledged = True

    def on_updated(
        self, client_order_id: ClientOrderId, quantity: Decimal | None, price: Decimal | None
    ) -> None:
        """A modify took effect at the venue."""
        open_order = self.orders.pop(client_order_id, None)
        if open_order is None:
            return
        self._count(open_order, -1)
        # A larger modify approved after this one and not confirmed yet stays counted.
        asked = self._asked.pop(client_order_id, _ZERO)
        if not open_order.acknowledged:
            self._release(open_order)  # held again below at the new quantity and price
        filled = open_order.spec.quantity - open_order.remaining
        spec = open_order.spec
        if quantity is not None:
            spec = replace(spec, quantity=quantity)
        if price is not None:
            spec = replace(spec, price=price)
        if spec.quantity > filled:
            if asked > spec.quantity:
                self._asked[client_order_id] = asked
            self._open(
                OpenOrder(spec, spec.quantity - filled, acknowledged=open_order.acknowledged)
            )

    def on_done(self, client_order_id: ClientOrderId) -> None:
        """The order ended (filled, canceled, expired, rejected or denied)."""
        open_order = self.orders.pop(client_order_id, None)
        if open_order is not None:
            self._count(open_order, -1)
            self._asked.pop(client_order_id, None)
            if not open_order.acknowledged:
                self._release(open_order)

    def on_fill(
        self,
        client_order_id: ClientOrderId,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        ts: int,
    ) -> Position:
        """Book a fill into its position and take it off its open order."""
        key = (strategy_id, instrument_id)
        position = self.positions.get(key)
        if position is None:
            position = self.positions[key] = Position(strategy_id, instrument_id)
        position.apply_fill(side, quantity, price, commission, ts)
        self.net[instrument_id] = self.net.get(instrument_id, _ZERO) + side.sign * quantity
        self._revalue(instrument_id)
        open_order = self.orders.get(client_order_id)
        if open_order is not None:
            self._count(open_order, -1)
            if not open_order.acknowledged:
                self._release(open_order)
            open_order.remaining -= quantity
            if open_order.remaining > 0:
                self._count(open_order, +1)
                if not open_order.acknowledged:
                    self._hold(open_order)
            else:
                del self.orders[client_order_id]
                self._asked.pop(client_order_id, None)
        return position

    def set_position(self, position: Position) -> None:
        """A position as execution holds it (its snapshot at start)."""
        key = (position.strategy_id, position.instrument_id)
        old = self.positions.get(key)
        change = position.quantity - (old.quantity if old else _ZERO)
        self.positions[key] = position
        self.net[position.instrument_id] = self.net.get(position.instrument_id, _ZERO) + change
        self._revalue(position.instrument_id)

    def set_balances(self, account_id: str, free: Iterable[tuple[str, Decimal]]) -> None:
        """An account's free balance per currency (AccountState)."""
        for currency, amount in free:
            self._free[(account_id, currency)] = amount

    def set_state(self, scope: RiskScope, key: str, state: TradingState, reason: str) -> None:
        if state is TradingState.ACTIVE:
            self.states.pop((scope, key), None)
            self.state_reasons.pop((scope, key), None)
        else:
            self.states[(scope, key)] = state
            self.state_reasons[(scope, key)] = reason

    # -- bookkeeping --------------------------------------------------------------------------

    def _remember(self, client_order_id: ClientOrderId) -> None:
        self.recent_ids[client_order_id] = None
        if len(self.recent_ids) > _RECENT:
            self.recent_ids.popitem(last=False)

    def _fingerprint(self, order: OrderSpec, now_ns: int) -> None:
        """Remember the order for the duplicate window. Those older than the window can
        match no order again, so they go, oldest first: kept for ever, hundreds of
        thousands of them made every full garbage collection a long pause."""
        fingerprints = self.fingerprints
        key = fingerprint(order)
        fingerprints[key] = (order.client_order_id, now_ns)
        fingerprints.move_to_end(key)  # oldest first, also when the same order comes again
        window = self.limits.duplicate_window_ms
        horizon = now_ns - window * 1_000_000 if window is not None else now_ns
        while fingerprints:
            _, seen = next(iter(fingerprints.values()))
            if seen > horizon and len(fingerprints) <= _RECENT:
                break
            fingerprints.popitem(last=False)

    def _revalue(self, instrument_id: InstrumentId) -> None:
        """The instrument's net position or last price changed: so did the exposure."""
        self.exposure.revalue(
            instrument_id, self.net.get(instrument_id, _ZERO), self.prices.get(instrument_id)
        )

    def _added(self, order: OrderSpec, replaces: OrderSpec | None) -> Decimal:
        """What the order adds to the quantity open its side: all of a new order; for a
        modify, the change in quantity, as what has filled stays filled (``replaces`` is
        open, so its remaining and any rise not yet confirmed are counted already)."""
        if replaces is None:
            return order.quantity
        return order.quantity - replaces.quantity - self._raised(replaces)

    def _raised(self, spec: OrderSpec) -> Decimal:
        """How far approved modifies not yet confirmed would raise the order's quantity."""
        asked = self._asked.get(spec.client_order_id)
        return asked - spec.quantity if asked is not None and asked > spec.quantity else _ZERO

    def _stamp(self, kind: str, order: OrderSpec, now_ns: int) -> None:
        """Remember when; stamps a second old are dropped here too, not only when a rate
        limit asks, so they cannot pile up while the rate limits are off."""
        for scope in (order.strategy_id, order.account_id):
            stamps = self._stamps.get((kind, scope))
            if stamps is None:
                stamps = self._stamps[(kind, scope)] = deque()
            stamps.append(now_ns)
            while stamps[0] <= now_ns - _SECOND_NS:
                stamps.popleft()

    def _open(self, open_order: OpenOrder) -> None:
        self.orders[open_order.spec.client_order_id] = open_order
        self._count(open_order, +1)
        if not open_order.acknowledged:
            self._hold(open_order)

    def _count(self, open_order: OpenOrder, sign: int) -> None:
        spec = open_order.spec
        qty = sign * (open_order.remaining + self._raised(spec))
        side_key = (spec.instrument_id, spec.side)
        self._open_qty[side_key] = self._open_qty.get(side_key, _ZERO) + qty
        strategy_key = (spec.strategy_id, spec.instrument_id, spec.side)
        self._open_qty_strategy[strategy_key] = (
            self._open_qty_strategy.get(strategy_key, _ZERO) + qty
        )
        self._open_count[(RiskScope.ACCOUNT, spec.account_id)] += sign
        self._open_count[(RiskScope.STRATEGY, spec.strategy_id)] += sign

    def _hold(self, open_order: OpenOrder) -> None:
        """Reserve what the order will need until execution locks it."""
        spec = open_order.spec
        instrument = self.instruments.get(spec.instrument_id)
        if instrument is None:
            return
        if spec.side is OrderSide.BUY:
            price = spec.price or spec.trigger_price or self.prices.get(spec.instrument_id)
            if price is None:
                return
            key, amount = (spec.account_id, instrument.quote_currency), open_order.remaining * price
        else:
            key, amount = (spec.account_id, instrument.base_currency), open_order.remaining
        self._reserved[key] = self._reserved.get(key, _ZERO) + amount
        open_order.reserved = (key, amount)

    def _release(self, open_order: OpenOrder) -> None:
        if open_order.reserved is not None:
            key, amount = open_order.reserved
            self._reserved[key] -= amount
            open_order.reserved = None
