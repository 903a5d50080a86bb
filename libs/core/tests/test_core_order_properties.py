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
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
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


events = st.one_of(
    _event(OrderDenied, reason_code="R", reason="r"),
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


@settings(max_examples=400, deadline=None)
@given(st.lists(events, min_size=1, max_size=25))
def test_random_event_sequences_never_break_order_invariants(sequence: list[OrderEvent]) -> None:
    order = Order(
        OrderSpec(
            client_order_id=ClientOrderId("o-1"),
            strategy_id=StrategyId("s1"),
            account_id=AccountId("acc"),
            instrument_id=BTC,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=QUANTITY,
        )
    )
    applied_fills: list[OrderFilled] = []
    for event in sequence:
        before = (order.status, order.filled_qty, order.avg_px, len(order.events))
        try:
            order.apply(event)
        except InvalidOrderTransition:
            # A refused event leaves the order exactly as it was.
            assert (order.status, order.filled_qty, order.avg_px, len(order.events)) == before
        else:
            assert not before[0].is_terminal, f"{before[0]} accepted {type(event).__name__}"
            assert order.events[-1] is event
            if isinstance(event, OrderFilled):
                applied_fills.append(event)

        if before[0].is_terminal:
            assert order.status is before[0]
        assert Decimal(0) <= order.filled_qty <= QUANTITY
        assert (order.status is OrderStatus.FILLED) == (order.filled_qty == QUANTITY)
        assert order.filled_qty == sum((f.last_qty for f in applied_fills), Decimal(0))
        if applied_fills:
            notional = sum((f.last_qty * f.last_px for f in applied_fills), Decimal(0))
            exact = notional / order.filled_qty
            # Within rounding at Decimal's 28 digits; exactness is pinned in test_core_orders.py.
            assert order.avg_px is not None
            assert abs(order.avg_px - exact) <= exact * Decimal("1e-24")
        else:
            assert order.avg_px is None
