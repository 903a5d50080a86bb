"""Execution's order and position views read back into domain objects."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from foxtrot.common.execution_views import order_of, position_of, spec_of
from foxtrot.common.messages.v1 import OrderView, PositionView
from foxtrot.core.enums import ContingencyType, OrderStatus, OrderType
from foxtrot.core.identifiers import ClientOrderId, InstrumentId


def _view(**changes: Any) -> OrderView:
    fields: dict[str, Any] = {
        "seq": 7,
        "client_order_id": "s1-1-1",
        "venue_order_id": "SIM-s1-1-1",
        "strategy_id": "s1",
        "account_id": "ACC",
        "instrument_id": "BTC-PERP.FTX",
        "side": "SELL",
        "order_type": "STOP_LIMIT",
        "time_in_force": "GTC",
        "quantity": "2",
        "price": "94.5",
        "trigger_price": "95",
        "expire_time_ns": None,
        "reduce_only": True,
        "post_only": False,
        "contingency_type": "OCO",
        "order_list_id": "L1",
        "linked_order_ids": ("s1-1-2",),
        "parent_order_id": "s1-1-0",
        "status": "PENDING_UPDATE",
        "working_status": "PARTIALLY_FILLED",
        "filled_qty": "0.5",
        "avg_px": "94.6",
        "ts_init": 1,
        "ts_last": 2,
    }
    return OrderView.model_validate(fields | changes)


def test_an_order_view_becomes_the_order_in_its_state() -> None:
    order = order_of(_view())
    assert order is not None
    spec = order.spec
    assert spec.order_type is OrderType.STOP_LIMIT
    assert (spec.price, spec.trigger_price, spec.quantity) == (
        Decimal("94.5"),
        Decimal("95"),
        Decimal(2),
    )
    assert spec.instrument_id == InstrumentId("BTC-PERP", "FTX")
    assert spec.contingency_type is ContingencyType.OCO
    assert spec.linked_order_ids == (ClientOrderId("s1-1-2"),)
    assert spec.parent_order_id == ClientOrderId("s1-1-0")
    assert (order.status, order.working_status) == (
        OrderStatus.PENDING_UPDATE,
        OrderStatus.PARTIALLY_FILLED,
    )
    assert (order.filled_qty, order.avg_px) == (Decimal("0.5"), Decimal("94.6"))
    assert order.venue_order_id == "SIM-s1-1-1"


def test_a_view_that_makes_no_valid_order_is_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = _view(order_type="LIMIT", price=None)  # a limit order needs a price
    with caplog.at_level(logging.WARNING):
        assert spec_of(bad) is None
        assert order_of(bad) is None
    assert "s1-1-1" in caplog.text


def test_a_short_position_keeps_its_sign_and_its_cost() -> None:
    view = PositionView(
        strategy_id="s1",
        instrument_id="BTC-PERP.FTX",
        side="SHORT",
        quantity="-3",
        avg_px_open="100",
        realized_pnl="5",
        unrealized_pnl=None,
        commissions="0.3",
        currency="USD",
        ts_last=9,
    )
    position = position_of(view)
    assert position.quantity == Decimal(-3)
    assert position.cost_open == Decimal(300)
    assert (position.realized_pnl, position.commissions, position.ts_last) == (
        Decimal(5),
        Decimal("0.3"),
        9,
    )
