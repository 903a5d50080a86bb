"""Execution against real PostgreSQL and JetStream: state, event log, outbox, recovery."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Sequence
from decimal import Decimal

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.messages.v1 import (
    CancelOrder,
    OrdersQuery,
    PositionsQuery,
    SubmitOrder,
    SubmitOrderList,
)
from foxtrot.common.publishing import Outgoing
from foxtrot.common.streams import EVENTS
from foxtrot.core.data import Bar, QuoteTick
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.venue import SimulatedVenue
from foxtrot.execution.adapters.tables import fills, order_events, orders, outbox, positions
from foxtrot.execution.outbox import Send as Publish
from foxtrot.execution.service import ExecutionService

pytestmark = pytest.mark.integration
INSTRUMENT = InstrumentId("BTC-PERP", "FTX")


def _service(engine: AsyncEngine, publish: Publish, account: str) -> ExecutionService:
    return ExecutionService(
        engine, lambda: SimulatedVenue("SIM"), publish, account, {"USD": Decimal("100000")}
    )


def _quote(price: str) -> QuoteTick:
    """A locked quote: market orders fill at ``price`` against its (deep) size. Data is
    stamped as it arrives, like market data's, so it comes after the orders before it."""
    ts = time.time_ns()
    return QuoteTick(
        INSTRUMENT, Decimal(price), Decimal(price), Decimal(1000), Decimal(1000), ts, ts
    )


def _bar(close: str, low: str | None = None, high: str | None = None) -> Bar:
    """A 1-minute bar, stamped as it arrives (see ``_quote``)."""
    ts = time.time_ns()
    price = Decimal(close)
    return Bar(
        INSTRUMENT,
        "1m",
        price,
        Decimal(high or close),
        Decimal(low or close),
        price,
        Decimal(100),
        ts,
        ts,
    )


def _submit(
    strategy: str,
    side: str = "BUY",
    quantity: str = "2",
    order_type: str = "MARKET",
    price: str | None = None,
    account: str = "ACC",
) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=f"{strategy}-{uuid.uuid4().hex[:8]}",
        strategy_id=strategy,
        account_id=account,
        instrument_id=str(INSTRUMENT),
        side=side,
        order_type=order_type,
        quantity=quantity,
        price=price,
        ts_event=1,
        ts_init=1,
    )


async def _stream_events(nats_client: NatsClient, strategy: str) -> list[dict[str, object]]:
    js = nats_client.jetstream()
    sub = await js.subscribe(f"evt.v1.*.{strategy}", stream=EVENTS.name, ordered_consumer=True)
    events = []
    try:
        while True:
            msg = await sub.next_msg(timeout=1.0)
            events.append(json.loads(msg.data))
    except TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return events


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_market_order_is_filled_and_its_events_persisted_and_published(
    engine: AsyncEngine, publish: Publish, nats_client: NatsClient
) -> None:
    strategy = f"s{uuid.uuid4().hex[:8]}"
    service = _service(engine, publish, f"A{strategy}")
    await service.on_quote(_quote("100"))
    command = _submit(strategy)
    await service.submit(command, "cmd.v1.exec.submit_order")

    published = await _stream_events(nats_client, strategy)
    assert [e["type"] for e in published] == [
        "OrderSubmitted",
        "OrderAccepted",
        "OrderFilled",
        "PositionOpened",
    ]
    assert all(e["correlation_id"] == str(command.correlation_id) for e in published)
    filled = published[2]
    assert (filled["last_qty"], filled["last_px"], filled["commission"]) == ("2", "100", "0.0800")
    await service.tick()  # saves the outbox's cursor (the next transaction would, too)
    async with engine.connect() as conn:
        row = (await conn.execute(select(orders))).mappings().one()
        assert (row["status"], row["filled_qty"], row["avg_px"]) == ("FILLED", 2, 100)
        position = (await conn.execute(select(positions))).mappings().one()
        assert (position["quantity"], position["avg_px_open"]) == (2, 100)
        cursor = (await conn.execute(select(outbox.c.published_through))).scalar_one()
        assert cursor == (await conn.execute(select(func.max(order_events.c.seq)))).scalar_one()
    assert await _count(engine, order_events) == 5  # four above plus AccountState


async def test_a_redelivered_submit_is_not_processed_twice(
    engine: AsyncEngine, publish: Publish, nats_client: NatsClient
) -> None:
    strategy = f"s{uuid.uuid4().hex[:8]}"
    service = _service(engine, publish, f"A{strategy}")
    await service.on_quote(_quote("100"))
    command = _submit(strategy)
    await service.submit(command, "cmd.v1.exec.submit_order")
    await service.submit(command, "cmd.v1.exec.submit_order")
    await service.submit(
        command.model_copy(update={"message_id": uuid.uuid4()}), "cmd.v1.exec.submit_order"
    )
    assert await _count(engine, fills) == 1
    assert await _count(engine, orders) == 1
    assert len(await _stream_events(nats_client, strategy)) == 4


async def test_events_committed_before_a_crash_are_published_once_after_restart(
    engine: AsyncEngine, publish: Publish, nats_client: NatsClient
) -> None:
    strategy = f"s{uuid.uuid4().hex[:8]}"

    async def crash_after_first(messages: Sequence[Outgoing]) -> Awaitable[None]:
        await (await publish(messages[:1]))  # the first event reaches the stream, then
        raise ConnectionError("the connection died after one event was published")

    crashing = _service(engine, crash_after_first, f"A{strategy}")
    await crashing.on_quote(_quote("100"))
    command = _submit(strategy)
    await crashing.submit(command, "cmd.v1.exec.submit_order")  # committed: the outbox has it
    assert len(await _stream_events(nats_client, strategy)) == 1

    restarted = _service(engine, publish, f"A{strategy}")
    await restarted.recover()
    await restarted.submit(command, "cmd.v1.exec.submit_order")  # the redelivery
    events = await _stream_events(nats_client, strategy)
    assert [e["type"] for e in events] == [
        "OrderSubmitted",
        "OrderAccepted",
        "OrderFilled",
        "PositionOpened",
    ]
    assert await _count(engine, fills) == 1


async def test_a_resting_limit_order_survives_a_restart_and_fills_on_a_later_bar(
    engine: AsyncEngine, publish: Publish, nats_client: NatsClient
) -> None:
    strategy = f"s{uuid.uuid4().hex[:8]}"
    first = _service(engine, publish, f"A{strategy}")
    await first.on_bar(_bar("100"))
    await first.submit(
        _submit(strategy, order_type="LIMIT", price="95"), "cmd.v1.exec.submit_order"
    )
    restarted = _service(engine, publish, f"A{strategy}")
    await restarted.recover()
    await restarted.on_bar(_bar("97", low="96"))
    assert await _count(engine, fills) == 0
    await restarted.on_bar(_bar("96", low="94.5"))
    async with engine.connect() as conn:
        fill = (await conn.execute(select(fills))).mappings().one()
    assert (fill["last_px"], fill["liquidity_side"]) == (Decimal("95"), "MAKER")
    types = [e["type"] for e in await _stream_events(nats_client, strategy)]
    assert types == ["OrderSubmitted", "OrderAccepted", "OrderFilled", "PositionOpened"]


async def test_cancel_stops_a_resting_order(
    engine: AsyncEngine, publish: Publish, nats_client: NatsClient
) -> None:
    strategy = f"s{uuid.uuid4().hex[:8]}"
    service = _service(engine, publish, f"A{strategy}")
    await service.on_bar(_bar("100"))
    submit = _submit(strategy, side="SELL", order_type="LIMIT", price="110")
    await service.submit(submit, "cmd.v1.exec.submit_order")
    await service.cancel(
        CancelOrder(
            client_order_id=submit.client_order_id,
            strategy_id=strategy,
            instrument_id=str(INSTRUMENT),
            ts_event=2,
            ts_init=2,
        ),
        "cmd.v1.exec.cancel_order",
    )
    await service.on_bar(_bar("111", high="112"))
    reply = await service.query_orders(OrdersQuery(strategy_id=strategy))
    assert [o.status for o in reply.orders] == ["CANCELED"]
    assert await _count(engine, fills) == 0
    types = [e["type"] for e in await _stream_events(nats_client, strategy)]
    assert types == ["OrderSubmitted", "OrderAccepted", "OrderPendingCancel", "OrderCanceled"]


async def test_positions_query_marks_unrealised_pnl_to_the_last_price(
    engine: AsyncEngine, publish: Publish
) -> None:
    strategy = f"s{uuid.uuid4().hex[:8]}"
    service = _service(engine, publish, f"A{strategy}")
    await service.on_quote(_quote("100"))
    await service.submit(_submit(strategy, quantity="3"), "cmd.v1.exec.submit_order")
    await service.submit(_submit(strategy, side="SELL", quantity="1"), "cmd.v1.exec.submit_order")
    await service.on_bar(_bar("104"))
    [position] = (await service.query_positions(PositionsQuery(strategy_id=strategy))).positions
    assert position.quantity == 2
    assert position.realized_pnl == 0
    assert position.unrealized_pnl == Decimal(8)
    assert position.commissions == Decimal("0.1600")


def _bracket(strategy: str) -> SubmitOrderList:
    list_id = f"L{uuid.uuid4().hex[:8]}"
    common = {
        "strategy_id": strategy,
        "account_id": "ACC",
        "instrument_id": str(INSTRUMENT),
        "quantity": "2",
        "order_list_id": list_id,
        "ts_event": 1,
        "ts_init": 1,
    }
    entry, sl, tp = (f"{strategy}-{leg}" for leg in ("entry", "sl", "tp"))
    return SubmitOrderList(
        order_list_id=list_id,
        orders=(
            SubmitOrder(
                client_order_id=entry,
                side="BUY",
                order_type="LIMIT",
                price="99",
                contingency_type="OTO",
                linked_order_ids=(sl, tp),
                **common,
            ),
            SubmitOrder(
                client_order_id=sl,
                side="SELL",
                order_type="STOP_MARKET",
                trigger_price="95",
                reduce_only=True,
                contingency_type="OCO",
                linked_order_ids=(tp,),
                parent_order_id=entry,
                **common,
            ),
            SubmitOrder(
                client_order_id=tp,
                side="SELL",
                order_type="LIMIT",
                price="105",
                reduce_only=True,
                contingency_type="OCO",
                linked_order_ids=(sl,),
                parent_order_id=entry,
                **common,
            ),
        ),
        ts_event=1,
        ts_init=1,
    )


async def test_a_bracket_survives_a_restart_and_its_emulated_stop_loss_closes_the_position(
    engine: AsyncEngine, publish: Publish, nats_client: NatsClient
) -> None:
    strategy = f"s{uuid.uuid4().hex[:8]}"
    first = _service(engine, publish, f"A{strategy}")
    await first.on_bar(_bar("100"))
    await first.submit_list(_bracket(strategy), "cmd.v1.exec.submit_order_list")
    await first.on_bar(_bar("98", low="98"))  # the entry fills; both children go out
    reply = await first.query_orders(OrdersQuery(strategy_id=strategy))
    assert {o.client_order_id.rsplit("-", 1)[1]: o.status for o in reply.orders} == {
        "entry": "FILLED",
        "sl": "ACCEPTED",
        "tp": "ACCEPTED",
    }
    # A restart: the emulated stop-loss and the resting take-profit come back from the
    # database, and the venue knows the position the reduce-only stop may close.
    restarted = _service(engine, publish, f"A{strategy}")
    await restarted.recover()
    await restarted.on_bar(_bar("94", low="94"))  # the stop triggers ...
    await restarted.on_bar(_bar("93"))  # ... and sells at the next bar's open
    reply = await restarted.query_orders(OrdersQuery(strategy_id=strategy))
    assert {o.client_order_id.rsplit("-", 1)[1]: o.status for o in reply.orders} == {
        "entry": "FILLED",
        "sl": "FILLED",
        "tp": "CANCELED",
    }
    [position] = (
        await restarted.query_positions(PositionsQuery(strategy_id=strategy, include_flat=True))
    ).positions
    assert position.quantity == 0
    # Bought at 98 (that bar opened through the 99 limit), sold at 93.
    assert position.realized_pnl == Decimal(2) * (93 - 98)
    types = [e["type"] for e in await _stream_events(nats_client, strategy)]
    assert types.count("OrderFilled") == 2
    assert "OrderTriggered" in types
    assert types[-2:] == ["OrderPendingCancel", "OrderCanceled"]
