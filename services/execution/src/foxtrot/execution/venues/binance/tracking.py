"""What the adapter knows of each order at Binance, and the events the venue's news makes.

News of one order arrives on two roads, REST answers and the user data stream, in either
order, and again during reconciliation. The tracker makes one story of it: an order is
accepted once, before its first fill; a fill is reported once per trade id; and the end of
an order (canceled, expired) is held back until every fill the venue counted before it has
been reported, so a late fill never lands on an order Foxtrot already closed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from foxtrot.core.enums import LiquiditySide
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderUpdated,
)
from foxtrot.core.identifiers import ClientOrderId, TradeId, VenueOrderId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.execution.venues.binance.mapping import ms_to_ns, to_decimal, venue_client_id

__all__ = ["OrderTracker", "TrackedOrder", "VenueFill"]

_ZERO: Final = Decimal(0)
_CANCELED: Final = frozenset({"CANCELED", "PENDING_CANCEL"})
_EXPIRED: Final = frozenset({"EXPIRED", "EXPIRED_IN_MATCH"})


@dataclass(slots=True)
class TrackedOrder:
    """One Foxtrot order as the venue knows it."""

    spec: OrderSpec
    venue_client_id: str
    venue_order_id: VenueOrderId | None = None
    accepted: bool = False
    ended: bool = False
    filled: Decimal = _ZERO
    # Filled by venue orders this one replaced: Binance counts a replacement from zero.
    filled_before: Decimal = _ZERO
    # Venue order ids retired by a cancel-replace: their CANCELED report is not an end.
    superseded: set[str] = field(default_factory=set)
    # An end the venue reported before all its fills: (status, venue's executedQty, ts).
    pending_end: tuple[str, Decimal, int] | None = None
    since_ms: int | None = None

    @property
    def client_order_id(self) -> ClientOrderId:
        """Foxtrot's id of the order."""
        return self.spec.client_order_id


@dataclass(frozen=True, slots=True)
class VenueFill:
    """One trade of one order, from an executionReport or from myTrades."""

    trade_id: str
    venue_order_id: str
    qty: Decimal
    price: Decimal
    commission: Decimal
    commission_asset: str
    maker: bool
    ts_ms: int


class OrderTracker:
    """Orders by Foxtrot id, venue client id and venue order id, and trade ids seen."""

    def __init__(self, default_commission_asset: str) -> None:
        self.default_commission_asset = default_commission_asset
        self._orders: dict[ClientOrderId, TrackedOrder] = {}
        self._by_venue_client: dict[str, ClientOrderId] = {}
        self._by_venue_order: dict[str, ClientOrderId] = {}
        self.trade_ids: set[str] = set()

    # --- what is tracked ------------------------------------------------------------------

    def track(self, spec: OrderSpec) -> TrackedOrder:
        """Start tracking an order about to be sent (or return the one tracked)."""
        order = self._orders.get(spec.client_order_id)
        if order is None:
            order = TrackedOrder(spec, venue_client_id(spec.client_order_id))
            self._orders[spec.client_order_id] = order
            self._by_venue_client[order.venue_client_id] = spec.client_order_id
        return order

    def restore(
        self, spec: OrderSpec, venue_order_id: VenueOrderId, filled: Decimal, ts_ms: int | None
    ) -> TrackedOrder:
        """Track an order that was working before a restart."""
        order = self.track(spec)
        order.accepted = True
        order.filled = filled
        order.since_ms = ts_ms
        self._set_venue_order_id(order, venue_order_id)
        return order

    def get(self, client_order_id: ClientOrderId) -> TrackedOrder | None:
        """The tracked order of a Foxtrot id."""
        return self._orders.get(client_order_id)

    def find(self, venue_client: str | None, venue_order: Any = None) -> TrackedOrder | None:
        """The tracked order of a venue client id, else of a venue order id."""
        cid = self._by_venue_client.get(venue_client or "")
        if cid is None and venue_order is not None:
            cid = self._by_venue_order.get(str(venue_order))
        return self._orders.get(cid) if cid is not None else None

    def live(self) -> Iterator[TrackedOrder]:
        """Orders that have not ended."""
        return (o for o in list(self._orders.values()) if not o.ended)

    def forget(self, order: TrackedOrder) -> None:
        """Stop tracking an order (it ended and nothing more is owed)."""
        self._orders.pop(order.client_order_id, None)
        self._by_venue_client.pop(order.venue_client_id, None)
        for venue_order in (*order.superseded, order.venue_order_id):
            self._by_venue_order.pop(str(venue_order), None)

    # --- venue news -> events ---------------------------------------------------------------

    def accept(self, order: TrackedOrder, venue_order_id: Any, ts_ms: Any) -> list[OrderEvent]:
        """The venue holds the order under ``venue_order_id``."""
        if str(venue_order_id) not in order.superseded:
            self._set_venue_order_id(order, VenueOrderId(str(venue_order_id)))
        if order.accepted or order.ended:
            return []
        order.accepted = True
        order.since_ms = order.since_ms or int(ts_ms)
        assert order.venue_order_id is not None
        fields = order.spec.event_fields(ms_to_ns(ts_ms))
        return [OrderAccepted(**fields, venue_order_id=order.venue_order_id)]

    def fill(self, order: TrackedOrder, fill: VenueFill) -> list[OrderEvent]:
        """A trade of the order; nothing when its trade id was reported already."""
        if fill.trade_id in self.trade_ids or order.ended:
            return []
        self.trade_ids.add(fill.trade_id)
        events = self.accept(order, fill.venue_order_id, fill.ts_ms)
        order.filled += fill.qty
        events.append(
            OrderFilled(
                **order.spec.event_fields(ms_to_ns(fill.ts_ms)),
                venue_order_id=VenueOrderId(fill.venue_order_id),
                trade_id=TradeId(fill.trade_id),
                side=order.spec.side,
                last_qty=fill.qty,
                last_px=fill.price,
                commission=fill.commission,
                commission_currency=fill.commission_asset or self.default_commission_asset,
                liquidity_side=LiquiditySide.MAKER if fill.maker else LiquiditySide.TAKER,
            )
        )
        if order.filled >= order.spec.quantity:
            order.ended = True
            self.forget(order)
        return events + self._settle(order)

    def end(
        self, order: TrackedOrder, status: str, executed: Decimal, ts_ms: Any
    ) -> list[OrderEvent]:
        """The venue says the order stopped working (CANCELED, EXPIRED ...) having
        filled ``executed`` of its current venue order."""
        if order.ended or not (status in _CANCELED or status in _EXPIRED):
            return []
        order.pending_end = (status, executed, int(ts_ms))
        return self._settle(order)

    def reject(self, order: TrackedOrder, code: str, reason: str, ts_ns: int) -> list[OrderEvent]:
        """The venue refused the order."""
        if order.ended or order.accepted:
            return []
        order.ended = True
        self.forget(order)
        fields = order.spec.event_fields(ts_ns)
        return [OrderRejected(**fields, reason_code=code, reason=reason)]

    def replaced(self, order: TrackedOrder, response: Mapping[str, Any]) -> list[OrderEvent]:
        """A cancel-replace went through: the order works on as the new venue order."""
        canceled, new = response["cancelResponse"], response["newOrderResponse"]
        order.superseded.add(str(canceled["orderId"]))
        order.filled_before += to_decimal(canceled["executedQty"])
        # The total is what the old order filled plus the new order's size, whatever was
        # asked: a fill that raced the replace makes it larger than asked, and says so.
        quantity = order.filled_before + to_decimal(new["origQty"])
        price = to_decimal(new["price"]) if order.spec.price is not None else None
        order.spec = dataclasses.replace(order.spec, quantity=quantity, price=order.spec.price)
        if price is not None:
            order.spec = dataclasses.replace(order.spec, price=price)
        self._set_venue_order_id(order, VenueOrderId(str(new["orderId"])))
        ts = new.get("transactTime") or new.get("workingTime") or 0
        fields = order.spec.event_fields(ms_to_ns(ts))
        return [OrderUpdated(**fields, quantity=quantity, price=price)]

    def snapshot(self, order: TrackedOrder, raw: Mapping[str, Any]) -> list[OrderEvent]:
        """Events from the venue's description of the order (a REST answer)."""
        ts = raw.get("transactTime") or raw.get("updateTime") or raw.get("time") or 0
        events = self.accept(order, raw["orderId"], ts)
        return events + self.end(order, str(raw.get("status")), to_decimal(raw["executedQty"]), ts)

    def execution_report(self, report: Mapping[str, Any]) -> list[OrderEvent]:
        """Events from one executionReport of the user data stream."""
        kind = report.get("x")
        # A cancel report names the canceled order in C; c is the cancel request's own id.
        original = report.get("C") if kind == "CANCELED" else None
        venue_client = original or report.get("c")
        order = self.find(venue_client, report.get("i"))
        if order is None:
            return []
        ts = report.get("T") or report.get("E") or 0
        if kind == "NEW":
            return self.accept(order, report["i"], ts)
        if kind == "TRADE":
            return self.fill(order, self.fill_from_report(report))
        if kind == "REJECTED":
            return self.reject(order, "REJECTED", str(report.get("r", "")), ms_to_ns(ts))
        if str(report.get("i")) in order.superseded:
            return []  # the cancel half of our own cancel-replace
        return self.end(order, str(report.get("X")), to_decimal(report.get("z", "0")), ts)

    def fill_from_report(self, report: Mapping[str, Any]) -> VenueFill:
        """The trade in an executionReport of execution type TRADE."""
        return VenueFill(
            trade_id=str(report["t"]),
            venue_order_id=str(report["i"]),
            qty=to_decimal(report["l"]),
            price=to_decimal(report["L"]),
            commission=to_decimal(report.get("n") or "0"),
            commission_asset=str(report.get("N") or ""),
            maker=bool(report.get("m")),
            ts_ms=int(report["T"]),
        )

    @staticmethod
    def fill_from_trade(trade: Mapping[str, Any]) -> VenueFill:
        """The trade in one entry of myTrades."""
        return VenueFill(
            trade_id=str(trade["id"]),
            venue_order_id=str(trade["orderId"]),
            qty=to_decimal(trade["qty"]),
            price=to_decimal(trade["price"]),
            commission=to_decimal(trade.get("commission") or "0"),
            commission_asset=str(trade.get("commissionAsset") or ""),
            maker=bool(trade.get("isMaker")),
            ts_ms=int(trade["time"]),
        )

    def _settle(self, order: TrackedOrder) -> list[OrderEvent]:
        """Emit a held-back end once the fills before it are all in."""
        if order.pending_end is None:
            return []
        status, executed, ts_ms = order.pending_end
        if order.filled < order.filled_before + executed:
            return []  # fills the venue counted are still on their way
        order.pending_end = None
        if order.ended:
            return []
        order.ended = True
        self.forget(order)
        fields = order.spec.event_fields(ms_to_ns(ts_ms))
        if status in _EXPIRED:
            return [OrderExpired(**fields)]
        return [OrderCanceled(**fields)]

    def _set_venue_order_id(self, order: TrackedOrder, venue_order_id: VenueOrderId) -> None:
        order.venue_order_id = venue_order_id
        self._by_venue_order[str(venue_order_id)] = order.client_order_id
