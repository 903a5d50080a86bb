"""The execution engine: every order's life between a strategy and its venue, in one place.

It routes each order to the venue when the venue takes its type, or holds it in the
emulator until its trigger fires; applies every event to its order; and carries out what
contingent orders call for (OTO releases, OCO cancels and trims) until nothing more
follows. Paper trading runs it inside the execution service and the backtester runs it
directly: the same code, on a different clock.

Every method returns the events it caused, oldest first, already applied to
``orders``. An order stays in ``orders`` at least until the next call after it ended, so a
caller can read the final state of every order its events touched.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Final, Generic, TypeVar

from foxtrot.core.book import OrderBook
from foxtrot.core.contingencies import (
    CancelLinked,
    ContingentAction,
    ReleaseChild,
    ResizeLinked,
    check_order_list,
    contingent_actions,
)
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.emulator import OrderEmulator, Release, released
from foxtrot.core.enums import ContingencyType, OrderStatus
from foxtrot.core.errors import InvalidOrder, OrderNotWorking
from foxtrot.core.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSubmitted,
    OrderUpdated,
)
from foxtrot.core.identifiers import ClientOrderId, VenueOrderId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.venue_port import Venue

__all__ = ["EMULATED_PREFIX", "ExecutionEngine"]

EMULATED_PREFIX = "EMULATED-"
_Item = OrderEvent | Release | ContingentAction
_ACTIONS = (ReleaseChild, ResizeLinked, CancelLinked)  # a tuple: isinstance is faster on it
V = TypeVar("V", bound=Venue)
_SUBMITTED: Final = OrderStatus.SUBMITTED
_NO_LINKS: Final = ContingencyType.NONE
_TERMINAL: Final = frozenset(s for s in OrderStatus if s.is_terminal)


class ExecutionEngine(Generic[V]):
    """Order management over one venue, with local emulation and contingent orders."""

    def __init__(self, venue: V, emulator: OrderEmulator | None = None) -> None:
        self.venue = venue
        self.emulator = emulator or OrderEmulator()
        self.orders: dict[ClientOrderId, Order] = {}
        self._ended: list[ClientOrderId] = []

    # --- commands -----------------------------------------------------------------------

    def submit(self, spec: OrderSpec, ts: int) -> list[OrderEvent]:
        """Send one order; raises InvalidOrder for a client order id already in use."""
        if spec.contingency_type is not ContingencyType.NONE or spec.parent_order_id is not None:
            raise InvalidOrder("a contingent order must be submitted in its order list")
        return self.submit_list([spec], ts, standalone=True)

    def submit_list(
        self, specs: Sequence[OrderSpec], ts: int, *, standalone: bool = False
    ) -> list[OrderEvent]:
        """Send an order list: orders without a parent go out now, children wait for it."""
        if not standalone:
            check_order_list(specs)
        for spec in specs:
            if spec.client_order_id in self.orders:
                raise InvalidOrder(f"client order id {spec.client_order_id} is already in use")
        items: list[_Item] = []
        for spec in specs:
            self.orders[spec.client_order_id] = Order(spec)
        for spec in specs:
            if spec.parent_order_id is None:
                items += self._route(spec, ts)
        return self._run(items, ts)

    def modify(
        self,
        client_order_id: ClientOrderId,
        ts: int,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> list[OrderEvent]:
        """Change a working order's quantity or prices: OrderPendingUpdate, then the answer
        (at once for emulated and waiting orders, from the venue otherwise)."""
        order = self._working(client_order_id, "modify")
        fields = order.spec.event_fields(ts)
        change: dict[str, Any] = {
            "quantity": quantity,
            "price": price,
            "trigger_price": trigger_price,
        }
        if order.status is OrderStatus.INITIALIZED:  # a waiting child: nothing to ask
            return self._run([OrderUpdated(**fields, **change)], ts)
        if order.status is OrderStatus.SUBMITTED:
            raise OrderNotWorking(
                f"order {client_order_id} is not acknowledged by its venue yet; modify it after"
            )
        items: list[_Item] = [OrderPendingUpdate(**fields)]
        if self.emulator.is_held(client_order_id):
            try:
                items.append(self.emulator.modify(client_order_id, ts, **change))
            except InvalidOrder as exc:
                items.append(OrderModifyRejected(**fields, reason_code="INVALID", reason=str(exc)))
        elif trigger_price is not None:
            items.append(
                OrderModifyRejected(
                    **fields,
                    reason_code="NO_TRIGGER",
                    reason="the order has triggered and works at its venue without a trigger",
                )
            )
        else:
            items += self.venue.modify(order.spec, ts, quantity, price)
        return self._run(items, ts)

    def cancel(self, client_order_id: ClientOrderId, ts: int) -> list[OrderEvent]:
        """Cancel an order: OrderPendingCancel, then the answer (at once for emulated and
        waiting orders, from the venue otherwise)."""
        return self._run(self._cancel(self._working(client_order_id, "cancel"), ts), ts)

    # --- market data and time -------------------------------------------------------------

    def on_quote(self, quote: QuoteTick) -> list[OrderEvent]:
        """Match against a quote, then check emulated triggers against it."""
        items: list[_Item] = [*self.venue.on_quote(quote), *self.emulator.on_quote(quote)]
        return self._run(items, quote.ts_init)

    def on_trade(self, trade: TradeTick) -> list[OrderEvent]:
        """Match against a trade, then check emulated triggers against it."""
        matched = self.venue.on_trade(trade)
        triggered = self.emulator.on_trade(trade)
        if not matched and not triggered and not self._ended:
            return []  # what _run would give, without its set-up
        return self._run([*matched, *triggered], trade.ts_init)

    def on_bar(self, bar: Bar) -> list[OrderEvent]:
        """Match against a bar, then check emulated triggers against it."""
        matched = self.venue.on_bar(bar)
        triggered = self.emulator.on_bar(bar)
        if not matched and not triggered and not self._ended:
            return []  # what _run would give, without its set-up
        return self._run([*matched, *triggered], bar.ts_init)

    def on_book(self, book: OrderBook, ts: int) -> list[OrderEvent]:
        """Match against the book, then check emulated triggers against its best prices."""
        items: list[_Item] = [*self.venue.on_book(book, ts), *self.emulator.on_book(book, ts)]
        return self._run(items, ts)

    def advance(self, ts: int) -> list[OrderEvent]:
        """Let time pass: requests in flight arrive and orders expire."""
        items: list[_Item] = [*self.venue.advance(ts), *self.emulator.advance(ts)]
        return self._run(items, ts)

    # --- after a restart ------------------------------------------------------------------

    def restore(self, order: Order, fills: int = 0, ts_accepted: int = 0) -> None:
        """Put back an order that was open (or waiting for its parent) before a restart."""
        self.orders[order.client_order_id] = order
        spec = order.spec
        working = order.working_status or order.status
        if working is OrderStatus.INITIALIZED:
            return
        if spec.order_type not in self.venue.native_order_types and working is OrderStatus.ACCEPTED:
            self.emulator.hold(spec, ts_accepted)
        elif order.venue_order_id is not None and order.status.is_open:
            venue_spec = (
                spec if spec.order_type in self.venue.native_order_types else released(spec)
            )
            self.venue.restore(
                venue_spec, order.venue_order_id, order.filled_qty, fills, ts_accepted
            )

    # --- the loop -------------------------------------------------------------------------

    def _route(self, spec: OrderSpec, ts: int) -> list[_Item]:
        fields = spec.event_fields(ts)
        if spec.order_type in self.venue.native_order_types:
            return [OrderSubmitted(**fields), *self.venue.submit(spec, ts)]
        emulated = VenueOrderId(f"{EMULATED_PREFIX}{spec.client_order_id}")
        return [
            OrderSubmitted(**fields),
            OrderAccepted(**fields, venue_order_id=emulated),
            *self.emulator.hold(spec, ts),
        ]

    def _run(self, first: Iterable[_Item], ts: int) -> list[OrderEvent]:
        if self._ended:
            self._prune()
        orders = self.orders
        queue: deque[_Item] = deque(first)
        done: list[OrderEvent] = []
        while queue:
            item = queue.popleft()
            if isinstance(item, _ACTIONS):
                queue.extendleft(reversed(self._act(item, ts)))
                continue
            if isinstance(item, Release):
                queue.extend(self.venue.submit(item.spec, ts))
                continue
            order = orders.get(item.client_order_id)
            if order is None:
                continue
            if type(item) is OrderAccepted and order.status is not _SUBMITTED:
                continue  # the venue acknowledging a released emulated order: nothing changes
            order.apply(item)
            done.append(item)
            if order.status in _TERMINAL:
                self._ended.append(order.client_order_id)
            if order.spec.contingency_type is not _NO_LINKS:
                # What the links call for goes before anything else queued, and each action
                # is judged again when its turn comes, on states that include all before it.
                queue.extendleft(reversed(contingent_actions(item, orders)))
        return done

    def _act(self, action: ContingentAction, ts: int) -> list[_Item]:
        order = self.orders.get(action.client_order_id)
        if order is None or order.status.is_terminal:
            return []
        if order.status is OrderStatus.PENDING_CANCEL:
            return []
        fields = order.spec.event_fields(ts)
        if isinstance(action, ReleaseChild):
            if order.status is not OrderStatus.INITIALIZED:
                return []
            if order.spec.quantity == action.quantity:
                return self._route(order.spec, ts)
            resized = dataclasses.replace(order.spec, quantity=action.quantity)
            return [OrderUpdated(**fields, quantity=action.quantity), *self._route(resized, ts)]
        if isinstance(action, ResizeLinked):
            if self.emulator.is_held(order.client_order_id):
                return [self.emulator.modify(order.client_order_id, ts, quantity=action.quantity)]
            if order.status is OrderStatus.INITIALIZED:
                return [OrderUpdated(**fields, quantity=action.quantity)]
            if order.status is OrderStatus.SUBMITTED:
                # Still on its way to the venue: the resize follows it there and is answered
                # after the venue has accepted it, so there is no pending state to enter.
                return list(self.venue.modify(order.spec, ts, action.quantity, None))
            return [
                OrderPendingUpdate(**fields),
                *self.venue.modify(order.spec, ts, action.quantity, None),
            ]
        assert isinstance(action, CancelLinked)
        return self._cancel(order, ts)

    def _cancel(self, order: Order, ts: int) -> list[_Item]:
        fields = order.spec.event_fields(ts)
        if order.status is OrderStatus.INITIALIZED:
            return [OrderCanceled(**fields)]
        if order.status is OrderStatus.SUBMITTED:
            raise OrderNotWorking(
                f"order {order.client_order_id} is not acknowledged by its venue yet; "
                "cancel it after"
            )
        if self.emulator.cancel(order.client_order_id) is not None:
            return [OrderPendingCancel(**fields), OrderCanceled(**fields)]
        return [OrderPendingCancel(**fields), *self.venue.cancel(order.spec, ts)]

    def _working(self, client_order_id: ClientOrderId, what: str) -> Order:
        order = self.orders.get(client_order_id)
        if order is None or order.status.is_terminal:
            state = "unknown" if order is None else f"{order.status}"
            raise OrderNotWorking(f"cannot {what} order {client_order_id}: it is {state}")
        if order.status is OrderStatus.PENDING_CANCEL:
            raise OrderNotWorking(f"cannot {what} order {client_order_id}: a cancel is pending")
        return order

    def _prune(self) -> None:
        """Forget orders that ended, once nothing linked to them still works."""
        keep: list[ClientOrderId] = []
        for cid in self._ended:
            order = self.orders.get(cid)
            if order is None:
                continue
            links = (*order.spec.linked_order_ids, order.spec.parent_order_id)
            if any(
                (o := self.orders.get(link)) is not None and not o.status.is_terminal
                for link in links
                if link is not None
            ):
                keep.append(cid)
            else:
                del self.orders[cid]
        self._ended = keep
