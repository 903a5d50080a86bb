"""Risk's subscriptions: orders, lists and modifies to judge; kill-switch and limit
commands; execution's order and account events and market prices to keep its state; and
the queries the gateway asks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, TypeVar

from pydantic import BaseModel, Field, TypeAdapter

from foxtrot.common import subjects
from foxtrot.common.consumers import Consumers, Delivery, Settle
from foxtrot.common.errors import MalformedMessage
from foxtrot.common.messages.v1 import (
    AccountState,
    Bar,
    DecisionsQuery,
    Instrument,
    LimitChangesQuery,
    LimitsQuery,
    Message,
    ModifyOrder,
    OrderEvent,
    QueryFailed,
    QuoteTick,
    RiskStatusQuery,
    SetRiskLimits,
    SetTradingState,
    SubmitOrder,
    SubmitOrderList,
    TradeBatch,
    TradingStatesQuery,
)
from foxtrot.common.publishing import Outgoing, PipelinedPublisher, Publisher
from foxtrot.common.streams import COMMANDS, EVENTS, MARKET_DATA
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.risk import Breach, InvalidLimit
from foxtrot.risk.adapters.execution_state import fetch_snapshot
from foxtrot.risk.service import RiskService

__all__ = ["Wiring", "register", "start"]

Q = TypeVar("Q", bound=BaseModel)

log = logging.getLogger(__name__)


class Wiring:
    """Where risk's output goes: approvals (pipelined, per batch) and events."""

    def __init__(self, publish: Publisher, approve: PipelinedPublisher, events: PipelinedPublisher):
        self.publish = publish
        self.approve = approve
        self.events = events

    async def emit(self, messages: Sequence[Message]) -> None:
        """Publish events into the EVENTS stream, in order, and wait for them."""
        if messages:
            await self.events.publish(_outgoing(messages))


ExecutionEvent = OrderEvent | AccountState
# What risk follows on execution's order and account subjects; anything else there is
# refused (dead-lettered with the reason).
_EXECUTION_EVENT: TypeAdapter[ExecutionEvent] = TypeAdapter(
    Annotated[ExecutionEvent, Field(discriminator="type")]
)


def _outgoing(events: Sequence[Message]) -> list[Outgoing]:
    return [(_event_subject(m), m.to_json(), str(m.message_id)) for m in events]


def _event_subject(message: Message) -> str:
    scope = getattr(message, "scope", None)
    if scope is not None:
        return subjects.risk_events(scope, message.key)  # type: ignore[attr-defined]
    return subjects.order_events(message.strategy_id)  # type: ignore[attr-defined]


async def start(
    consumers: Consumers,
    service: RiskService,
    initial_limits: dict[str, str | None],
    snapshot_timeout_s: float,
    retry_s: float,
    tasks: set[asyncio.Task[None]],
    on_event: Callable[[ExecutionEvent, Delivery], Awaitable[None]],
) -> None:
    """Limits and states from the database, then (in the background until execution
    answers) what execution holds, and from then on its events. Until then every order is
    denied STATE_UNKNOWN: risk does not pass what it cannot judge."""
    await service.load(initial_limits)

    async def learn() -> None:
        while True:
            after = await consumers.last_seq(EVENTS)
            try:
                snapshot = await fetch_snapshot(consumers.broker, snapshot_timeout_s)
            except Exception as exc:
                log.warning("risk denies every order until execution answers: %s", exc)
                await asyncio.sleep(retry_s)
                continue
            service.learn(snapshot)
            # One consumer for orders and balances, so they apply in the order execution
            # wrote them (a balance never goes back to before a fill risk has booked).
            await consumers.follow(
                (subjects.ORDER_EVENTS_ALL, subjects.ACCOUNT_EVENTS_ALL),
                stream=EVENTS,
                after_seq=after,
                decode=_EXECUTION_EVENT.validate_json,
                handle=on_event,
            )
            service.following = True
            return

    task = asyncio.create_task(learn(), name="risk-learn-execution")
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def register(
    consumers: Consumers, service: RiskService, out: Wiring, state_wait_s: float
) -> Callable[[ExecutionEvent, Delivery], Awaitable[None]]:
    """Subscribe risk to its subjects; returns the handler of execution's events, which
    starts once risk has execution's snapshot."""

    async def after_breaches(breaches: list[Breach], cause: Message) -> None:
        for breach in breaches:
            await out.emit(await service.breached(breach, cause))

    async def on_submits(commands: list[SubmitOrder]) -> Settle:
        """Approvals and denials go out at once; the batch is acknowledged once they are
        stored and its decisions written, while the next batch is being judged."""
        await service.known(state_wait_s)
        judged = service.judge(commands)
        approvals = await out.approve.send(
            [(subjects.EXEC_SUBMIT_ORDER, m.to_json(), str(m.message_id)) for m in judged.approved]
        )
        denials = await out.events.send(_outgoing(judged.denied))

        async def settle() -> None:
            await asyncio.gather(
                out.approve.confirm(approvals),
                out.events.confirm(denials),
                service.record(judged.rows),
            )

        return settle

    async def on_submit_list(command: SubmitOrderList, _: Delivery) -> None:
        await service.known(state_wait_s)
        approved, denied, rows = service.judge_list(command)
        await service.record(rows)
        if approved is not None:
            await out.publish(subjects.EXEC_SUBMIT_ORDER_LIST, approved, COMMANDS)
        await out.emit(denied)

    async def on_modify(command: ModifyOrder, _: Delivery) -> None:
        await service.known(state_wait_s)
        outcome, row = service.judge_modify(command)
        if row is not None:
            await service.record([row])
        if isinstance(outcome, ModifyOrder):
            await out.publish(subjects.EXEC_MODIFY_ORDER, outcome, COMMANDS)
        else:
            await out.emit([outcome])

    async def on_set_state(command: SetTradingState, _: Delivery) -> None:
        changed = await service.switch(
            command.scope,
            command.key,
            command.state,
            command.reason,
            command.requested_by,
            command,
        )
        if changed is not None:
            await out.emit([changed])

    async def on_set_limits(command: SetRiskLimits, _: Delivery) -> None:
        try:
            await service.set_limits(command)
        except InvalidLimit as exc:
            raise MalformedMessage(subjects.RISK_SET_LIMITS, str(exc)) from None

    async def on_event(event: ExecutionEvent, _: Delivery) -> None:
        if isinstance(event, AccountState):
            service.on_account(event)
        else:
            await after_breaches(service.on_order_event(event), event)

    async def on_price(instrument_id: str, price: object, cause: Message) -> None:
        breaches = service.on_price(InstrumentId.parse(instrument_id), price)  # type: ignore[arg-type]
        await after_breaches(breaches, cause)

    async def on_trades(batch: TradeBatch, _: Delivery) -> None:
        await on_price(batch.instrument_id, batch.trades[-1].price, batch)

    async def on_bar(bar: Bar, _: Delivery) -> None:
        await on_price(bar.instrument_id, bar.close, bar)

    async def on_quote(quote: QuoteTick, _: Delivery) -> None:
        await on_price(quote.instrument_id, (quote.bid_price + quote.ask_price) / 2, quote)

    async def on_instrument(instrument: Instrument, _: Delivery) -> None:
        core = instrument.to_core()
        service.book.instruments[core.instrument_id] = core

    consumers.ordered_batches(
        subjects.RISK_SUBMIT_ORDER,
        stream=COMMANDS,
        durable="risk-submit-order",
        decode=SubmitOrder.from_json,
        handle=on_submits,
        max_batch=200,
    )
    consumers.durable(
        subjects.RISK_SUBMIT_ORDER_LIST,
        stream=COMMANDS,
        durable="risk-submit-order-list",
        decode=SubmitOrderList.from_json,
        handle=on_submit_list,
    )
    consumers.durable(
        subjects.RISK_MODIFY_ORDER,
        stream=COMMANDS,
        durable="risk-modify-order",
        decode=ModifyOrder.from_json,
        handle=on_modify,
    )
    consumers.durable(
        subjects.RISK_SET_TRADING_STATE,
        stream=COMMANDS,
        durable="risk-set-trading-state",
        decode=SetTradingState.from_json,
        handle=on_set_state,
    )
    consumers.durable(
        subjects.RISK_SET_LIMITS,
        stream=COMMANDS,
        durable="risk-set-limits",
        decode=SetRiskLimits.from_json,
        handle=on_set_limits,
    )
    consumers.latest(
        subjects.MD_ALL_INSTRUMENTS,
        stream=MARKET_DATA,
        decode=Instrument.from_json,
        handle=on_instrument,
    )
    consumers.latest(
        subjects.MD_ALL_TRADE_BATCHES,
        stream=MARKET_DATA,
        decode=TradeBatch.from_json,
        handle=on_trades,
    )
    consumers.latest(subjects.MD_ALL_BARS, stream=MARKET_DATA, decode=Bar.from_json, handle=on_bar)
    consumers.latest(
        subjects.MD_ALL_QUOTES, stream=MARKET_DATA, decode=QuoteTick.from_json, handle=on_quote
    )
    _queries(consumers, service)
    return on_event


def _queries(consumers: Consumers, service: RiskService) -> None:
    async def limits(_: LimitsQuery) -> BaseModel:
        return service.limits()

    async def states(_: TradingStatesQuery) -> BaseModel:
        return service.trading_states()

    async def status(_: RiskStatusQuery) -> BaseModel:
        return service.status()

    def answer(
        subject: str, decode: Callable[[bytes], Q], respond: Callable[[Q], Awaitable[BaseModel]]
    ) -> None:
        consumers.respond(
            subject,
            decode=decode,
            respond=respond,
            error_reply=lambda error: QueryFailed(error=error),
        )

    answer(subjects.QRY_RISK_LIMITS, LimitsQuery.model_validate_json, limits)
    answer(subjects.QRY_RISK_TRADING_STATES, TradingStatesQuery.model_validate_json, states)
    answer(subjects.QRY_RISK_STATUS, RiskStatusQuery.model_validate_json, status)
    answer(
        subjects.QRY_RISK_LIMIT_CHANGES,
        LimitChangesQuery.model_validate_json,
        service.limit_changes,
    )
    answer(subjects.QRY_RISK_DECISIONS, DecisionsQuery.model_validate_json, service.decisions)
