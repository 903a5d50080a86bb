"""Property test: no sequence of events can break an order's invariants."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

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
QUANTITY = Decimal(10)

# Mostly the order's own id, sometimes another order's, which must always be refused.
client_order_ids = st.sampled_from(["o-1", "o-1", "o-1", "o-2"]).map(ClientOrderId)
ts = st.integers(min_value=0, max_value=10**18)
# Quarter lots from -0.5 to 12.5: zero, negative, partial, exact and over-sized fills.
fill_qtys = st.integers(min_value=-2, max_value=50).map(lambda n: Decimal(n) / 4)
fill_pxs = st.integers(min_value=1, max_value=10_000).map(lambda n: Decimal(n) / 100)


def _event(cls: type[Any], **extra: Any) -> st.SearchStrategy[OrderEvent]:
    return st.builds(
        cls,
        client_order_id=client_order_ids,
        strategy_id=st.just(StrategyId("s1")),
        instrument_id=st.just(BTC),
        ts_event=ts,
        **{k: st.just(v) if not isinstance(v, st.SearchStrategy) else v for k, v in extra.items()},
    )


# Quantities a venue may update an order to, from below to above the original 10.
update_qtys = st.none() | st.integers(min_value=-1, max_value=60).map(lambda n: Decimal(n) / 4)
update_pxs = st.none() | st.integers(min_value=-1, max_value=10_000).map(lambda n: Decimal(n) / 100)

events = st.one_of(
    _event(OrderDenied, reason_code="R", reason="r"),
    _event(OrderPendingUpdate),
    _event(OrderPendingCancel),
    _event(OrderUpdated, quantity=update_qtys, price=update_pxs, trigger_price=update_pxs),
    _event(OrderModifyRejected, reason_code="R", reason="r"),
    _event(OrderCancelRejected, reason_code="R", reason="r"),
    _event(OrderTriggered),
    _event(OrderSubmitted),
    _event(OrderAccepted, venue_order_id=VenueOrderId("v-1")),
    _event(OrderRejected, reason_code="R", reason="r"),
    _event(OrderCanceled),
    _event(OrderExpired),
    _event(
        OrderFilled,
        venue_order_id=st.none() | st.just(VenueOrderId("v-1")),
        trade_id=TradeId("t"),
        side=OrderSide.BUY,
        last_qty=fill_qtys,
        last_px=fill_pxs,
        commission=Decimal(0),
        commission_currency="USD",
        liquidity_side=LiquiditySide.MAKER,
    ),
    # Fills are weighted up so that sequences often reach the fill states.
    _event(
        OrderFilled,
        venue_order_id=VenueOrderId("v-1"),
        trade_id=TradeId("t"),
        side=OrderSide.BUY,
        last_qty=fill_qtys,
        last_px=fill_pxs,
        commission=Decimal(0),
        commission_currency="USD",
        liquidity_side=LiquiditySide.MAKER,
    ),
)


_WORKING = {OrderStatus.ACCEPTED, OrderStatus.TRIGGERED, OrderStatus.PARTIALLY_FILLED}
_PENDING = {OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL}
_SPECS: dict[OrderType, dict[str, Any]] = {
    OrderType.MARKET: {},
    OrderType.LIMIT: {"price": Decimal("50")},
    OrderType.STOP_LIMIT: {"price": Decimal("50"), "trigger_price": Decimal("49")},
}


def _snapshot(order: Order) -> tuple[object, ...]:
    return (
        order.status,
        order.working_status,
        order.spec,
        order.filled_qty,
        order.avg_px,
        order.venue_order_id,
        len(order.events),
    )


def _opening(client_order_id: str, ts_event: int) -> list[OrderEvent]:
    common: dict[str, Any] = {
        "client_order_id": ClientOrderId(client_order_id),
        "strategy_id": StrategyId("s1"),
        "instrument_id": BTC,
        "ts_event": ts_event,
    }
    return [OrderSubmitted(**common), OrderAccepted(**common, venue_order_id=VenueOrderId("v-1"))]


# Most sequences start with the order submitted and accepted, so that the random events
# after it reach the working, pending and fill states rather than stopping at DENIED.
sequences = st.builds(
    lambda cut, tail: _opening("o-1", 0)[:cut] + tail,
    st.sampled_from([0, 1, 2, 2, 2, 2]),
    st.lists(events, min_size=1, max_size=30),
)


@settings(max_examples=1_000, deadline=None)
@given(st.sampled_from(list(_SPECS)), sequences)
def test_random_event_sequences_never_break_order_invariants(
    order_type: OrderType, sequence: list[OrderEvent]
) -> None:
    order = Order(
        OrderSpec(
            client_order_id=ClientOrderId("o-1"),
            strategy_id=StrategyId("s1"),
            account_id=AccountId("acc"),
            instrument_id=BTC,
            side=OrderSide.BUY,
            order_type=order_type,
            quantity=QUANTITY,
            **_SPECS[order_type],
        )
    )
    applied_fills: list[OrderFilled] = []
    for event in sequence:
        before = _snapshot(order)
        status_before = order.status
        try:
            order.apply(event)
        except InvalidOrderTransition:
            # A refused event leaves the order exactly as it was.
            assert _snapshot(order) == before
        else:
            assert not status_before.is_terminal, f"{status_before} accepted {type(event).__name__}"
            assert order.events[-1] is event
            if isinstance(event, OrderFilled):
                applied_fills.append(event)
            if isinstance(event, OrderTriggered):
                assert order_type is OrderType.STOP_LIMIT

        if status_before.is_terminal:
            assert order.status is status_before
        quantity = order.spec.quantity
        assert Decimal(0) <= order.filled_qty <= quantity
        assert (order.status is OrderStatus.FILLED) == (order.filled_qty == quantity)
        assert order.filled_qty == sum((f.last_qty for f in applied_fills), Decimal(0))
        # Pending states always know the working state they return to, and only they do.
        if order.status in _PENDING:
            assert order.working_status in _WORKING
        else:
            assert order.working_status is None
        if order.spec.price is not None:
            assert order.spec.price > 0
        if applied_fills:
            notional = sum((f.last_qty * f.last_px for f in applied_fills), Decimal(0))
            exact = notional / order.filled_qty
            # Within rounding at Decimal's 28 digits; exactness is pinned in test_core_orders.py.
            assert order.avg_px is not None
            assert abs(order.avg_px - exact) <= exact * Decimal("1e-24")
        else:
            assert order.avg_px is None
