"""Foxtrot's v1 wire contract. ``MODELS`` lists every model the JSON Schema snapshot covers."""

from __future__ import annotations

from pydantic import BaseModel

from foxtrot.common.messages.v1.envelope import Message, new_envelope
from foxtrot.common.messages.v1.ingest import IngestBar, IngestTrade
from foxtrot.common.messages.v1.market_data import Bar, QuoteTick, TradeTick
from foxtrot.common.messages.v1.order_events import (
    ORDER_EVENT_ADAPTER,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    order_event_from_core,
)
from foxtrot.common.messages.v1.orders import CancelOrder, ModifyOrder, SubmitOrder
from foxtrot.common.messages.v1.portfolio import (
    POSITION_EVENT_ADAPTER,
    AccountBalance,
    AccountState,
    PositionChanged,
    PositionClosed,
    PositionEvent,
    PositionOpened,
    position_event_from_core,
)
from foxtrot.common.messages.v1.queries import (
    OrdersQuery,
    OrdersReply,
    OrderView,
    PositionsQuery,
    PositionsReply,
    PositionView,
    QueryFailed,
)

__all__ = [
    "MODELS",
    "ORDER_EVENT_ADAPTER",
    "POSITION_EVENT_ADAPTER",
    "AccountBalance",
    "AccountState",
    "Bar",
    "CancelOrder",
    "IngestBar",
    "IngestTrade",
    "Message",
    "ModifyOrder",
    "OrderAccepted",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderSubmitted",
    "OrderView",
    "OrdersQuery",
    "OrdersReply",
    "PositionChanged",
    "PositionClosed",
    "PositionEvent",
    "PositionOpened",
    "PositionView",
    "PositionsQuery",
    "PositionsReply",
    "QueryFailed",
    "QuoteTick",
    "SubmitOrder",
    "TradeTick",
    "new_envelope",
    "order_event_from_core",
    "position_event_from_core",
]

MODELS: tuple[type[BaseModel], ...] = (
    TradeTick,
    QuoteTick,
    Bar,
    IngestTrade,
    IngestBar,
    SubmitOrder,
    ModifyOrder,
    CancelOrder,
    OrderDenied,
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    PositionOpened,
    PositionChanged,
    PositionClosed,
    AccountState,
    OrdersQuery,
    OrdersReply,
    PositionsQuery,
    PositionsReply,
    QueryFailed,
)
