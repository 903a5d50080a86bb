"""Bringing Foxtrot's view of its orders in line with Binance's, after a gap.

For each instrument concerned, the venue's open orders and the account's trades are
fetched. Trades Foxtrot has not seen become fills; orders that stopped working meanwhile
become OrderCanceled or OrderExpired (after their fills); an order sent but never
acknowledged is looked up by its client order id. Open orders Foxtrot did not place are
reported, not adopted: Foxtrot knows no strategy for them.

What cannot be explained raises ReconciliationError: an order Binance neither holds nor
knows, or more (or less) filled at Binance than the trades found account for.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ccxt

from foxtrot.core.events import OrderEvent
from foxtrot.core.identifiers import ClientOrderId, InstrumentId, VenueOrderId
from foxtrot.execution.venues.binance.errors import BinanceVenueError, ReconciliationError
from foxtrot.execution.venues.binance.mapping import ms_to_ns, to_decimal
from foxtrot.execution.venues.binance.rest import BinanceRest, RawOrder
from foxtrot.execution.venues.binance.tracking import OrderTracker, TrackedOrder

__all__ = ["ForeignOrder", "Reconciliation", "reconcile_orders"]

_LOOKBACK_MS = 60_000
_NOT_AT_VENUE = "NOT_AT_VENUE"


@dataclass(frozen=True, slots=True)
class ForeignOrder:
    """An order open at Binance that Foxtrot does not know."""

    instrument_id: InstrumentId
    venue_order_id: VenueOrderId
    venue_client_id: str
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal
    filled: Decimal


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What a reconciliation found: events to apply, and orders Foxtrot does not know."""

    events: list[OrderEvent] = field(default_factory=list)
    foreign_orders: list[ForeignOrder] = field(default_factory=list)


async def reconcile_orders(
    rest: BinanceRest,
    tracker: OrderTracker,
    symbols: Mapping[InstrumentId, str],
    instruments: Collection[InstrumentId],
    in_flight: Collection[ClientOrderId] = (),
) -> Reconciliation:
    """Reconcile the tracked orders of ``instruments`` with the venue (see the module)."""
    result = Reconciliation()
    for instrument_id in sorted(instruments, key=str):
        symbol = symbols.get(instrument_id)
        if symbol is None:
            raise ReconciliationError(f"instrument {instrument_id} is not traded on Binance spot")
        orders = [
            o
            for o in tracker.live()
            if o.spec.instrument_id == instrument_id and o.client_order_id not in in_flight
        ]
        try:
            await _reconcile_symbol(rest, tracker, instrument_id, symbol, orders, result)
        except (ccxt.BaseError, BinanceVenueError) as exc:
            if isinstance(exc, ReconciliationError):
                raise
            raise ReconciliationError(
                f"could not reconcile {instrument_id}: Binance could not be reached ({exc})"
            ) from exc
    return result


async def _reconcile_symbol(
    rest: BinanceRest,
    tracker: OrderTracker,
    instrument_id: InstrumentId,
    symbol: str,
    orders: list[TrackedOrder],
    result: Reconciliation,
) -> None:
    open_orders = {str(o["clientOrderId"]): o for o in await rest.open_orders(symbol)}
    known: dict[str, RawOrder] = {}
    for order in orders:
        raw = open_orders.get(order.venue_client_id)
        if raw is None:
            raw = await rest.find_order(symbol, order.venue_client_id)
        if raw is None:
            if order.accepted:
                raise ReconciliationError(
                    f"order {order.client_order_id} (venue id {order.venue_order_id}) is "
                    "neither open at Binance nor known to it"
                )
            # Sent, never acknowledged, and unknown to the venue: it never got there.
            result.events.extend(
                tracker.reject(
                    order, _NOT_AT_VENUE, "Binance has no order under this client order id", 0
                )
            )
            continue
        known[order.venue_client_id] = raw
        result.events.extend(tracker.accept(order, raw["orderId"], _ts_ms(raw)))

    starts = [o.since_ms for o in orders if o.since_ms]
    since = min(starts) - _LOOKBACK_MS if starts and len(starts) == len(orders) else None
    trades = await rest.my_trades(symbol, since) if orders else []
    for trade in sorted(trades, key=lambda t: (int(t["time"]), int(t["id"]))):
        found = tracker.find(None, trade["orderId"])
        if found is not None:
            result.events.extend(tracker.fill(found, tracker.fill_from_trade(trade)))

    for order in orders:
        raw_known = known.get(order.venue_client_id)
        if raw_known is not None:
            result.events.extend(_settle(tracker, order, raw_known))

    tracked = {o.venue_client_id for o in orders}
    for client_id, raw in open_orders.items():
        if client_id not in tracked and tracker.find(client_id, raw["orderId"]) is None:
            result.foreign_orders.append(_foreign(instrument_id, raw))


def _settle(tracker: OrderTracker, order: TrackedOrder, raw: RawOrder) -> list[OrderEvent]:
    executed = to_decimal(raw["executedQty"])
    venue_total = order.filled_before + executed
    if order.filled > venue_total:
        raise ReconciliationError(
            f"order {order.client_order_id}: Foxtrot has {order.filled} filled but Binance "
            f"counts only {venue_total}"
        )
    status = str(raw["status"])
    if order.filled < venue_total:
        raise ReconciliationError(
            f"order {order.client_order_id} is {status} at Binance with {venue_total} "
            f"filled, but the account's trades account for only {order.filled}"
        )
    if status == "REJECTED":
        ts_ns = ms_to_ns(_ts_ms(raw))
        return tracker.reject(order, "REJECTED", "Binance rejected the order", ts_ns)
    return tracker.end(order, status, executed, _ts_ms(raw))


def _ts_ms(raw: RawOrder) -> int:
    return int(raw.get("updateTime") or raw.get("transactTime") or raw.get("time") or 0)


def _foreign(instrument_id: InstrumentId, raw: Mapping[str, Any]) -> ForeignOrder:
    return ForeignOrder(
        instrument_id=instrument_id,
        venue_order_id=VenueOrderId(str(raw["orderId"])),
        venue_client_id=str(raw["clientOrderId"]),
        side=str(raw["side"]),
        order_type=str(raw["type"]),
        quantity=to_decimal(raw["origQty"]),
        price=to_decimal(raw["price"]),
        filled=to_decimal(raw["executedQty"]),
    )
