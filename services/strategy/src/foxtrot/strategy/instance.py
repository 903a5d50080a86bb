"""One hosted strategy instance: its runtime, what it reads, what it sends, what it saves.

The runtime is the one the backtester hosts strategies in (``foxtrot.core.strategy``); this
module is the live side of it. Each subscription of the strategy is read by a durable
consumer of the instance's own, its order events and its account's balances by two more.
Whatever reaches the runtime does so under the instance's lock, one message at a time:

1. the timers due by now fire (their orders first, as in a backtest);
2. the message is shown to the runtime (a bar waits first, up to ``fill_wait_s``, for the
   fills of the strategy's market orders still open in its instrument, so the strategy
   learns of a fill at a bar's open before it sees the bar, as in a backtest);
3. what the strategy asked for goes out (through risk, cancels to execution), with message
   ids derived from the message, and the state is saved before the message is
   acknowledged. Messages that asked for nothing are acknowledged with the next save
   (every ``save_interval_s``, or after ``save_backlog`` of them).

The saved state holds the runtime's ``save()`` (the strategy's own state and the order-id
counter), the stream position of every consumer it has taken into account, and the
orders still open. A message at or before that position is not shown again: after a crash
the messages the saved state lacks come again and are shown once. A strategy that raises
is faulted: it is recorded and announced, the message is acknowledged, and the other
instances go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

from nats.js.api import DeliverPolicy

from foxtrot.common import subjects
from foxtrot.common.consumers import Decoder, Delivery, Handler
from foxtrot.common.execution_views import order_of, position_of
from foxtrot.common.feeds import Feed
from foxtrot.common.messages.v1 import (
    ORDER_EVENT_ADAPTER,
    AccountState,
    Bar,
    Message,
    OrderBookDeltas,
    OrderDenied,
    OrderEvent,
    OrderRejected,
    QuoteTick,
    StrategyInstanceView,
    StrategyPosition,
    StrategyStarted,
    StrategyStopped,
    TradeBatch,
)
from foxtrot.common.messages.v1 import StrategyFaulted as FaultedEvent
from foxtrot.common.messages.v1.order_events import order_event_to_core
from foxtrot.common.publishing import Publisher, derived_id, now_ns
from foxtrot.common.streams import COMMANDS, EVENTS, MARKET_DATA, StreamSpec
from foxtrot.core import events as core_events
from foxtrot.core.book import OrderBook
from foxtrot.core.clock import Clock
from foxtrot.core.enums import OrderType
from foxtrot.core.identifiers import ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position
from foxtrot.core.strategy import (
    Strategy,
    StrategyFaulted,
    StrategyRuntime,
    StrategyState,
    Subscription,
    build_strategy,
)
from foxtrot.strategy.adapters.execution_state import ExecutionState
from foxtrot.strategy.adapters.instance_store import InstanceRecord, InstanceStore
from foxtrot.strategy.adapters.wire import (
    Outgoing,
    balances_of,
    command_messages,
    instance_root,
    spec_from_json,
    spec_to_json,
)
from foxtrot.strategy.routing import Route, account_route, data_route, orders_route

__all__ = ["FeedSource", "Hosting", "Instance"]

T = TypeVar("T")
log = logging.getLogger(__name__)
_STATE_VERSION: Final = 1
_RUNNING: Final = StrategyState.RUNNING
_FAULTED: Final = StrategyState.FAULTED
ApplyTo = Callable[[StrategyRuntime], Any]


class FeedSource(Protocol):
    """Where feeds come from: :meth:`foxtrot.common.consumers.Consumers.feed`."""

    def feed(
        self,
        pattern: str,
        *,
        stream: StreamSpec,
        durable: str,
        decode: Decoder[T],
        handle: Handler[T],
        deliver: Any = ...,
        auto_ack: bool = ...,
        ack_wait_s: float = ...,
    ) -> Feed[T]: ...


@dataclass
class Hosting:
    """What every instance is hosted with."""

    feeds: FeedSource
    publish: Publisher
    store: InstanceStore
    execution: ExecutionState
    fill_wait_s: float = 2.0
    save_backlog: int = 500
    now: Callable[[], int] = now_ns


@dataclass
class _Restored:
    """What execution's snapshot already holds, so that the events it was made of are not
    applied a second time: per order its last change, per instrument its last fill."""

    orders: dict[ClientOrderId, int] = field(default_factory=dict)
    positions: dict[InstrumentId, int] = field(default_factory=dict)


class Instance:
    """One hosted strategy instance and everything live about it."""

    def __init__(self, record: InstanceRecord, hosting: Hosting, *, from_stored: bool = False):
        self.record = record
        self.hosting = hosting
        self.runtime: StrategyRuntime | None = None
        self.lock = asyncio.Lock()
        self.applied: dict[str, int] = {}  # consumer -> stream sequence taken into account
        self.unsent: list[Outgoing] = []  # asked for, not yet stored by the stream
        self.data_feeds: dict[str, tuple[Subscription, Feed[Any]]] = {}
        self.event_feeds: dict[str, Feed[Any]] = {}
        self.unsaved = 0  # messages taken into account since the last save
        self.root = instance_root(record.strategy_id)
        self._books: dict[InstrumentId, OrderBook] = {}
        self._restored = _Restored()
        self._resubscribed = False
        self._heard = asyncio.Condition()
        self._last_heard: dict[str, int] = {}  # client order id -> ts_event of its last event
        # A new instance's data consumers begin with new data; the instance the settings
        # describe reads what the streams hold, as the service always did.
        self._from_stored = from_stored

    @property
    def strategy_id(self) -> str:
        return self.record.strategy_id

    @property
    def running(self) -> bool:
        return self.runtime is not None and self.runtime.running

    def needs_saving(self) -> bool:
        """Whether messages were taken in, or are waiting for their acknowledgement, since
        the last save (a message that made the strategy send something is saved inside its
        own handling and acknowledged by the next save)."""
        if self.unsaved:
            return True
        return any(f.unacknowledged for f in self._feeds())

    def _feeds(self) -> list[Feed[Any]]:
        return [f for _, f in self.data_feeds.values()] + list(self.event_feeds.values())

    # --- building and restoring -----------------------------------------------------------

    def build(self, strategy: Strategy[Any] | None = None) -> StrategyRuntime:
        """A runtime for the record's strategy (or for ``strategy``), on a wall clock."""
        if strategy is None:
            strategy = build_strategy(self.record.strategy_path, self.record.config)
        runtime = StrategyRuntime(strategy, Clock(self.hosting.now()))
        runtime.on_subscribe = self._subscribed
        return runtime

    async def restore(
        self, strategy: Strategy[Any] | None = None, requested_by: str = "restart"
    ) -> None:
        """Rebuild the runtime, load its saved state, learn its orders and positions from
        execution, follow its events, and start it if it is meant to run. Raises what asking
        execution raised (nothing is kept then: call it again)."""
        record = self.record
        saved = record.saved_state or {}
        try:
            runtime = self.build(strategy)
        except Exception as exc:
            await self._unbuildable(exc)
            return
        load_fault: StrategyFaulted | None = None
        if "runtime" in saved:
            try:
                runtime.load(saved["runtime"])
            except Exception as exc:
                load_fault = _mark_faulted(runtime, "on_load", exc)
        orders, account = self._event_feeds(runtime)
        # Made before asking execution, so that an event published meanwhile is not lost.
        existed = {"orders": await orders.create(), "account": await account.create()}
        for feed in (orders, account):  # known at once, so that removing it deletes them
            self.event_feeds[feed.durable] = feed
        snapshot = await self.hosting.execution.snapshot(self.strategy_id)
        self.runtime = runtime
        self.applied = {k: int(v) for k, v in saved.get("applied", {}).items()}
        self._restored = _Restored()
        await self._learn(
            runtime, snapshot.positions, snapshot.orders, saved.get("open_orders", [])
        )
        for name, feed in (("orders", orders), ("account", account)):
            if not existed[name]:
                # A new consumer (its stream was made again, or it was deleted) numbers
                # from the stream's start: what was applied before says nothing of it.
                self.applied.pop(feed.durable, None)
            after = self.applied.get(feed.durable, 0)
            await feed.start(after)
        if load_fault is not None:
            await self._faulted(load_fault, None)
        elif record.state is _FAULTED:
            runtime.state = _FAULTED
            runtime.fault = runtime.fault or record.fault
            record.state, record.fault = _FAULTED, runtime.fault
            await self.save()
        elif record.desired_state == "RUNNING":
            await self.start(requested_by)
        else:
            if record.state is StrategyState.STOPPED:
                runtime.state = StrategyState.STOPPED
            record.state = runtime.state
            await self.save()
        await self._drop_stale_consumers(saved.get("applied", {}))

    async def _drop_stale_consumers(self, applied: Mapping[str, Any]) -> None:
        """Delete the data consumers a saved state names that the instance no longer reads
        (it is not running, or its strategy no longer subscribes to them): a later start
        then begins with new data rather than a backlog."""
        reading = set(self.data_feeds) | set(self.event_feeds)
        for durable in applied:
            if durable in reading or not durable.startswith(f"strategy-{self.strategy_id}-"):
                continue
            stale = self.hosting.feeds.feed(
                ">", stream=MARKET_DATA, durable=durable, decode=bytes, handle=_ignore
            )
            await stale.delete()
            self.applied.pop(durable, None)

    async def set_aside(self, exc: Exception) -> None:
        """A restore that failed for a reason of this instance's own: it stays hosted,
        FAULTED with the reason and reading nothing, until it is reset or reloaded."""
        self.runtime = None
        for feed in self._feeds():
            with contextlib.suppress(Exception):
                await feed.stop()
        self.record.state = _FAULTED
        self.record.fault = f"restore: {type(exc).__name__}: {exc}"
        self.record.updated_at_ns = self.hosting.now()
        with contextlib.suppress(Exception):
            await self.hosting.store.update(self.record)

    async def undo(self) -> None:
        """Take back an instance whose creation failed half-way: its row and consumers."""
        with contextlib.suppress(Exception):
            await self.hosting.store.delete(self.strategy_id)
        with contextlib.suppress(Exception):
            await self.delete_feeds()

    async def _unbuildable(self, exc: Exception) -> None:
        self.runtime = None
        self.record.state = _FAULTED
        self.record.fault = f"build: {type(exc).__name__}: {exc}"
        self.record.updated_at_ns = self.hosting.now()
        await self.hosting.store.update(self.record)
        log.error("strategy %s cannot be built: %s", self.strategy_id, exc)

    def _event_feeds(self, runtime: StrategyRuntime) -> tuple[Feed[Any], Feed[Any]]:
        sid = self.strategy_id
        orders = orders_route(sid)
        account = account_route(sid, str(runtime.strategy.config.account_id))
        order_feed = self.hosting.feeds.feed(
            orders.subject,
            stream=orders.stream,
            durable=orders.durable,
            decode=ORDER_EVENT_ADAPTER.validate_json,
            handle=lambda event, delivery: self.on_order_event(orders.durable, event, delivery),
            deliver=DeliverPolicy.NEW,
        )
        account_feed = self.hosting.feeds.feed(
            account.subject,
            stream=account.stream,
            durable=account.durable,
            decode=AccountState.from_json,
            handle=self.on_account,
            deliver=DeliverPolicy.LAST_PER_SUBJECT,
            auto_ack=True,
        )
        return order_feed, account_feed

    async def _learn(
        self,
        runtime: StrategyRuntime,
        positions: Any,
        orders: Any,
        in_flight: list[dict[str, Any]],
    ) -> None:
        """Execution's positions and open orders, then the orders the saved state had in
        flight that execution did not list (still on their way, or closed since)."""
        for view in positions:
            position = position_of(view)
            runtime.restore_position(position)
            self._restored.positions[position.instrument_id] = view.ts_last
        listed: set[str] = set()
        for view in orders:
            order = order_of(view)
            if order is not None:
                runtime.restore_order(order)
                self._restored.orders[order.client_order_id] = view.ts_last
                listed.add(view.client_order_id)
        for document in in_flight:
            spec = spec_from_json(document)
            if spec.client_order_id in listed:
                continue
            view = await self.hosting.execution.order(spec.client_order_id)
            if view is None:  # not at execution yet: risk may still pass or deny it
                runtime.restore_order(Order(spec))
            elif (order := order_of(view)) is not None:
                runtime.restore_order(order)
                self._restored.orders[order.client_order_id] = view.ts_last

    # --- what it reads --------------------------------------------------------------------

    async def on_bar(self, durable: str, bar: Bar, delivery: Delivery) -> None:
        core = bar.to_core()
        if not self._seen(durable, delivery):
            await self._await_market_fills(core.instrument_id, bar.ts_init)
        await self._take(durable, delivery, bar, lambda rt: rt.on_bar(core), data=True)

    async def on_trades(self, durable: str, batch: TradeBatch, delivery: Delivery) -> None:
        def show(runtime: StrategyRuntime) -> None:
            for tick in batch.to_core():
                runtime.on_trade(tick)

        await self._take(durable, delivery, batch, show, data=True)

    async def on_quote(self, durable: str, quote: QuoteTick, delivery: Delivery) -> None:
        core = quote.to_core()
        await self._take(durable, delivery, quote, lambda rt: rt.on_quote(core), data=True)

    async def on_book(self, durable: str, deltas: OrderBookDeltas, delivery: Delivery) -> None:
        core = deltas.to_core()

        def show(runtime: StrategyRuntime) -> None:
            book = self._books.get(core.instrument_id)
            if book is None:
                book = self._books[core.instrument_id] = OrderBook(core.instrument_id)
            book.apply(core)
            runtime.on_book(book, deltas.ts_event)

        await self._take(durable, delivery, deltas, show, data=True)

    async def on_order_event(self, durable: str, event: OrderEvent, delivery: Delivery) -> None:
        core = order_event_to_core(event)

        def show(runtime: StrategyRuntime) -> None:
            known = self._restored.orders.get(core.client_order_id)
            if known is not None and event.ts_init <= known:
                self._book_missed_fill(runtime, core)  # the snapshot has it already
                return
            if runtime.on_order_event(core) and isinstance(event, OrderDenied | OrderRejected):
                log.warning(
                    "order %s refused: %s %s",
                    event.client_order_id,
                    event.reason_code,
                    event.reason,
                )

        await self._take(durable, delivery, event, show, data=False)
        async with self._heard:
            cid = event.client_order_id
            runtime = self.runtime
            order = runtime.orders.get(ClientOrderId(cid)) if runtime is not None else None
            if order is None or order.status.is_terminal:
                self._last_heard.pop(cid, None)  # no bar waits for a closed order
            else:
                self._last_heard[cid] = max(event.ts_event, self._last_heard.get(cid, 0))
            self._heard.notify_all()

    async def on_account(self, state: AccountState, _: Delivery) -> None:
        async with self.lock:
            if self.runtime is not None:
                self.runtime.on_balances(balances_of(state))

    def _book_missed_fill(self, runtime: StrategyRuntime, event: core_events.OrderEvent) -> None:
        # An order execution listed after this fill whose position it listed before it: the
        # position still lacks the fill.
        if not isinstance(event, core_events.OrderFilled):
            return
        if event.ts_event <= self._restored.positions.get(event.instrument_id, -1):
            return
        position = runtime.positions.get(event.instrument_id)
        if position is None:
            position = Position(StrategyId(self.strategy_id), event.instrument_id)
            runtime.restore_position(position)
        position.apply_fill(
            event.side, event.last_qty, event.last_px, event.commission, event.ts_event
        )
        self._restored.positions[event.instrument_id] = event.ts_event

    def _seen(self, durable: str, delivery: Delivery) -> bool:
        return 0 < delivery.stream_seq <= self.applied.get(durable, 0)

    async def _await_market_fills(self, instrument_id: InstrumentId, ts: int) -> None:
        runtime = self.runtime
        if runtime is None or not runtime.running or self.hosting.fill_wait_s <= 0:
            return
        waiting = [
            o.client_order_id
            for o in runtime.open_orders(instrument_id)
            if o.spec.order_type is OrderType.MARKET
        ]
        if not waiting:
            return

        def answered() -> bool:
            still_open = {o.client_order_id for o in runtime.open_orders(instrument_id)}
            return all(
                self._last_heard.get(cid, -1) >= ts or cid not in still_open for cid in waiting
            )

        async with self._heard:
            try:
                await asyncio.wait_for(self._heard.wait_for(answered), self.hosting.fill_wait_s)
            except TimeoutError:
                log.warning(
                    "%s: no fill of %s by the bar at %d; showing the bar",
                    self.strategy_id,
                    waiting,
                    ts,
                )

    async def _take(
        self, durable: str, delivery: Delivery, cause: Message, show: ApplyTo, *, data: bool
    ) -> None:
        """Show the runtime one message (once), send what it asked for, save if it did."""
        async with self.lock:
            await self._flush()  # what a failed send left
            if self._seen(durable, delivery):
                return
            runtime = self.runtime
            if runtime is not None and (runtime.running or not data):
                now = self.hosting.now()
                if not await self._fire_timers(runtime, now):
                    self.applied[durable] = delivery.stream_seq
                    return
                try:
                    show(runtime)
                except StrategyFaulted as fault:
                    self.applied[durable] = delivery.stream_seq
                    await self._faulted(fault, cause)
                    return
                self._queue(runtime.drain(), cause, now)
                if self._resubscribed:
                    await self.route()
            self.applied[durable] = delivery.stream_seq
            self.unsaved += 1
            if self.unsent:
                await self._flush()
                await self.save()
            elif self.unsaved >= self.hosting.save_backlog:
                await self.save()

    # --- timers ---------------------------------------------------------------------------

    def next_timer_ns(self) -> int | None:
        """When the running strategy's next timer is due."""
        runtime = self.runtime
        return runtime.clock.next_due_ns if runtime is not None and runtime.running else None

    async def fire_timers(self) -> None:
        """Fire the timers due by now and send what they ask for."""
        async with self.lock:
            runtime = self.runtime
            if runtime is None or not runtime.running:
                return
            due = runtime.clock.next_due_ns
            now = self.hosting.now()
            if due is None or due > now:
                return
            await self._flush()
            if not await self._fire_timers(runtime, now):
                return
            if self._resubscribed:
                await self.route()
            if self.unsent:
                await self._flush()
                await self.save()

    async def _fire_timers(self, runtime: StrategyRuntime, now: int) -> bool:
        """Timers due by ``now`` fire (the clock moves there); False if the strategy faulted."""
        try:
            runtime.on_timers(now)
        except StrategyFaulted as fault:
            await self._faulted(fault, None)
            return False
        self._queue(runtime.drain(), None, now)
        return True

    # --- what it sends --------------------------------------------------------------------

    def _queue(self, commands: list[Any], cause: Message | None, now: int) -> None:
        if commands:
            self.unsent += command_messages(commands, cause, self.root, now)

    async def _flush(self) -> None:
        while self.unsent:
            subject, message = self.unsent[0]
            await self.hosting.publish(subject, message, COMMANDS)
            self.unsent.pop(0)
            log.info(
                "%s sent %s", self.strategy_id, type(message).__name__, extra={"subject": subject}
            )

    async def announce(self, event: Message) -> None:
        """Publish one of the instance's lifecycle events."""
        await self.hosting.publish(subjects.strategy_events(self.strategy_id), event, EVENTS)

    # --- faults and saving ----------------------------------------------------------------

    async def _faulted(self, fault: StrategyFaulted, cause: Message | None) -> None:
        """Record, save and announce a fault; the instance sees no more data until it is
        reset or reloaded (its consumers go on, so it finds no backlog when it restarts)."""
        self.record.state = _FAULTED
        self.record.fault = f"{fault.handler}: {fault.error}"
        log.error("strategy %s faulted in %s: %s", self.strategy_id, fault.handler, fault.error)
        await self._flush()
        await self.save(announce=False)
        now = self.hosting.now()
        envelope: dict[str, Any] = {"ts_event": now, "ts_init": now}
        if cause is not None:
            envelope = cause.caused(
                ts_event=now,
                ts_init=now,
                message_id=derived_id(cause.message_id, f"fault-{self.strategy_id}"),
            )
        await self.announce(
            FaultedEvent(
                strategy_id=self.strategy_id,
                strategy_path=self.record.strategy_path,
                handler=fault.handler,
                error=fault.error,
                **envelope,
            )
        )

    async def save(self, *, announce: bool = True) -> None:
        """Write the instance and its state, then acknowledge what it has taken in."""
        runtime = self.runtime
        record = self.record
        previous = record.saved_state or {}
        document: dict[str, Any] = {"version": _STATE_VERSION, "applied": dict(self.applied)}
        fault: StrategyFaulted | None = None
        if runtime is not None:
            if runtime.state is _FAULTED:
                document["runtime"] = previous.get("runtime")  # what it saved while sound
            else:
                try:
                    document["runtime"] = runtime.save()
                except Exception as exc:
                    fault = _mark_faulted(runtime, "on_save", exc)
                    document["runtime"] = previous.get("runtime")
                    record.fault = f"on_save: {fault.error}"
            document["open_orders"] = [spec_to_json(o.spec) for o in runtime.open_orders()]
            record.state = runtime.state
        if document.get("runtime") is None:
            document.pop("runtime", None)
        now = self.hosting.now()
        record.saved_state = document
        record.state_saved_at_ns = record.updated_at_ns = now
        await self.hosting.store.update(record)
        self.unsaved = 0
        feeds = [f for _, f in self.data_feeds.values()] + list(self.event_feeds.values())
        for feed in feeds:
            await feed.acknowledge()
        if fault is not None and announce:
            await self._faulted(fault, None)

    # --- subscriptions --------------------------------------------------------------------

    def _subscribed(self) -> None:
        self._resubscribed = True

    async def route(self, *, remove: bool = False) -> None:
        """Read every subscription of the running strategy; with ``remove`` (never from a
        consumer's own handler), stop reading and delete what it no longer wants."""
        self._resubscribed = False
        runtime = self.runtime
        wanted: dict[str, tuple[Subscription, Route]] = {}
        if runtime is not None and runtime.running:
            for subscription in sorted(runtime.subscriptions, key=str):
                route = data_route(self.strategy_id, subscription)
                wanted[route.durable] = (subscription, route)
        if remove:
            for durable in [d for d in self.data_feeds if d not in wanted]:
                _, feed = self.data_feeds.pop(durable)
                await feed.delete()
                self.applied.pop(durable, None)
        for durable, (subscription, route) in wanted.items():
            if durable not in self.data_feeds:
                feed = self._data_feed(subscription, route)
                self.data_feeds[durable] = (subscription, feed)
                existed = await feed.start(self.applied.get(durable, 0))
                if not existed:
                    self.applied.pop(durable, None)

    def _data_feed(self, subscription: Subscription, route: Route) -> Feed[Any]:
        kind = subscription[0]
        durable = route.durable
        handle: Handler[Any]
        decode: Decoder[Any]
        if kind == "bar":
            decode = Bar.from_json
            handle = _bound(self.on_bar, durable)
        elif kind == "trade":
            decode = TradeBatch.from_json
            handle = _bound(self.on_trades, durable)
        elif kind == "quote":
            decode = QuoteTick.from_json
            handle = _bound(self.on_quote, durable)
        else:
            decode = OrderBookDeltas.from_json
            handle = _bound(self.on_book, durable)
        return self.hosting.feeds.feed(
            route.subject,
            stream=route.stream,
            durable=durable,
            decode=decode,
            handle=handle,
            deliver=DeliverPolicy.ALL if self._from_stored else DeliverPolicy.NEW,
        )

    # --- the view -------------------------------------------------------------------------

    def view(self) -> StrategyInstanceView:
        """The instance as the control replies and queries show it."""
        record = self.record
        runtime = self.runtime
        positions: list[StrategyPosition] = []
        subscriptions: list[str] = []
        open_orders = 0
        if runtime is not None:
            positions = [
                StrategyPosition(
                    instrument_id=str(p.instrument_id),
                    side=p.side,
                    quantity=p.quantity,
                    avg_px_open=p.avg_px_open,
                    realized_pnl=p.realized_pnl,
                    commissions=p.commissions,
                    ts_last=p.ts_last,
                )
                for p in runtime.positions.values()
            ]
            open_orders = len(runtime.open_orders())
            subscriptions = sorted(route.subject for route in self._routes(runtime))
        state = runtime.state if runtime is not None else record.state
        fault = None
        if state is _FAULTED:
            fault = (runtime.fault if runtime is not None else None) or record.fault
        return StrategyInstanceView(
            strategy_id=record.strategy_id,
            strategy=record.strategy,
            strategy_path=record.strategy_path,
            config=record.config,
            state=state,
            desired_state="RUNNING" if record.desired_state == "RUNNING" else "STOPPED",
            fault=fault,
            positions=tuple(positions),
            open_orders=open_orders,
            subscriptions=tuple(subscriptions),
            created_at_ns=record.created_at_ns,
            started_at_ns=record.started_at_ns,
            updated_at_ns=record.updated_at_ns,
            state_saved_at_ns=record.state_saved_at_ns,
        )

    def _routes(self, runtime: StrategyRuntime) -> list[Route]:
        routes = [data_route(self.strategy_id, s) for s in runtime.subscriptions]
        return routes if runtime.running else []

    # --- lifecycle (the service holds the lock) -------------------------------------------

    async def start(self, requested_by: str) -> None:
        """Start the strategy: it subscribes, its consumers are made, what its start asks
        for goes out; StrategyStarted is announced."""

        runtime = self.runtime
        assert runtime is not None
        now = self.hosting.now()
        runtime.clock.set_time(now)
        try:
            runtime.start()
        except StrategyFaulted as fault:
            self.record.desired_state = "RUNNING"
            await self._faulted(fault, None)
            return
        self.record.state = _RUNNING
        self.record.desired_state = "RUNNING"
        self.record.started_at_ns = now
        await self.route(remove=True)
        self._from_stored = False  # only its first consumers read what the streams held
        self._queue(runtime.drain(), None, now)
        await self._flush()
        await self.save()
        await self.announce(
            StrategyStarted(
                strategy_id=self.strategy_id,
                strategy_path=self.record.strategy_path,
                requested_by=requested_by,
                ts_event=now,
                ts_init=now,
            )
        )

    async def stop(self, requested_by: str) -> None:
        """Stop the strategy: its timers are cancelled, what its stop asks for goes out,
        its data consumers are deleted; StrategyStopped is announced."""
        runtime = self.runtime
        self.record.desired_state = "STOPPED"
        if runtime is None or not runtime.running:
            if runtime is not None:
                await self.route(remove=True)
            await self.save()
            return
        now = self.hosting.now()
        runtime.clock.set_time(now)
        try:
            runtime.stop()
        except StrategyFaulted as fault:
            await self._faulted(fault, None)
        self._queue(runtime.drain(), None, now)
        await self._flush()
        await self.route(remove=True)
        await self.save()
        await self.announce(
            StrategyStopped(
                strategy_id=self.strategy_id,
                strategy_path=self.record.strategy_path,
                requested_by=requested_by,
                ts_event=now,
                ts_init=now,
            )
        )

    async def replace(self, runtime: StrategyRuntime, start: bool) -> None:
        """Take ``runtime`` (a reload's) in place of the current one, with the orders,
        positions and balances the current one knows; started when ``start``."""
        old = self.runtime
        if old is not None:
            for order in old.orders.values():
                runtime.restore_order(order)
            for position in old.positions.values():
                runtime.restore_position(position)
            runtime.on_balances(old.balances.values())
        self.runtime = runtime
        self.record.state = runtime.state
        self.record.fault = None
        if start:
            await self.start("reload")
        else:
            await self.route(remove=True)
            await self.save()

    async def close(self) -> None:
        """Save and stop reading (the consumers stay): the service is stopping."""
        async with self.lock:
            try:
                if self.runtime is not None:
                    await self._flush()
                    await self.save()
            finally:
                for _, feed in self.data_feeds.values():
                    await feed.stop()
                for feed in self.event_feeds.values():
                    await feed.stop()

    async def delete_feeds(self) -> None:
        """Stop reading and delete every consumer of the instance (it is being removed),
        those it reads now and those a saved state names (an instance that could not be
        built reads nothing, but its consumers from before are still there)."""
        for _, feed in self.data_feeds.values():
            await feed.delete()
        for feed in self.event_feeds.values():
            await feed.delete()
        deleted = set(self.data_feeds) | set(self.event_feeds)
        self.data_feeds.clear()
        self.event_feeds.clear()
        events = {orders_route(self.strategy_id).durable: EVENTS}
        events[account_route(self.strategy_id, "-").durable] = EVENTS
        saved = (self.record.saved_state or {}).get("applied", {})
        for durable in [*events, *saved]:
            if durable in deleted or not durable.startswith(f"strategy-{self.strategy_id}-"):
                continue
            deleted.add(durable)
            stream = events.get(durable, MARKET_DATA)
            left = self.hosting.feeds.feed(
                ">", stream=stream, durable=durable, decode=bytes, handle=_ignore
            )
            await left.delete()


async def _ignore(_: Any, __: Delivery) -> None:
    return None


def _bound(method: Callable[[str, Any, Delivery], Awaitable[None]], durable: str) -> Handler[Any]:
    async def handle(payload: Any, delivery: Delivery) -> None:
        await method(durable, payload, delivery)

    return handle


def _mark_faulted(runtime: StrategyRuntime, handler: str, exc: Exception) -> StrategyFaulted:
    """Fault a runtime for an exception its strategy raised outside the runtime's own calls
    (``on_load``, ``on_save``)."""
    runtime.clock.cancel_all()
    runtime.state = _FAULTED
    error = f"{type(exc).__name__}: {exc}"
    runtime.fault = f"{handler}: {error}"
    return StrategyFaulted(runtime.strategy_id, handler, error)
