"""The Order state machine: legal transitions, refused events, fills and terminal states."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from foxtrot.core.errors import InvalidOrderTransition
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from foxtrot.core.orders import Order, OrderSpec

BTC = InstrumentId("BTCUSDT", "BINANCE")
CID = ClientOrderId("o-1")


def spec(**overrides: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": CID,
        "strategy_id": StrategyId("s1"),
        "account_id": AccountId("acc"),
        "instrument_id": BTC,
        "side": OrderSide.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Decimal(4),
        "price": Decimal(100),
    }
    fields.update(overrides)
    return OrderSpec(**fields)


def _common(cid: str) -> dict[str, Any]:
    return {
        "client_order_id": ClientOrderId(cid),
        "strategy_id": StrategyId("s1"),
        "instrument_id": BTC,
        "ts_event": 1,
    }


def denied(cid: str = CID) -> OrderDenied:
    return OrderDenied(**_common(cid), reason_code="X", reason="no")


def submitted(cid: str = CID) -> OrderSubmitted:
    return OrderSubmitted(**_common(cid))


def accepted(cid: str = CID) -> OrderAccepted:
    return OrderAccepted(**_common(cid), venue_order_id=VenueOrderId("v-1"))


def rejected(cid: str = CID) -> OrderRejected:
    return OrderRejected(**_common(cid), reason_code="X", reason="no")


def canceled(cid: str = CID) -> OrderCanceled:
    return OrderCanceled(**_common(cid))


def expired(cid: str = CID) -> OrderExpired:
    return OrderExpired(**_common(cid))


def filled(
    qty: str | int, px: str | int = 100, cid: str = CID, venue_order_id: str | None = None
) -> OrderFilled:
    return OrderFilled(
        **_common(cid),
        venue_order_id=VenueOrderId(venue_order_id) if venue_order_id else None,
        trade_id=TradeId(f"t-{qty}-{px}"),
        side=OrderSide.BUY,
        last_qty=Decimal(qty),
        last_px=Decimal(px),
        commission=Decimal(0),
        commission_currency="USD",
        liquidity_side=LiquiditySide.TAKER,
    )


def order_after(*events: OrderEvent) -> Order:
    order = Order(spec())
    for event in events:
        order.apply(event)
    return order


# --- Order.apply: legal paths --------------------------------------------------------


def test_new_order_starts_initialized_with_nothing_filled() -> None:
    order = Order(spec())
    assert (order.status, order.filled_qty, order.avg_px, order.leaves_qty) == (
        OrderStatus.INITIALIZED,
        Decimal(0),
        None,
        Decimal(4),
    )


def test_submit_accept_and_fill_in_two_parts_ends_filled_with_every_event_recorded() -> None:
    events: list[OrderEvent] = [submitted(), accepted(), filled(3, 100), filled(1, 104)]
    order = order_after(*events[:3])
    assert (order.status, order.venue_order_id) == (OrderStatus.PARTIALLY_FILLED, "v-1")
    order.apply(events[3])
    assert order.status is OrderStatus.FILLED
    assert order.events == events
    assert order.leaves_qty == 0


def test_average_fill_price_is_quantity_weighted() -> None:
    # 3 @ 100 and 1 @ 104: (300 + 104) / 4 = 101
    order = order_after(submitted(), accepted(), filled(3, 100), filled(1, 104))
    assert order.filled_qty == Decimal(4)
    assert order.avg_px == Decimal(101)


def test_fractional_fills_accumulate_exactly() -> None:
    order = order_after(submitted(), accepted(), filled("0.1", "10"), filled("0.2", "40"))
    assert order.filled_qty == Decimal("0.3")
    assert order.avg_px == Decimal(30)  # (1 + 8) / 0.3


def test_average_fill_price_stays_exact_over_many_fills() -> None:
    # notional 26.62 + 58 + 3.43 + 7.4825 = 95.5325 over 3.5 lots = 27.295 exactly
    order = order_after(
        submitted(),
        accepted(),
        filled("0.5", "53.24"),
        filled("2.5", "23.2"),
        filled("0.25", "13.72"),
        filled("0.25", "29.93"),
    )
    assert order.avg_px == Decimal("27.295")


def test_fill_carrying_a_venue_order_id_records_it() -> None:
    order = order_after(submitted(), filled(1, venue_order_id="v-9"))
    assert order.venue_order_id == "v-9"


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([denied()], OrderStatus.DENIED),
        ([submitted()], OrderStatus.SUBMITTED),
        ([submitted(), rejected()], OrderStatus.REJECTED),
        ([submitted(), canceled()], OrderStatus.CANCELED),
        ([submitted(), accepted(), expired()], OrderStatus.EXPIRED),
        ([submitted(), accepted(), filled(1), canceled()], OrderStatus.CANCELED),
        ([submitted(), accepted(), filled(1), expired()], OrderStatus.EXPIRED),
        ([submitted(), filled(4)], OrderStatus.FILLED),  # venue filled before its ack arrived
        ([canceled()], OrderStatus.CANCELED),  # a contingent child whose parent never filled
    ],
)
def test_legal_event_sequences_reach_the_expected_status(
    events: list[OrderEvent], status: OrderStatus
) -> None:
    assert order_after(*events).status is status


# --- Order.apply: illegal events -----------------------------------------------------


@pytest.mark.parametrize(
    ("history", "event"),
    [
        ([], accepted()),
        ([], rejected()),
        ([], filled(1)),
        ([], expired()),
        ([submitted()], submitted()),
        ([submitted()], denied()),
        ([submitted()], expired()),
        ([submitted(), accepted()], accepted()),
        ([submitted(), accepted()], rejected()),
    ],
)
def test_event_not_allowed_in_the_current_state_raises_and_changes_nothing(
    history: list[OrderEvent], event: OrderEvent
) -> None:
    order = order_after(*history)
    before = (order.status, order.filled_qty, order.avg_px, len(order.events))
    with pytest.raises(
        InvalidOrderTransition, match=f"{type(event).__name__} is not allowed in state {before[0]}"
    ):
        order.apply(event)
    assert (order.status, order.filled_qty, order.avg_px, len(order.events)) == before


def test_event_for_another_order_is_refused() -> None:
    order = Order(spec())
    with pytest.raises(InvalidOrderTransition, match="event for order o-2 applied to order o-1"):
        order.apply(submitted("o-2"))
    assert order.status is OrderStatus.INITIALIZED


def test_overfill_is_refused_and_leaves_the_order_unchanged() -> None:
    order = order_after(submitted(), accepted(), filled(3, 100))
    with pytest.raises(InvalidOrderTransition, match="fill of 2 exceeds the 1 left to fill"):
        order.apply(filled(2, 90))
    assert (order.status, order.filled_qty, order.avg_px) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal(3),
        Decimal(100),
    )


@pytest.mark.parametrize("qty", ["0", "-1"])
def test_fill_of_non_positive_quantity_is_refused(qty: str) -> None:
    order = order_after(submitted(), accepted())
    with pytest.raises(InvalidOrderTransition, match=f"fill quantity must be positive, was {qty}"):
        order.apply(filled(qty))
    assert order.filled_qty == 0


TERMINAL_HISTORIES: dict[OrderStatus, list[OrderEvent]] = {
    OrderStatus.DENIED: [denied()],
    OrderStatus.REJECTED: [submitted(), rejected()],
    OrderStatus.CANCELED: [submitted(), accepted(), canceled()],
    OrderStatus.EXPIRED: [submitted(), accepted(), expired()],
    OrderStatus.FILLED: [submitted(), accepted(), filled(4)],
}
ALL_EVENTS: list[OrderEvent] = [
    denied(),
    submitted(),
    accepted(),
    rejected(),
    canceled(),
    expired(),
    filled(1),
]


@pytest.mark.parametrize("status", list(TERMINAL_HISTORIES))
@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: type(e).__name__)
def test_terminal_order_refuses_every_further_event(status: OrderStatus, event: OrderEvent) -> None:
    order = order_after(*TERMINAL_HISTORIES[status])
    assert order.status is status
    assert status.is_terminal
    with pytest.raises(InvalidOrderTransition):
        order.apply(event)
    assert order.status is status


# --- modify, cancel and trigger requests -----------------------------------------------


def pending_update() -> OrderPendingUpdate:
    return OrderPendingUpdate(**_common(CID))


def pending_cancel() -> OrderPendingCancel:
    return OrderPendingCancel(**_common(CID))


def updated(**fields: Any) -> OrderUpdated:
    changes: dict[str, Any] = {k: Decimal(v) for k, v in fields.items()}
    return OrderUpdated(**_common(CID), **changes)


def modify_rejected() -> OrderModifyRejected:
    return OrderModifyRejected(**_common(CID), reason_code="X", reason="no")


def cancel_rejected() -> OrderCancelRejected:
    return OrderCancelRejected(**_common(CID), reason_code="X", reason="too late")


def test_a_modify_goes_pending_and_the_update_returns_the_order_to_work() -> None:
    order = order_after(submitted(), accepted(), filled(1), pending_update())
    assert (order.status, order.working_status) == (
        OrderStatus.PENDING_UPDATE,
        OrderStatus.PARTIALLY_FILLED,
    )
    order.apply(updated(quantity=6, price="99.5"))
    assert (order.status, order.working_status) == (OrderStatus.PARTIALLY_FILLED, None)
    assert (order.spec.quantity, order.spec.price, order.leaves_qty) == (
        Decimal(6),
        Decimal("99.5"),
        Decimal(5),
    )


def test_a_refused_modify_or_cancel_returns_the_order_to_the_state_it_worked_in() -> None:
    order = order_after(submitted(), accepted(), pending_update(), modify_rejected())
    assert order.status is OrderStatus.ACCEPTED
    order.apply(pending_cancel())
    order.apply(cancel_rejected())
    assert (order.status, order.working_status) == (OrderStatus.ACCEPTED, None)


def test_a_fill_while_a_cancel_is_pending_keeps_it_pending_over_the_partial_fill() -> None:
    order = order_after(submitted(), accepted(), pending_cancel(), filled(1))
    assert (order.status, order.working_status) == (
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PARTIALLY_FILLED,
    )
    order.apply(cancel_rejected())
    assert order.status is OrderStatus.PARTIALLY_FILLED
    order.apply(pending_cancel())
    order.apply(filled(3))  # the rest filled before the cancel got there
    assert (order.status, order.working_status) == (OrderStatus.FILLED, None)
    late = cancel_rejected()
    with pytest.raises(InvalidOrderTransition, match="not allowed in state FILLED"):
        order.apply(late)


def test_a_late_refusal_of_a_request_already_overtaken_changes_nothing() -> None:
    order = order_after(submitted(), accepted(), pending_update(), updated(price=101))
    order.apply(modify_rejected())  # the venue's answer to an earlier modify, say
    assert order.status is OrderStatus.ACCEPTED
    assert isinstance(order.events[-1], OrderModifyRejected)


def test_an_update_may_not_cut_the_quantity_to_what_has_filled() -> None:
    order = order_after(submitted(), accepted(), filled(2))
    with pytest.raises(InvalidOrderTransition, match="must exceed the 2 already filled"):
        order.apply(updated(quantity=2))
    with pytest.raises(InvalidOrderTransition, match="price must be positive"):
        order.apply(updated(price=0))
    assert (order.spec.quantity, order.spec.price, len(order.events)) == (
        Decimal(4),
        Decimal(100),
        3,
    )


def test_a_stop_limit_triggers_and_then_works_as_a_limit_order() -> None:
    order = Order(
        spec(order_type=OrderType.STOP_LIMIT, trigger_price=Decimal(101), price=Decimal(102))
    )
    for event in (submitted(), accepted(), OrderTriggered(**_common(CID)), filled(4, 102)):
        order.apply(event)
    assert [type(e).__name__ for e in order.events][2:] == ["OrderTriggered", "OrderFilled"]
    assert order.status is OrderStatus.FILLED


def test_an_order_without_a_trigger_cannot_be_triggered() -> None:
    order = order_after(submitted(), accepted())
    with pytest.raises(InvalidOrderTransition, match="a LIMIT order has no trigger"):
        order.apply(OrderTriggered(**_common(CID)))
    assert order.status is OrderStatus.ACCEPTED
