"""Pre-trade rules: small pure functions that return a Denial or pass (None).

Each rule looks at one order through an :class:`OrderCheck` (the order, the clock, and what
risk knows: instruments, prices, positions, open orders, balances, recent orders) and
knows one thing to refuse. The rules run in the order of :data:`SUBMIT_RULES`, cheapest and
most basic first; the first denial decides. Every rule but the two safety checks (risk
knows its state; the scope's trading state) can be switched off by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from foxtrot.core.enums import OrderSide, RiskScope, TimeInForce, TradingState
from foxtrot.core.instruments import Instrument
from foxtrot.core.orders import OrderSpec
from foxtrot.core.risk.limits import InstrumentLimits

if TYPE_CHECKING:
    from foxtrot.core.risk.book import RiskBook

__all__ = [
    "MODIFY_RULES",
    "SAFETY",
    "SUBMIT_RULES",
    "SWITCHABLE",
    "Denial",
    "DenialCode",
    "OrderCheck",
    "Rule",
    "fingerprint",
]

_ZERO: Final = Decimal(0)
_BPS: Final = Decimal(10_000)
_SECOND_NS: Final = 1_000_000_000
# Enum members looked up once: through their class, each look-up costs as much as a rule's
# arithmetic (Python 3.11), and every order goes through every rule.
_HALTED: Final = TradingState.HALTED
_REDUCING: Final = TradingState.REDUCING
_GTD: Final = TimeInForce.GTD
_BUY: Final = OrderSide.BUY
_ACCOUNT: Final = RiskScope.ACCOUNT
_STRATEGY: Final = RiskScope.STRATEGY
_SIGN: Final = {OrderSide.BUY: 1, OrderSide.SELL: -1}


class DenialCode:
    """The reason codes risk puts on OrderDenied and OrderModifyRejected."""

    STATE_UNKNOWN: Final = "STATE_UNKNOWN"
    TRADING_HALTED: Final = "TRADING_HALTED"
    TRADING_REDUCING: Final = "TRADING_REDUCING"
    INSTRUMENT_UNKNOWN: Final = "INSTRUMENT_UNKNOWN"
    INSTRUMENT_NOT_TRADABLE: Final = "INSTRUMENT_NOT_TRADABLE"
    ORDER_UNKNOWN: Final = "ORDER_UNKNOWN"
    GTD_EXPIRED: Final = "GTD_EXPIRED"
    PRICE_NOT_ON_TICK: Final = "PRICE_NOT_ON_TICK"
    QUANTITY_INVALID: Final = "QUANTITY_INVALID"
    DUPLICATE_ORDER: Final = "DUPLICATE_ORDER"
    NO_REFERENCE_PRICE: Final = "NO_REFERENCE_PRICE"
    MIN_NOTIONAL: Final = "MIN_NOTIONAL"
    MAX_ORDER_QUANTITY: Final = "MAX_ORDER_QUANTITY"
    MAX_ORDER_NOTIONAL: Final = "MAX_ORDER_NOTIONAL"
    PRICE_COLLAR: Final = "PRICE_COLLAR"
    REDUCE_ONLY: Final = "REDUCE_ONLY"
    MAX_POSITION: Final = "MAX_POSITION"
    MAX_GROSS_EXPOSURE: Final = "MAX_GROSS_EXPOSURE"
    MAX_NET_EXPOSURE: Final = "MAX_NET_EXPOSURE"
    INSUFFICIENT_BALANCE: Final = "INSUFFICIENT_BALANCE"
    MAX_OPEN_ORDERS: Final = "MAX_OPEN_ORDERS"
    SUBMIT_RATE: Final = "SUBMIT_RATE"
    MODIFY_RATE: Final = "MODIFY_RATE"
    INVALID_ORDER: Final = "INVALID_ORDER"


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an order was refused: a stable code and a message for people."""

    code: str
    message: str


@dataclass(slots=True)
class OrderCheck:
    """One order under judgement and what the rules look at.

    ``price`` is the price the order is valued at: its limit price, else its trigger, else
    the instrument's last price (or quote mid). ``replaces`` is the open order a modify
    would change (its quantity is not counted twice)."""

    order: OrderSpec
    now_ns: int
    book: RiskBook
    instrument: Instrument | None
    limits: InstrumentLimits
    price: Decimal | None
    replaces: OrderSpec | None = None
    state: TradingState = TradingState.ACTIVE
    # The instrument's net position if this order and those open its side filled, worked
    # out once for the rules that need it.
    projected: Decimal | None = field(default=None, init=False, repr=False)


def _projected(c: OrderCheck) -> Decimal:
    if c.projected is None:
        c.projected = c.book.projected(c.order, c.replaces)
    return c.projected


Rule = Callable[[OrderCheck], Denial | None]


def known(c: OrderCheck) -> Denial | None:
    """Fail safe: until risk has positions, open orders and balances, it refuses."""
    if all(c.book.known.values()):
        return None
    return Denial(DenialCode.STATE_UNKNOWN, f"risk does not know {c.book.unknown()} yet")


def trading_state(c: OrderCheck) -> Denial | None:
    """HALTED refuses every new order and modify; REDUCING lets through only orders that
    make every position they fall under smaller, counting open orders that side."""
    if c.state is _HALTED:
        return Denial(DenialCode.TRADING_HALTED, c.book.why_state(c.order))
    if c.state is _REDUCING and not c.book.reduces(c.order, c.replaces):
        return Denial(
            DenialCode.TRADING_REDUCING,
            f"{c.book.why_state(c.order)}; only orders that reduce the position may pass",
        )
    return None


def instrument(c: OrderCheck) -> Denial | None:
    """The instrument must be known and tradable."""
    if c.instrument is None:
        return Denial(
            DenialCode.INSTRUMENT_UNKNOWN, f"instrument {c.order.instrument_id} is not known"
        )
    if not c.instrument.tradable:
        return Denial(
            DenialCode.INSTRUMENT_NOT_TRADABLE,
            f"instrument {c.order.instrument_id} is not tradable now",
        )
    return None


def gtd(c: OrderCheck) -> Denial | None:
    """A GTD order must not have expired already."""
    order = c.order
    if order.time_in_force is _GTD and (
        order.expire_time_ns is None or order.expire_time_ns <= c.now_ns
    ):
        return Denial(
            DenialCode.GTD_EXPIRED,
            f"GTD expiry {order.expire_time_ns} is not after now ({c.now_ns})",
        )
    return None


def tick(c: OrderCheck) -> Denial | None:
    """Prices must sit on the instrument's tick."""
    if c.instrument is None:
        return None
    for price in (c.order.price, c.order.trigger_price):
        if price is not None:
            problem = c.instrument.price_problem(price)
            if problem:
                return Denial(DenialCode.PRICE_NOT_ON_TICK, problem)
    return None


def lot(c: OrderCheck) -> Denial | None:
    """The quantity must be a whole number of lots, within the instrument's min and max."""
    if c.instrument is None:
        return None
    problem = c.instrument.quantity_problem(c.order.quantity)
    return Denial(DenialCode.QUANTITY_INVALID, problem) if problem else None


def duplicate(c: OrderCheck) -> Denial | None:
    """A client order id is used once; the same order again within the window is a
    duplicate (a strategy or a person that sent it twice)."""
    book = c.book
    if c.order.client_order_id in book.recent_ids:
        return Denial(
            DenialCode.DUPLICATE_ORDER,
            f"client order id {c.order.client_order_id} was used before",
        )
    window = book.limits.duplicate_window_ms
    if window is not None:
        seen = book.fingerprints.get(fingerprint(c.order))
        if seen is not None and c.now_ns - seen[1] < window * 1_000_000:
            return Denial(
                DenialCode.DUPLICATE_ORDER,
                f"the same order as {seen[0]} was sent less than {window} ms ago",
            )
    return None


def reference_price(c: OrderCheck) -> Denial | None:
    """Fail safe: an order that cannot be valued is refused, not waved through."""
    if c.price is None:
        return Denial(
            DenialCode.NO_REFERENCE_PRICE,
            f"no price known for {c.order.instrument_id} to value a {c.order.order_type} order",
        )
    return None


def min_notional(c: OrderCheck) -> Denial | None:
    """The order's value must reach the venue's minimum."""
    if c.instrument is None or c.price is None:
        return None
    problem = c.instrument.notional_problem(c.price, c.order.quantity)
    return Denial(DenialCode.MIN_NOTIONAL, problem) if problem else None


def max_order_quantity(c: OrderCheck) -> Denial | None:
    """Deny an order larger than the max order quantity (the instrument's own, else global)."""
    limit = c.limits.max_order_quantity
    if limit is not None and c.order.quantity > limit:
        return Denial(
            DenialCode.MAX_ORDER_QUANTITY,
            f"quantity must be at most {limit}, was {c.order.quantity}",
        )
    return None


def max_order_notional(c: OrderCheck) -> Denial | None:
    """Deny an order whose quantity times price exceeds the max notional."""
    limit = c.limits.max_order_notional
    if limit is None or c.price is None:
        return None
    notional = c.order.quantity * c.price
    if notional > limit:
        return Denial(
            DenialCode.MAX_ORDER_NOTIONAL,
            f"notional must be at most {limit}, was {notional} ({c.order.quantity} x {c.price})",
        )
    return None


def price_collar(c: OrderCheck) -> Denial | None:
    """Fat-finger band: a limit or trigger price this far from the last price (or the
    quote mid) is refused."""
    band = c.book.limits.price_collar_bps
    if band is None:
        return None
    reference = c.book.prices.get(c.order.instrument_id)
    if reference is None:
        return Denial(
            DenialCode.NO_REFERENCE_PRICE,
            f"no market price for {c.order.instrument_id} to check the price collar against",
        )
    for price in (c.order.price, c.order.trigger_price):
        if price is not None and abs(price - reference) * _BPS > band * reference:
            return Denial(
                DenialCode.PRICE_COLLAR,
                f"price {price} is more than {band} bps from the market price {reference}",
            )
    return None


def reduce_only(c: OrderCheck) -> Denial | None:
    """A reduce-only order must make its strategy's position smaller, never crossing zero,
    counting the strategy's orders already open that side."""
    if c.order.reduce_only and not c.book.reduces_strategy(c.order, c.replaces):
        position = c.book.strategy_position(c.order.strategy_id, c.order.instrument_id)
        return Denial(
            DenialCode.REDUCE_ONLY,
            f"reduce-only {c.order.side} {c.order.quantity} would not reduce the position "
            f"{position} (with the orders already open that side)",
        )
    return None


def max_position(c: OrderCheck) -> Denial | None:
    """The instrument's position if this order and every open order that side filled must
    stay within the max position (an order that reduces always passes)."""
    limit = c.limits.max_position
    if limit is None:
        return None
    projected = _projected(c)
    if abs(projected) > limit and _SIGN[c.order.side] * projected > 0:
        return Denial(
            DenialCode.MAX_POSITION,
            f"position would reach {projected} with this order and those open, "
            f"beyond the limit {limit}",
        )
    return None


def exposure(c: OrderCheck) -> Denial | None:
    """Gross and net exposure of the account, valued at last prices, with this order filled,
    must stay within limits (an order that reduces exposure always passes)."""
    limits = c.book.limits
    if (limits.max_gross_exposure is None and limits.max_net_exposure is None) or c.price is None:
        return None
    after = _projected(c)
    if abs(after) <= abs(c.book.net.get(c.order.instrument_id, _ZERO)):
        return None
    gross, net = c.book.exposure_with(c.order.instrument_id, after, c.price)
    over_gross = limits.max_gross_exposure is not None and gross > limits.max_gross_exposure
    if not over_gross and (limits.max_net_exposure is None or abs(net) <= limits.max_net_exposure):
        return None
    # Refused: the message shows the figures as they add up instrument by instrument.
    gross, net = c.book.exposure_added_up(c.order.instrument_id, after, c.price)
    if over_gross:
        return Denial(
            DenialCode.MAX_GROSS_EXPOSURE,
            f"gross exposure would reach {gross}, beyond the limit {limits.max_gross_exposure}",
        )
    return Denial(
        DenialCode.MAX_NET_EXPOSURE,
        f"net exposure would reach {net}, beyond the limit {limits.max_net_exposure}",
    )


def buying_power(c: OrderCheck) -> Denial | None:
    """A cash account pays for what it buys and delivers what it sells: the free balance
    (less what risk approved that execution has not yet locked) must cover the order."""
    if c.instrument is None or c.price is None:
        return None
    if c.order.side is _BUY:
        currency, needed = c.instrument.quote_currency, c.order.quantity * c.price
    else:
        currency, needed = c.instrument.base_currency, c.order.quantity
    free = c.book.free(c.order.account_id, currency)
    if needed > free:
        return Denial(
            DenialCode.INSUFFICIENT_BALANCE,
            f"needs {needed} {currency}, free {free} {currency}",
        )
    return None


def open_orders(c: OrderCheck) -> Denial | None:
    """At most so many orders open per account and per strategy."""
    limits = c.book.limits
    book = c.book
    account = book.open_count(_ACCOUNT, c.order.account_id)
    if limits.max_open_orders is not None and account >= limits.max_open_orders:
        return Denial(
            DenialCode.MAX_OPEN_ORDERS,
            f"account {c.order.account_id} has {limits.max_open_orders} orders open already",
        )
    per_strategy = limits.max_open_orders_per_strategy
    if per_strategy is not None and book.open_count(_STRATEGY, c.order.strategy_id) >= (
        per_strategy
    ):
        return Denial(
            DenialCode.MAX_OPEN_ORDERS,
            f"strategy {c.order.strategy_id} has {per_strategy} orders open already",
        )
    return None


def submit_rate(c: OrderCheck) -> Denial | None:
    """At most so many orders a second per strategy and per account."""
    limits = c.book.limits
    return _rate(
        c,
        "submit",
        limits.max_submits_per_second_strategy,
        limits.max_submits_per_second_account,
        DenialCode.SUBMIT_RATE,
    )


def modify_rate(c: OrderCheck) -> Denial | None:
    """At most so many modifies a second per strategy and per account."""
    limits = c.book.limits
    return _rate(
        c,
        "modify",
        limits.max_modifies_per_second_strategy,
        limits.max_modifies_per_second_account,
        DenialCode.MODIFY_RATE,
    )


def _rate(
    c: OrderCheck, kind: str, per_strategy: int | None, per_account: int | None, code: str
) -> Denial | None:
    if per_strategy is not None:
        strategy = c.order.strategy_id
        if c.book.rate(kind, strategy, c.now_ns) >= per_strategy:
            return Denial(
                code,
                f"strategy {strategy} sent {per_strategy} {_PLURAL[kind]} in the last second "
                "already",
            )
    if per_account is not None:
        account = c.order.account_id
        if c.book.rate(kind, account, c.now_ns) >= per_account:
            return Denial(
                code,
                f"account {account} sent {per_account} {_PLURAL[kind]} in the last second already",
            )
    return None


_PLURAL: Final = {"submit": "orders", "modify": "modifies"}


def fingerprint(order: OrderSpec) -> tuple[object, ...]:
    return (
        order.strategy_id,
        order.instrument_id,
        order.side,
        order.order_type,
        order.quantity,
        order.price,
        order.trigger_price,
    )


SUBMIT_RULES: Final[tuple[tuple[str, Rule], ...]] = (
    ("known", known),
    ("trading_state", trading_state),
    ("instrument", instrument),
    ("gtd", gtd),
    ("tick", tick),
    ("lot", lot),
    ("duplicate", duplicate),
    ("reference_price", reference_price),
    ("min_notional", min_notional),
    ("max_order_quantity", max_order_quantity),
    ("max_order_notional", max_order_notional),
    ("price_collar", price_collar),
    ("reduce_only", reduce_only),
    ("max_position", max_position),
    ("exposure", exposure),
    ("buying_power", buying_power),
    ("open_orders", open_orders),
    ("submit_rate", submit_rate),
)
MODIFY_RULES: Final[tuple[tuple[str, Rule], ...]] = (
    ("known", known),
    ("trading_state", trading_state),
    ("instrument", instrument),
    ("tick", tick),
    ("lot", lot),
    ("reference_price", reference_price),
    ("max_order_quantity", max_order_quantity),
    ("max_order_notional", max_order_notional),
    ("price_collar", price_collar),
    ("reduce_only", reduce_only),
    ("max_position", max_position),
    ("exposure", exposure),
    ("modify_rate", modify_rate),
)
SAFETY: Final = frozenset({"known", "trading_state"})
SWITCHABLE: Final = frozenset(name for name, _ in SUBMIT_RULES + MODIFY_RULES if name not in SAFETY)
