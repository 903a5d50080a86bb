"""v1 request/reply queries that the gateway asks execution; subjects qry.v1.exec.*."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from foxtrot.common.messages.v1.portfolio import AccountBalance
from foxtrot.common.messages.v1.types import DecimalStr, InstrumentIdStr, Token, UnixNanos
from foxtrot.core.enums import (
    ContingencyType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
    TrailingOffsetType,
)

__all__ = [
    "AccountView",
    "AccountsQuery",
    "AccountsReply",
    "BarsQuery",
    "BarsReply",
    "HistoricalBar",
    "OrderView",
    "OrdersQuery",
    "OrdersReply",
    "PositionView",
    "PositionsQuery",
    "PositionsReply",
    "QueryFailed",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrdersQuery(_Frozen):
    """Ask for orders, newest first."""

    client_order_id: str | None = Field(default=None, description="one order by its id")
    strategy_id: Token | None = None
    instrument_id: InstrumentIdStr | None = None
    status: OrderStatus | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    before_seq: int | None = Field(
        default=None, ge=1, description="page: only orders created before this seq"
    )


class OrderView(_Frozen):
    """An order's current state."""

    seq: int
    client_order_id: str
    venue_order_id: str | None
    strategy_id: str
    account_id: str
    instrument_id: str
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: DecimalStr
    price: DecimalStr | None
    trigger_price: DecimalStr | None
    expire_time_ns: UnixNanos | None
    reduce_only: bool
    post_only: bool
    trailing_offset: DecimalStr | None = None
    trailing_offset_type: TrailingOffsetType = TrailingOffsetType.PRICE
    limit_offset: DecimalStr | None = None
    display_qty: DecimalStr | None = None
    contingency_type: ContingencyType = ContingencyType.NONE
    order_list_id: str | None = None
    linked_order_ids: tuple[str, ...] = ()
    parent_order_id: str | None = None
    status: OrderStatus
    working_status: OrderStatus | None = Field(
        default=None, description="under a pending state: the state the order returns to"
    )
    filled_qty: DecimalStr
    avg_px: DecimalStr | None
    ts_init: UnixNanos
    ts_last: UnixNanos


class OrdersReply(_Frozen):
    """Orders that match a query."""

    type: Literal["OrdersReply"] = "OrdersReply"
    orders: tuple[OrderView, ...]


class PositionsQuery(_Frozen):
    """Ask for positions."""

    strategy_id: Token | None = None
    instrument_id: InstrumentIdStr | None = None
    include_flat: bool = True


class PositionView(_Frozen):
    """A position's current state."""

    strategy_id: str
    instrument_id: str
    side: PositionSide
    quantity: DecimalStr
    avg_px_open: DecimalStr
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr | None
    commissions: DecimalStr
    currency: str
    ts_last: UnixNanos


class PositionsReply(_Frozen):
    """Positions that match a query."""

    type: Literal["PositionsReply"] = "PositionsReply"
    positions: tuple[PositionView, ...]


class AccountsQuery(_Frozen):
    """Ask for accounts' balances per currency."""

    account_id: Token | None = Field(default=None, description="one account, or every one")


class AccountView(_Frozen):
    """An account's balances per currency, as of its last change."""

    account_id: str
    balances: tuple[AccountBalance, ...]
    ts_last: UnixNanos | None = Field(default=None, description="None: nothing has moved yet")


class AccountsReply(_Frozen):
    """Accounts that match a query."""

    type: Literal["AccountsReply"] = "AccountsReply"
    accounts: tuple[AccountView, ...]


class QueryFailed(_Frozen):
    """The answer to a query or control request that could not be served."""

    type: Literal["QueryFailed"] = "QueryFailed"
    error: str
    code: Literal["NOT_FOUND", "INVALID", "CONFLICT"] | None = Field(
        default=None,
        description="why, when the asker is at fault: what it named does not exist "
        "(NOT_FOUND), what it sent is wrong (INVALID), or the state forbids it (CONFLICT); "
        "null when the service failed",
    )


class BarsQuery(_Frozen):
    """Ask market data for stored bars of one instrument and spec, oldest first.

    Subject: ``qry.v1.md.bars``. Page with ``after_ts``: pass the previous reply's
    ``next_after_ts`` until it is null.
    """

    instrument_id: InstrumentIdStr
    spec: str = Field(pattern=r"^[1-9][0-9]*(s|m|h|d|t|v|q)$", examples=["1m"])
    start_ns: UnixNanos | None = Field(default=None, description="bars closing at or after")
    end_ns: UnixNanos | None = Field(default=None, description="bars closing before")
    after_ts: UnixNanos | None = Field(default=None, description="page: bars closing after")
    limit: int = Field(default=1000, ge=1, le=5000)


class HistoricalBar(_Frozen):
    """One stored bar."""

    ts_open: UnixNanos | None
    ts_event: UnixNanos
    open: DecimalStr
    high: DecimalStr
    low: DecimalStr
    close: DecimalStr
    volume: DecimalStr
    vwap: DecimalStr | None
    trade_count: int | None


class BarsReply(_Frozen):
    """Stored bars matching a query."""

    type: Literal["BarsReply"] = "BarsReply"
    instrument_id: str
    spec: str
    bars: tuple[HistoricalBar, ...]
    next_after_ts: UnixNanos | None = Field(
        default=None, description="pass as after_ts for the next page; null on the last page"
    )
