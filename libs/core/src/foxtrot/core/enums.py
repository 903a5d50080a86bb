"""The trading vocabulary as enums; their values are what travels on the wire."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AggressorSide",
    "ContingencyType",
    "LiquiditySide",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PositionSide",
    "RiskScope",
    "TimeInForce",
    "TradingState",
    "TrailingOffsetType",
]


class OrderSide(StrEnum):
    """Which way an order trades."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self is OrderSide.BUY else -1


class AggressorSide(StrEnum):
    """The side of the taker in a trade."""

    BUYER = "BUYER"
    SELLER = "SELLER"
    NO_AGGRESSOR = "NO_AGGRESSOR"


class OrderType(StrEnum):
    """How an order is priced and triggered."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    MARKET_IF_TOUCHED = "MARKET_IF_TOUCHED"
    LIMIT_IF_TOUCHED = "LIMIT_IF_TOUCHED"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"
    TRAILING_STOP_LIMIT = "TRAILING_STOP_LIMIT"

    @property
    def has_limit_price(self) -> bool:
        """True when the order carries a limit price."""
        return self in _LIMIT_PRICED

    @property
    def has_trigger_price(self) -> bool:
        """True when the order waits for a trigger price."""
        return self in _TRIGGERED

    @property
    def is_trailing(self) -> bool:
        """True for trailing stops, whose trigger follows the market."""
        return self in (OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT)


_LIMIT_PRICED = frozenset(
    {
        OrderType.LIMIT,
        OrderType.STOP_LIMIT,
        OrderType.LIMIT_IF_TOUCHED,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
_TRIGGERED = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
    }
)


class TimeInForce(StrEnum):
    """How long an order stays working."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"
    DAY = "DAY"


class TrailingOffsetType(StrEnum):
    """Unit of a trailing stop's offset."""

    PRICE = "PRICE"
    BASIS_POINTS = "BASIS_POINTS"


class ContingencyType(StrEnum):
    """How orders in a list depend on each other."""

    NONE = "NONE"
    OCO = "OCO"
    OTO = "OTO"


class LiquiditySide(StrEnum):
    """Whether a fill added or took liquidity."""

    MAKER = "MAKER"
    TAKER = "TAKER"


class PositionSide(StrEnum):
    """Direction of a net position."""

    FLAT = "FLAT"
    LONG = "LONG"
    SHORT = "SHORT"


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    PENDING_UPDATE = "PENDING_UPDATE"
    PENDING_CANCEL = "PENDING_CANCEL"
    TRIGGERED = "TRIGGERED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        """True when no further event can change the order."""
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        """True while the order is working at a venue."""
        return self in _OPEN


_TERMINAL = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    }
)
_OPEN = frozenset(
    {
        OrderStatus.ACCEPTED,
        OrderStatus.PENDING_UPDATE,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.TRIGGERED,
        OrderStatus.PARTIALLY_FILLED,
    }
)


class TradingState(StrEnum):
    """What risk lets through for a scope."""

    ACTIVE = "ACTIVE"  # every order that passes the checks
    REDUCING = "REDUCING"  # only orders that make the position smaller
    HALTED = "HALTED"  # no new order and no modify; cancels still pass

    @property
    def rank(self) -> int:
        """How strict: the strictest state of the scopes an order falls under applies."""
        return _STATE_RANK[self]


_STATE_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class RiskScope(StrEnum):
    """What a trading state or a limit applies to."""

    ACCOUNT = "ACCOUNT"
    STRATEGY = "STRATEGY"
    INSTRUMENT = "INSTRUMENT"
