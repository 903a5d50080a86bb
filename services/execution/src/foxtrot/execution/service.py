"""Execution's use cases: take approved orders to the venue, book fills, serve state.

Commands (submit, submit a list, modify, cancel) and market data go to the pure
ExecutionEngine (libs/core), which routes orders to the simulated venue or its emulator
and carries out contingent orders; this module persists and publishes what it decides.

Each use case changes state in one database transaction that also records the command's
message id (the inbox) and appends every resulting event to the event log (the outbox).
The command is acknowledged once that commits; the events are published after the commit,
in log order, and the outbox's cursor follows their acknowledgements (see ``outbox``). A
crash anywhere in between is healed by redelivery: the inbox recognises the command, the
events after the cursor are published again, and JetStream drops duplicates by
``Nats-Msg-Id``. Nothing is lost and no fill is booked twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common import subjects
from foxtrot.common.errors import ReconciliationFailed
from foxtrot.common.messages.v1 import (
    AccountBalance,
    AccountsQuery,
    AccountsReply,
    AccountView,
    CancelOrder,
    Message,
    ModifyOrder,
    OrdersQuery,
    OrdersReply,
    PositionsQuery,
    PositionsReply,
    PositionView,
    SubmitOrder,
    SubmitOrderList,
    account_state_from_core,
    order_event_from_core,
    position_event_from_core,
)
from foxtrot.common.publishing import derived_id, now_ns
from foxtrot.core import events as core_events
from foxtrot.core.accounts import CashAccount, Legs
from foxtrot.core.data import Bar as CoreBar
from foxtrot.core.data import QuoteTick as CoreQuote
from foxtrot.core.data import TradeTick as CoreTrade
from foxtrot.core.errors import OrderNotWorking
from foxtrot.core.events import OrderEvent
from foxtrot.core.execution import ExecutionEngine
from foxtrot.core.identifiers import ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.instruments import Instrument
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position
from foxtrot.core.venue_port import Venue
from foxtrot.execution.adapters.ledger import Ledger, LedgerConnection
from foxtrot.execution.adapters.repository import ExecutionRepository
from foxtrot.execution.outbox import Outbox, Send
from foxtrot.execution.venues import LiveVenue

__all__ = ["ExecutionService", "Ticker"]

log = logging.getLogger(__name__)
_Command = SubmitOrder | SubmitOrderList | ModifyOrder | CancelOrder
_Work = Callable[[Ledger], Awaitable[None]]


class ExecutionService:
    """Order management over one venue and one cash account.

    The pure ExecutionEngine decides what happens to orders; this class persists each
    outcome with the message that caused it and publishes it afterwards.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        venue_factory: Callable[[], Venue],
        send: Send,
        account_id: str,
        opening_balances: Mapping[str, Decimal],
    ) -> None:
        self.engine = engine
        self.writer = LedgerConnection(engine)
        self.venue_factory = venue_factory
        self.orders = ExecutionEngine(venue_factory())
        self.outbox = Outbox(send)
        self.opening_balances = dict(opening_balances)
        self.account = CashAccount(account_id, self.opening_balances)
        self.instruments: dict[InstrumentId, Instrument] = {}
        # The latest quote, trade and bar per instrument: a rebuilt venue starts from them.
        self._last_data: dict[tuple[type, InstrumentId], CoreQuote | CoreTrade | CoreBar] = {}
        self.currency = self.orders.venue.settlement_currency
        self.positions: dict[tuple[StrategyId, InstrumentId], Position] = {}
        # One writer at a time: the engine's state and the tables change together.
        self._lock = asyncio.Lock()

    @property
    def venue(self) -> Venue:
        """The venue orders go to."""
        return self.orders.venue

    @property
    def account_id(self) -> str:
        """The account every order settles into."""
        return self.account.account_id

    async def start(self, market: Iterable[CoreQuote | CoreTrade | CoreBar] = ()) -> None:
        """Get ready to take commands: learn the market's latest state, rebuild the books
        from the database, and reconcile them. Raises ReconciliationFailed (and the service
        does not start) when the books cannot be trusted."""
        for data in market:
            self._remember(data)
        venue = self.venue
        if isinstance(venue, LiveVenue):
            with _refuse_on_failure(f"venue {venue.name} cannot be reached"):
                await venue.start()
            for instrument in venue.instruments.values():
                await self.on_instrument(instrument)
        await self.recover()
        await self.reconcile()
        self.writer.hold()  # from now on batches come one after another

    async def stop(self) -> None:
        """Disconnect from a real venue and give back the database connection."""
        if isinstance(self.venue, LiveVenue):
            await self.venue.stop()
        await self.writer.release()

    async def reconcile(self) -> None:
        """Check that every order's filled quantity and every position is what its fills add
        up to, then (for a real venue) that the venue agrees about open orders and fills,
        booking what it did meanwhile. Raises ReconciliationFailed, naming each difference,
        when the books cannot be trusted."""
        async with self.engine.connect() as conn:
            problems = await ExecutionRepository(conn).ledger_problems()
        if problems:
            raise ReconciliationFailed(problems)
        venue = self.venue
        if isinstance(venue, LiveVenue):
            async with self.engine.connect() as conn:
                known = await ExecutionRepository(conn).trade_ids(list(self.orders.orders))
            with _refuse_on_failure(f"venue {venue.name}"):
                found = await venue.reconcile(
                    orders=list(self.orders.orders.values()), known_trade_ids=known
                )
            for foreign in getattr(found, "foreign_orders", ()):
                log.warning(
                    "venue %s holds an order Foxtrot did not place: %s", venue.name, foreign
                )
            await self.tick()  # book what the venue did while we were away
            await self._take_venue_balances(venue)
        log.info("reconciled %d open orders with the fills", len(self.orders.orders))

    async def _take_venue_balances(self, venue: LiveVenue) -> None:
        """A real venue's balances are the truth: the account starts from them (deposits,
        withdrawals and trades made elsewhere included), saying what differed."""
        with _refuse_on_failure(f"venue {venue.name}"):
            totals = await venue.balances()
        ours = self.account.totals
        theirs = {c: totals.get(c, Decimal(0)) for c in set(ours) | set(totals)}
        was = {c: ours.get(c, Decimal(0)) for c in theirs}
        differ = {c: (was[c], t) for c, t in theirs.items() if was[c] != t}
        if differ:
            log.warning("balances taken from venue %s (ours, venue's): %s", venue.name, differ)
        self.account.totals = theirs
        async with self._lock:
            await self._write(self._saving_balances())

    def _saving_balances(self) -> _Work:
        async def save(book: Ledger) -> None:
            book.save_balances(self.account_id, self.account.balances(), now_ns())

        return save

    def _remember(self, data: CoreQuote | CoreTrade | CoreBar) -> None:
        self._last_data[(type(data), data.instrument_id)] = data

    async def recover(self) -> None:
        """Rebuild open orders, emulated orders, positions and balances from the database,
        and flush the outbox."""
        # The market first, while the venue holds no orders: it sets prices, matches nothing.
        for data in sorted(self._last_data.values(), key=lambda d: d.ts_init):
            if isinstance(data, CoreQuote):
                self.venue.on_quote(data)
            elif isinstance(data, CoreTrade):
                self.venue.on_trade(data)
            else:
                self.venue.on_bar(data)
        async with self.engine.begin() as conn:
            repo = ExecutionRepository(conn)
            rows = await repo.open_orders()
            nets = await repo.net_positions()
            totals = await repo.load_balances(self.account_id)
            held = await repo.load_positions()
        self.positions = {(p.strategy_id, p.instrument_id): p for p in held}
        for instrument in self.instruments.values():
            self.venue.add_instrument(instrument)
        for instrument_id, quantity in nets.items():
            self.venue.restore_position(InstrumentId.parse(instrument_id), quantity)
        for order, fills, ts_accepted in rows:
            self.orders.restore(order, fills, ts_accepted)
        self.account = CashAccount(self.account_id, totals or self.opening_balances)
        self._hold(self.orders.orders.values())
        await self.flush_outbox()
        log.info("recovered %d open orders", len(rows))

    def legs(self, instrument_id: InstrumentId) -> Legs:
        """The currencies a fill in this instrument moves. Until its definition arrives, an
        instrument is held under its own symbol and settles in the settlement currency."""
        instrument = self.instruments.get(instrument_id)
        return Legs.of(instrument) if instrument else Legs(instrument_id.symbol, self.currency)

    async def on_instrument(self, instrument: Instrument) -> None:
        """Learn an instrument's rules and currencies (fees, lots, balances)."""
        async with self._lock:
            self.instruments[instrument.instrument_id] = instrument
            self.venue.add_instrument(instrument)
            self._hold(
                o
                for o in self.orders.orders.values()
                if o.spec.instrument_id == instrument.instrument_id
            )

    def _hold(self, orders: Iterable[Order]) -> bool:
        """Let the account recompute what these orders hold back; True if that changed."""
        changed = False
        for order in orders:
            instrument_id = order.spec.instrument_id
            last = self.venue.last_price(instrument_id)
            changed |= self.account.hold(order, self.legs(instrument_id), last)
        return changed

    async def submit(self, command: SubmitOrder, subject: str) -> None:
        """Send an approved order on its way and book what happens."""
        await self.submit_many([command], subject)

    async def submit_many(self, commands: Sequence[SubmitOrder], subject: str) -> None:
        """Send approved orders on their way, in order, booked in one transaction."""
        await self._commands([(c, subject, [c.to_core()]) for c in commands])

    async def submit_list(self, command: SubmitOrderList, subject: str) -> None:
        """Send an approved order list on its way and book what happens."""
        await self._commands([(command, subject, command.to_core())])

    async def modify(self, command: ModifyOrder, subject: str) -> None:
        """Change a working order (OrderPendingUpdate, then the answer)."""
        await self._commands([(command, subject, [])])

    async def cancel(self, command: CancelOrder, subject: str) -> None:
        """Cancel a working order (OrderPendingCancel, then the answer)."""
        await self._commands([(command, subject, [])])

    async def _commands(self, batch: Sequence[tuple[_Command, str, Sequence[OrderSpec]]]) -> None:
        """Decide and book commands in order, in one transaction with their inbox records;
        a command seen before (redelivered) is skipped."""

        async def handle(book: Ledger) -> None:
            seen, taken = await book.seen(
                [c.message_id for c, _, _ in batch],
                [str(spec.client_order_id) for _, _, specs in batch for spec in specs],
            )
            now = now_ns()
            moved: Message | None = None  # the last event that moved the account's balances
            for command, subject, specs in batch:
                if command.message_id in seen:
                    continue
                seen.add(command.message_id)
                events = self._decide(command, specs, now, taken)
                taken.update(str(spec.client_order_id) for spec in specs)
                moved = self._book(book, events, command, now) or moved
                book.mark_processed(command.message_id, subject, now)
            if moved is not None:
                self._book_account(book, moved, now)

        async with self._lock:
            await self._write(handle)

    async def _write(self, work: _Work) -> None:
        """Run ``work`` in one transaction, then send the events it appended. If the
        transaction fails, the engine may have moved on without the database, so it starts
        again from what was committed. The outbox's cursor is saved in the next transaction
        (or on the clock): until then a restart would publish those events again, and
        JetStream would drop the duplicates by message id."""
        cursor = self.outbox.through
        try:
            async with self.writer.ledger() as book:
                if self.outbox.moved:
                    book.save_outbox_cursor(cursor)
                await work(book)
                appended = await book.flush()
        except BaseException:
            await self._reload()
            raise
        self.outbox.saved = max(self.outbox.saved, cursor)
        await self.outbox.publish(appended)

    def _decide(
        self,
        command: _Command,
        specs: Sequence[OrderSpec],
        now: int,
        taken: set[str],
    ) -> list[OrderEvent]:
        if specs:
            for spec in specs:
                if spec.client_order_id in taken:
                    log.warning(
                        "ignored %s: client order id %s is already in use",
                        type(command).__name__,
                        spec.client_order_id,
                    )
                    return []
            if isinstance(command, SubmitOrderList):
                return self.orders.submit_list(specs, now)
            return self.orders.submit(specs[0], now)
        assert isinstance(command, ModifyOrder | CancelOrder)
        client_order_id = ClientOrderId(command.client_order_id)
        try:
            if isinstance(command, ModifyOrder):
                return self.orders.modify(
                    client_order_id, now, command.quantity, command.price, command.trigger_price
                )
            return self.orders.cancel(client_order_id, now)
        except OrderNotWorking as exc:
            log.info("%s refused: %s", type(command).__name__, exc)
            return []

    async def _reload(self) -> None:
        # A real venue keeps its connection; a simulated one starts again from the database.
        live = self.venue if isinstance(self.venue, LiveVenue) else None
        self.orders = ExecutionEngine(live or self.venue_factory())
        await self.recover()

    async def on_trade(self, trade: CoreTrade) -> None:
        """Let the engine match and trigger orders against a trade."""
        self._remember(trade)
        await self._on_market(lambda: self.orders.on_trade(trade))

    async def on_quote(self, quote: CoreQuote) -> None:
        """Let the engine match and trigger orders against a quote."""
        self._remember(quote)
        await self._on_market(lambda: self.orders.on_quote(quote))

    async def on_bar(self, bar: CoreBar) -> None:
        """Let the engine match and trigger orders against a bar."""
        self._remember(bar)
        await self._on_market(lambda: self.orders.on_bar(bar))

    async def tick(self) -> None:
        """Let time pass: requests in flight reach the venue and orders expire; events whose
        publishing failed are published again, and the outbox's cursor is saved once it
        has moved."""
        await self._on_market(lambda: self.orders.advance(now_ns()))
        if self.outbox.failed:
            async with self._lock:
                await self.flush_outbox()
        if self.outbox.moved:
            async with self._lock:
                await self._write(_nothing)

    async def _on_market(self, match: Callable[[], list[OrderEvent]]) -> None:
        async with self._lock:
            events = match()
            if not events:
                return
            await self._write(self._booking(events))

    def _booking(self, events: list[OrderEvent]) -> _Work:
        async def booking(book: Ledger) -> None:
            now = now_ns()
            moved = self._book(book, events, None, now)
            if moved is not None:
                self._book_account(book, moved, now)

        return booking

    def _book(
        self,
        book: Ledger,
        events: Sequence[OrderEvent],
        cause: Message | None,
        now: int,
    ) -> Message | None:
        """Append the engine's events to the log, book fills and save every order touched.
        Returns the last event if fills or open orders moved the account's balances: the
        caller then books one AccountState for the whole transaction."""
        touched: dict[ClientOrderId, Order] = {}
        last_wire: Message | None = None
        filled = False
        for index, event in enumerate(events):
            envelope: dict[str, Any] = {"ts_init": now}
            if cause is not None:
                envelope.update(cause.caused(ts_init=now))
                envelope["message_id"] = derived_id(cause.message_id, f"event-{index}")
            wire = order_event_from_core(event, **envelope)
            book.append_event(
                subjects.order_events(event.strategy_id),
                wire,
                event.client_order_id,
                wire.causation_id,
            )
            if isinstance(event, core_events.OrderFilled):
                self._book_fill(book, event, wire, now)
                filled = True
            touched[event.client_order_id] = self.orders.orders[event.client_order_id]
            last_wire = wire
        for order in touched.values():
            book.save_order(order, now)
        return last_wire if self._hold(touched.values()) or filled else None

    def _book_account(self, book: Ledger, cause: Message, now: int) -> None:
        held = self.account.balances()
        book.save_balances(self.account_id, held, now)
        state = account_state_from_core(
            self.account,
            correlation_id=cause.correlation_id,
            causation_id=cause.message_id,
            message_id=derived_id(cause.message_id, "account"),
            ts_event=cause.ts_event,
            ts_init=now,
        )
        book.append_event(subjects.account_events(self.account_id), state, None, cause.message_id)

    def _book_fill(
        self, book: Ledger, fill: core_events.OrderFilled, wire: Message, now: int
    ) -> None:
        book.save_fill(
            {
                "trade_id": fill.trade_id,
                "client_order_id": fill.client_order_id,
                "venue_order_id": fill.venue_order_id,
                "strategy_id": fill.strategy_id,
                "instrument_id": str(fill.instrument_id),
                "side": fill.side.value,
                "last_qty": fill.last_qty,
                "last_px": fill.last_px,
                "commission": fill.commission,
                "commission_currency": fill.commission_currency,
                "liquidity_side": fill.liquidity_side.value,
                "ts_event": fill.ts_event,
            }
        )
        key = (fill.strategy_id, fill.instrument_id)
        position = self.positions.setdefault(key, Position(fill.strategy_id, fill.instrument_id))
        change = position.apply_fill(
            fill.side, fill.last_qty, fill.last_px, fill.commission, fill.ts_event
        )
        legs = self.legs(fill.instrument_id)
        self.account.apply_fill(fill, legs)
        book.save_position(position, legs.quote)
        caused = {
            "correlation_id": wire.correlation_id,
            "causation_id": wire.message_id,
            "message_id": derived_id(wire.message_id, "position"),
            "ts_event": fill.ts_event,
            "ts_init": now,
        }
        pos_event = position_event_from_core(position, change, legs.quote, **caused)
        book.append_event(
            subjects.position_events(fill.strategy_id), pos_event, None, wire.message_id
        )

    async def flush_outbox(self) -> None:
        """Publish, in log order, every event after the outbox's cursor and save the cursor
        (at start, and after publishing failed; the caller holds the lock). If publishing
        fails again, ``outbox.failed`` stays set and the clock retries."""
        await self.outbox.settle()
        async with self.engine.connect() as conn:
            self.outbox.restart(await ExecutionRepository(conn).outbox_cursor())
        while True:
            async with self.engine.connect() as conn:
                pending = await ExecutionRepository(conn).unpublished(after=self.outbox.through)
            if not pending:
                break
            await self.outbox.publish(pending)
            await self.outbox.settle()
            if self.outbox.failed:
                return
        async with self.writer.ledger() as book:
            book.save_outbox_cursor(self.outbox.through)
            await book.flush()
        self.outbox.saved = self.outbox.through

    async def query_orders(self, query: OrdersQuery) -> OrdersReply:
        """Orders matching a query."""
        async with self.engine.connect() as conn:
            views = await ExecutionRepository(conn).query_orders(query)
        return OrdersReply(orders=tuple(views))

    async def query_positions(self, query: PositionsQuery) -> PositionsReply:
        """Positions matching a query, marked to the venue's last price."""
        async with self.engine.connect() as conn:
            rows = await ExecutionRepository(conn).query_positions(query)
        views = []
        for row in rows:
            position = Position(
                StrategyId(row["strategy_id"]),
                InstrumentId.parse(row["instrument_id"]),
                row["quantity"],
                row["cost_open"],
            )
            mark = self.venue.last_price(position.instrument_id)
            views.append(
                PositionView(
                    strategy_id=row["strategy_id"],
                    instrument_id=row["instrument_id"],
                    side=position.side,
                    quantity=row["quantity"],
                    avg_px_open=row["avg_px_open"],
                    realized_pnl=row["realized_pnl"],
                    unrealized_pnl=position.unrealized_pnl(mark) if mark is not None else None,
                    commissions=row["commissions"],
                    currency=row["currency"],
                    ts_last=row["ts_last"],
                )
            )
        return PositionsReply(positions=tuple(views))

    async def query_accounts(self, query: AccountsQuery) -> AccountsReply:
        """Balances per currency of the accounts asked for. The service's own account is
        listed with its opening balances even before anything has moved."""
        async with self.engine.connect() as conn:
            rows = await ExecutionRepository(conn).query_accounts(query.account_id)
        if query.account_id in (None, self.account_id) and self.account_id not in rows:
            rows[self.account_id] = [
                {"currency": b.currency, "total": b.total, "locked": b.locked, "ts_last": None}
                for b in CashAccount(self.account_id, self.opening_balances).balances()
            ]
        views = [
            AccountView(
                account_id=account_id,
                balances=tuple(
                    AccountBalance(
                        currency=r["currency"],
                        total=r["total"],
                        locked=r["locked"],
                        free=r["total"] - r["locked"],
                    )
                    for r in balance_rows
                ),
                ts_last=max((r["ts_last"] for r in balance_rows if r["ts_last"]), default=None),
            )
            for account_id, balance_rows in sorted(rows.items())
        ]
        return AccountsReply(accounts=tuple(views))


@contextlib.contextmanager
def _refuse_on_failure(what: str) -> Iterator[None]:
    """Turn a real venue's failure during start into the reason execution will not start."""
    try:
        yield
    except Exception as exc:
        raise ReconciliationFailed([f"{what}: {exc}"]) from exc


async def _nothing(_: Ledger) -> None:
    """A transaction with no work of its own (it saves the outbox's cursor)."""


class Ticker:
    """Calls ``tick`` every ``interval_s`` seconds, or at once when ``wake`` is set (a real
    venue's news), until stopped; a failing tick is logged and the next one comes anyway."""

    def __init__(
        self,
        tick: Callable[[], Awaitable[None]],
        interval_s: float,
        wake: asyncio.Event | None = None,
    ) -> None:
        self.tick = tick
        self.interval_s = interval_s
        self.wake = wake or asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start ticking in the background."""
        self._task = asyncio.create_task(self._run(), name="execution-clock")

    async def stop(self) -> None:
        """Stop ticking and wait for the loop to end."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can turn a cancel that meets
            # its timeout into a TimeoutError, and the clock would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self.wake.wait()
            try:
                await self.tick()
            except Exception:
                log.exception("the execution clock's tick failed")
