"""Execution's use cases: take approved orders to the venue, book fills, serve state.

Commands (submit, submit a list, modify, cancel) and market data go to the pure
ExecutionEngine (libs/core), which routes orders to the simulated venue or its emulator
and carries out contingent orders; this module persists and publishes what it decides.

Each use case changes state in one database transaction that also records the command's
message id (the inbox) and appends every resulting event to the event log (the outbox).
Only after the commit are the events published, then marked published; the message is
acknowledged after that. A crash anywhere in between is healed by redelivery: the inbox
recognises the command and the outbox is flushed again, and JetStream drops duplicates by
``Nats-Msg-Id``. Nothing is lost and no fill is booked twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    AccountBalance,
    AccountState,
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
    order_event_from_core,
    position_event_from_core,
)
from foxtrot.common.publishing import derived_id, now_ns
from foxtrot.core import events as core_events
from foxtrot.core.data import Bar as CoreBar
from foxtrot.core.data import QuoteTick as CoreQuote
from foxtrot.core.data import TradeTick as CoreTrade
from foxtrot.core.errors import OrderNotWorking
from foxtrot.core.events import OrderEvent
from foxtrot.core.execution import ExecutionEngine
from foxtrot.core.identifiers import ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position
from foxtrot.core.venue import SimulatedVenue
from foxtrot.execution.adapters.repository import ExecutionRepository, OutboxEntry

__all__ = ["ExecutionService", "Ticker"]

log = logging.getLogger(__name__)
RawPublish = Callable[[str, bytes, str], Awaitable[None]]


class ExecutionService:
    """Order management over one simulated venue and one paper account.

    The pure ExecutionEngine decides what happens to orders; this class persists each
    outcome with the message that caused it and publishes it afterwards.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        venue_factory: Callable[[], SimulatedVenue],
        publish: RawPublish,
        account_id: str,
        starting_balance: Decimal,
    ) -> None:
        self.engine = engine
        self.venue_factory = venue_factory
        self.orders = ExecutionEngine(venue_factory())
        self.publish = publish
        self.account_id = account_id
        self.starting_balance = starting_balance
        self.currency = self.orders.venue.settlement_currency
        # One writer at a time: the engine's state and the tables change together.
        self._lock = asyncio.Lock()

    @property
    def venue(self) -> SimulatedVenue:
        """The venue orders go to."""
        return self.orders.venue

    async def recover(self) -> None:
        """Rebuild open orders, emulated orders and positions from the database, and flush
        the outbox."""
        async with self.engine.begin() as conn:
            repo = ExecutionRepository(conn)
            rows = await repo.open_orders()
            nets = await repo.net_positions()
        for instrument_id, quantity in nets.items():
            self.venue.restore_position(InstrumentId.parse(instrument_id), quantity)
        for order, fills, ts_accepted in rows:
            self.orders.restore(order, fills, ts_accepted)
        await self.flush_outbox()
        log.info("recovered %d open orders", len(rows))

    async def submit(self, command: SubmitOrder, subject: str) -> None:
        """Send an approved order on its way and book what happens."""
        await self._command(command, subject, [command.to_core()])

    async def submit_list(self, command: SubmitOrderList, subject: str) -> None:
        """Send an approved order list on its way and book what happens."""
        await self._command(command, subject, command.to_core())

    async def modify(self, command: ModifyOrder, subject: str) -> None:
        """Change a working order (OrderPendingUpdate, then the answer)."""
        await self._command(command, subject)

    async def cancel(self, command: CancelOrder, subject: str) -> None:
        """Cancel a working order (OrderPendingCancel, then the answer)."""
        await self._command(command, subject)

    async def _command(
        self,
        command: SubmitOrder | SubmitOrderList | ModifyOrder | CancelOrder,
        subject: str,
        specs: Sequence[OrderSpec] = (),
    ) -> None:

        async def handle(repo: ExecutionRepository) -> None:
            if not await repo.already_processed(command.message_id):
                now = now_ns()
                events = await self._decide(repo, command, specs, now)
                await self._book(repo, events, command, now)
                await repo.mark_processed(command.message_id, subject, now)

        async with self._lock:
            await self._write(handle)
        await self.flush_outbox()

    async def _write(self, work: Callable[[ExecutionRepository], Awaitable[None]]) -> None:
        """Run ``work`` in one transaction. If it fails, the engine may have moved on
        without the database, so it starts again from what was committed."""
        try:
            async with self.engine.begin() as conn:
                await work(ExecutionRepository(conn))
        except BaseException:
            await self._reload()
            raise

    async def _decide(
        self,
        repo: ExecutionRepository,
        command: SubmitOrder | SubmitOrderList | ModifyOrder | CancelOrder,
        specs: Sequence[OrderSpec],
        now: int,
    ) -> list[OrderEvent]:
        if specs:
            for spec in specs:
                if await repo.order_exists(spec.client_order_id):
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
        self.orders = ExecutionEngine(self.venue_factory())
        await self.recover()

    async def on_trade(self, trade: CoreTrade) -> None:
        """Let the engine match and trigger orders against a trade."""
        await self._on_market(lambda: self.orders.on_trade(trade))

    async def on_quote(self, quote: CoreQuote) -> None:
        """Let the engine match and trigger orders against a quote."""
        await self._on_market(lambda: self.orders.on_quote(quote))

    async def on_bar(self, bar: CoreBar) -> None:
        """Let the engine match and trigger orders against a bar."""
        await self._on_market(lambda: self.orders.on_bar(bar))

    async def tick(self) -> None:
        """Let time pass: requests in flight reach the venue and orders expire."""
        await self._on_market(lambda: self.orders.advance(now_ns()))

    async def _on_market(self, match: Callable[[], list[OrderEvent]]) -> None:
        async with self._lock:
            events = match()
            if not events:
                return
            await self._write(lambda repo: self._book(repo, events, None, now_ns()))
        await self.flush_outbox()

    async def _book(
        self,
        repo: ExecutionRepository,
        events: Sequence[OrderEvent],
        cause: Message | None,
        now: int,
    ) -> None:
        """Append the engine's events to the log, book fills, save every order touched."""
        touched: dict[ClientOrderId, Order] = {}
        for index, event in enumerate(events):
            envelope: dict[str, Any] = {"ts_init": now}
            if cause is not None:
                envelope.update(cause.caused(ts_init=now))
                envelope["message_id"] = derived_id(cause.message_id, f"event-{index}")
            wire = order_event_from_core(event, **envelope)
            await repo.append_event(
                subjects.order_events(event.strategy_id),
                wire,
                event.client_order_id,
                wire.causation_id,
            )
            if isinstance(event, core_events.OrderFilled):
                await self._book_fill(repo, event, wire, now)
            touched[event.client_order_id] = self.orders.orders[event.client_order_id]
        for order in touched.values():
            await repo.save_order(order, now)

    async def _book_fill(
        self, repo: ExecutionRepository, fill: core_events.OrderFilled, wire: Message, now: int
    ) -> None:
        await repo.save_fill(
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
        position = await repo.load_position(fill.strategy_id, str(fill.instrument_id)) or Position(
            fill.strategy_id, fill.instrument_id
        )
        change = position.apply_fill(
            fill.side, fill.last_qty, fill.last_px, fill.commission, fill.ts_event
        )
        await repo.save_position(position, self.currency)
        caused = {
            "correlation_id": wire.correlation_id,
            "causation_id": wire.message_id,
            "message_id": derived_id(wire.message_id, "position"),
            "ts_event": fill.ts_event,
            "ts_init": now,
        }
        pos_event = position_event_from_core(position, change, self.currency, **caused)
        await repo.append_event(
            subjects.position_events(fill.strategy_id), pos_event, None, wire.message_id
        )
        cash_delta = -(fill.last_qty * fill.last_px * fill.side.sign) - fill.commission
        total = await repo.add_to_balance(
            self.account_id, self.currency, cash_delta, self.starting_balance, now
        )
        account = AccountState(
            account_id=self.account_id,
            balances=(
                AccountBalance(currency=self.currency, total=total, locked=Decimal(0), free=total),
            ),
            **{**caused, "message_id": derived_id(wire.message_id, "account")},
        )
        await repo.append_event(
            subjects.account_events(self.account_id), account, None, wire.message_id
        )

    async def flush_outbox(self) -> None:
        """Publish every unpublished event in log order, then mark them published."""
        while True:
            async with self.engine.begin() as conn:
                pending: list[OutboxEntry] = await ExecutionRepository(conn).unpublished()
            if not pending:
                return
            for _seq, subject, message_id, payload in pending:
                await self.publish(subject, payload, message_id)
            async with self.engine.begin() as conn:
                await ExecutionRepository(conn).mark_published([e[0] for e in pending])

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


class Ticker:
    """Calls ``tick`` every ``interval_s`` seconds until stopped; a failing tick is logged
    and the next one comes anyway."""

    def __init__(self, tick: Callable[[], Awaitable[None]], interval_s: float) -> None:
        self.tick = tick
        self.interval_s = interval_s
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
            await asyncio.sleep(self.interval_s)
            try:
                await self.tick()
            except Exception:
                log.exception("the execution clock's tick failed")
