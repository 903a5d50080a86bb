"""Execution's use cases: take approved orders to the venue, book fills, serve state.

Each use case changes state in one database transaction that also records the command's
message id (the inbox) and appends every resulting event to the event log (the outbox).
Only after the commit are the events published, then marked published; the message is
acknowledged after that. A crash anywhere in between is healed by redelivery: the inbox
recognises the command and the outbox is flushed again, and JetStream drops duplicates by
``Nats-Msg-Id``. Nothing is lost and no fill is booked twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    AccountBalance,
    AccountState,
    CancelOrder,
    Message,
    OrdersQuery,
    OrdersReply,
    PositionsQuery,
    PositionsReply,
    PositionView,
    SubmitOrder,
    order_event_from_core,
    position_event_from_core,
)
from foxtrot.common.publishing import derived_id, now_ns
from foxtrot.core import events as core_events
from foxtrot.core.data import Bar as CoreBar
from foxtrot.core.data import TradeTick as CoreTrade
from foxtrot.core.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from foxtrot.core.events import OrderEvent, OrderSubmitted
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    VenueOrderId,
)
from foxtrot.core.orders import Order, OrderSpec
from foxtrot.core.portfolio import Position
from foxtrot.core.venue import SimulatedVenue
from foxtrot.execution.adapters.repository import ExecutionRepository, OutboxEntry

__all__ = ["ExecutionService"]

log = logging.getLogger(__name__)
RawPublish = Callable[[str, bytes, str], Awaitable[None]]


class ExecutionService:
    """Order management over one simulated venue and one paper account."""

    def __init__(
        self,
        engine: AsyncEngine,
        venue: SimulatedVenue,
        publish: RawPublish,
        account_id: str,
        starting_balance: Decimal,
    ) -> None:
        self.engine = engine
        self.venue = venue
        self.publish = publish
        self.account_id = account_id
        self.starting_balance = starting_balance
        self.currency = venue.settlement_currency
        # One writer at a time: the venue's book and the tables change together.
        self._lock = asyncio.Lock()
        self._orders: dict[ClientOrderId, Order] = {}

    async def recover(self) -> None:
        """Rebuild the venue's resting orders from the database and flush the outbox."""
        async with self.engine.begin() as conn:
            rows = await ExecutionRepository(conn).open_orders()
        for row in rows:
            order = _order_from_row(row)
            self._orders[order.client_order_id] = order
            if order.venue_order_id is not None:
                self.venue.restore(order.spec, order.venue_order_id)
        await self.flush_outbox()
        log.info("recovered %d open orders", len(rows))

    async def submit(self, command: SubmitOrder, subject: str) -> None:
        """Send an approved order to the venue and book what happens."""
        async with self._lock:
            spec = command.to_core()
            try:
                async with self.engine.begin() as conn:
                    repo = ExecutionRepository(conn)
                    if await repo.already_processed(command.message_id):
                        pass
                    elif await repo.order_exists(spec.client_order_id):
                        log.warning(
                            "ignored a second order with client order id %s", spec.client_order_id
                        )
                        await repo.mark_processed(command.message_id, subject, now_ns())
                    else:
                        await self._submit(repo, command, spec, subject)
            except BaseException:
                self.venue.forget(spec.client_order_id)
                self._orders.pop(spec.client_order_id, None)
                raise
        await self.flush_outbox()

    async def _submit(
        self, repo: ExecutionRepository, command: SubmitOrder, spec: OrderSpec, subject: str
    ) -> None:
        now = now_ns()
        order = Order(spec)
        self._orders[spec.client_order_id] = order
        submitted = OrderSubmitted(
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            instrument_id=spec.instrument_id,
            ts_event=now,
        )
        events: list[OrderEvent] = [submitted, *self.venue.submit(spec, now)]
        await self._book(repo, events, command, now, order)
        await repo.mark_processed(command.message_id, subject, now)

    async def cancel(self, command: CancelOrder, subject: str) -> None:
        """Cancel a working order: OrderPendingCancel as the request goes to the venue, then
        the venue's answer. Unknown or finished orders are left as they are (logged)."""
        async with self._lock, self.engine.begin() as conn:
            repo = ExecutionRepository(conn)
            if not await repo.already_processed(command.message_id):
                now = now_ns()
                client_order_id = ClientOrderId(command.client_order_id)
                order = self._orders.get(client_order_id)
                events: list[OrderEvent] = []
                if order is None or not order.status.is_open:
                    log.info("cancel of %s: no working order by that id", client_order_id)
                else:
                    ids: dict[str, Any] = {
                        "client_order_id": client_order_id,
                        "strategy_id": order.spec.strategy_id,
                        "instrument_id": order.spec.instrument_id,
                        "ts_event": now,
                    }
                    events.append(core_events.OrderPendingCancel(**ids))
                    answer = self.venue.cancel(client_order_id, now)
                    events += answer or [
                        core_events.OrderCancelRejected(
                            **ids,
                            reason_code="NOT_RESTING",
                            reason="the venue holds no resting order by that id",
                        )
                    ]
                await self._book(repo, events, command, now)
                await repo.mark_processed(command.message_id, subject, now)
        await self.flush_outbox()

    async def on_trade(self, trade: CoreTrade) -> None:
        """Let the venue match resting orders against a trade."""
        await self._on_market(lambda: self.venue.on_trade(trade))

    async def on_bar(self, bar: CoreBar) -> None:
        """Let the venue match resting orders against a bar."""
        await self._on_market(lambda: self.venue.on_bar(bar))

    async def _on_market(self, match: Callable[[], list[OrderEvent]]) -> None:
        async with self._lock:
            events = match()
            if not events:
                return
            async with self.engine.begin() as conn:
                await self._book(ExecutionRepository(conn), events, None, now_ns())
        await self.flush_outbox()

    async def _book(
        self,
        repo: ExecutionRepository,
        events: Sequence[OrderEvent],
        cause: Message | None,
        now: int,
        order: Order | None = None,
    ) -> None:
        """Apply events to their orders, persist state and append them to the outbox."""
        for index, event in enumerate(events):
            current = order if order is not None else self._orders[event.client_order_id]
            current.apply(event)
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
            await repo.save_order(current, now)
            if current.status.is_terminal:
                self._orders.pop(current.client_order_id, None)

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


def _order_from_row(row: Mapping[str, Any]) -> Order:
    spec = OrderSpec(
        client_order_id=ClientOrderId(str(row["client_order_id"])),
        strategy_id=StrategyId(str(row["strategy_id"])),
        account_id=AccountId(str(row["account_id"])),
        instrument_id=InstrumentId.parse(str(row["instrument_id"])),
        side=OrderSide(row["side"]),
        order_type=OrderType(row["order_type"]),
        quantity=row["quantity"],
        time_in_force=TimeInForce(row["time_in_force"]),
        price=row["price"],
        trigger_price=row["trigger_price"],
        expire_time_ns=row["expire_time_ns"],
        reduce_only=bool(row["reduce_only"]),
        post_only=bool(row["post_only"]),
    )
    venue_order_id = row["venue_order_id"]
    return Order(
        spec,
        status=OrderStatus(row["status"]),
        filled_qty=row["filled_qty"],
        avg_px=row["avg_px"],
        venue_order_id=VenueOrderId(str(venue_order_id)) if venue_order_id else None,
    )
