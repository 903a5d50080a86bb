"""v1 order and position events: from core to the wire and back, told apart by ``type``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from foxtrot.common.messages.v1 import (
    ORDER_EVENT_ADAPTER,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    PositionChanged,
    PositionClosed,
    PositionOpened,
    order_event_from_core,
    position_event_from_core,
)
from foxtrot.core import events as core
from foxtrot.core.enums import LiquiditySide, OrderSide
from foxtrot.core.identifiers import (
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from foxtrot.core.portfolio import Position, PositionChange

BTC = InstrumentId("BTCUSDT", "BINANCE")


def _base(**extra: Any) -> dict[str, Any]:
    return {
        "client_order_id": ClientOrderId("o-1"),
        "strategy_id": StrategyId("s1"),
        "instrument_id": BTC,
        "ts_event": 7,
        **extra,
    }


CORE_EVENTS: list[tuple[core.OrderEvent, type]] = [
    (core.OrderDenied(**_base(reason_code="MAX_ORDER_QUANTITY", reason="too big")), OrderDenied),
    (core.OrderSubmitted(**_base()), OrderSubmitted),
    (core.OrderAccepted(**_base(venue_order_id=VenueOrderId("v-1"))), OrderAccepted),
    (core.OrderRejected(**_base(reason_code="NO_MARKET_DATA", reason="none")), OrderRejected),
    (core.OrderCanceled(**_base()), OrderCanceled),
    (core.OrderExpired(**_base()), OrderExpired),
    (
        core.OrderFilled(
            **_base(
                venue_order_id=VenueOrderId("v-1"),
                trade_id=TradeId("t-1"),
                side=OrderSide.BUY,
                last_qty=Decimal("0.5"),
                last_px=Decimal("100.1"),
                commission=Decimal("0.02002"),
                commission_currency="USD",
                liquidity_side=LiquiditySide.TAKER,
            )
        ),
        OrderFilled,
    ),
]


@pytest.mark.parametrize(
    ("event", "wire_type"), CORE_EVENTS, ids=[type(e).__name__ for e, _ in CORE_EVENTS]
)
def test_order_event_from_core_gives_the_wire_type_and_the_adapter_decodes_it_by_type(
    event: core.OrderEvent, wire_type: type
) -> None:
    wire = order_event_from_core(event, ts_init=8)
    assert type(wire) is wire_type
    assert (wire.instrument_id, wire.ts_event, wire.ts_init) == ("BTCUSDT.BINANCE", 7, 8)
    payload = wire.to_json()
    assert json.loads(payload)["type"] == wire_type.__name__
    decoded = ORDER_EVENT_ADAPTER.validate_json(payload)
    assert type(decoded) is wire_type
    assert decoded == wire


def test_fill_event_keeps_its_decimals_as_strings() -> None:
    wire = json.loads(order_event_from_core(CORE_EVENTS[-1][0], ts_init=8).to_json())
    assert (wire["last_qty"], wire["last_px"], wire["commission"]) == ("0.5", "100.1", "0.02002")


def test_order_event_of_unknown_type_is_refused() -> None:
    payload = json.loads(order_event_from_core(CORE_EVENTS[1][0], ts_init=8).to_json())
    payload["type"] = "OrderExploded"
    with pytest.raises(ValidationError, match="OrderExploded"):
        ORDER_EVENT_ADAPTER.validate_python(payload)


@pytest.mark.parametrize(
    ("change", "wire_type"),
    [
        (PositionChange.OPENED, PositionOpened),
        (PositionChange.CHANGED, PositionChanged),
        (PositionChange.CLOSED, PositionClosed),
    ],
)
def test_position_event_from_core_gives_the_wire_type_for_the_change(
    change: PositionChange, wire_type: type
) -> None:
    position = Position(StrategyId("s1"), BTC)
    position.apply_fill(OrderSide.SELL, Decimal(2), Decimal(100), Decimal("0.08"), ts=3)
    cause = uuid4()
    event = position_event_from_core(
        position, change, "USD", ts_event=3, ts_init=4, correlation_id=cause, causation_id=cause
    )
    assert type(event) is wire_type
    wire = json.loads(event.to_json())
    assert wire["type"] == wire_type.__name__
    assert (wire["side"], wire["quantity"], wire["avg_px_open"], wire["commissions"]) == (
        "SHORT",
        "-2",
        "100",
        "0.08",
    )
    assert (wire["ts_opened"], UUID(wire["causation_id"])) == (3, cause)
