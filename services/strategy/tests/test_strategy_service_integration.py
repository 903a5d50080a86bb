"""The strategy service as it runs: its app on real NATS JetStream and PostgreSQL, controlled
over request/reply, fed bars through its own durable consumers, restarted on the same
database, and running a backtest for whoever asks over NATS."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from strategy_testkit import FTX_BARS_CSV, backtest_spec, load_bars, sma_config

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    BacktestQuery,
    BacktestReply,
    BacktestStatus,
    Bar,
    OrdersReply,
    PositionsReply,
    QueryFailed,
    RunBacktest,
    StartStrategy,
    StopStrategy,
    StrategyInstanceReply,
    StrategyInstancesQuery,
    StrategyInstancesReply,
)
from foxtrot.common.streams import MARKET_DATA
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.schemas import fresh_schema
from foxtrot.core.strategy import StrategyState
from foxtrot.strategy.app import MIGRATIONS, SCHEMA, create_app
from foxtrot.strategy.config import StrategySettings

pytestmark = pytest.mark.integration

R = TypeVar("R", bound=BaseModel)
FAST, SLOW = 3, 8
BARS_SUBJECT = "md.v1.bar.FTX.BTC-PERP.1m"


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    async with fresh_schema(infrastructure.database_url, MIGRATIONS, SCHEMA) as engine:
        yield engine


@pytest.fixture
async def execution(clean_streams: NatsClient) -> AsyncIterator[list[str]]:
    """A stand-in for execution's queries: it holds nothing. The subjects it was asked on."""
    asked: list[str] = []

    async def answer(msg: Msg) -> None:
        asked.append(msg.subject)
        empty: BaseModel = (
            PositionsReply(positions=())
            if msg.subject == subjects.QRY_EXEC_POSITIONS
            else OrdersReply(orders=())
        )
        await msg.respond(empty.model_dump_json().encode())

    subscription = await clean_streams.subscribe("qry.v1.exec.*", cb=answer)
    await clean_streams.flush()
    yield asked
    await subscription.unsubscribe()


@pytest.fixture
def service(
    infrastructure: Infrastructure, engine: AsyncEngine, execution: list[str]
) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Runs the strategy service's app (its lifespan) for as long as the block lasts."""

    @asynccontextmanager
    async def running() -> AsyncIterator[None]:
        settings = StrategySettings(
            nats_url=infrastructure.service_nats_url("strategy"),
            database_url=infrastructure.database_url,
            seed_instance=False,
            fill_wait_s=0.0,
            save_interval_s=0.1,
        )
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        app = create_app(settings)
        root.handlers[:], root.level = handlers, level  # create_app configures JSON logging
        async with app.router.lifespan_context(app):
            yield

    return running


async def ask(client: NatsClient, subject: str, request: BaseModel, reply: type[R]) -> R:
    answer = await client.request(subject, request.model_dump_json().encode(), timeout=15)
    try:
        return reply.model_validate_json(answer.data)
    except ValueError:
        raise AssertionError(answer.data.decode()) from None


async def publish_bars(client: NatsClient, bars: list[Bar]) -> None:
    js = client.jetstream()
    for bar in bars:
        await js.publish(
            BARS_SUBJECT,
            bar.to_json(),
            stream=MARKET_DATA.name,
            headers={"Nats-Msg-Id": str(bar.message_id)},
        )


async def next_orders(commands: Any, count: int) -> list[dict[str, Any]]:
    return [json.loads((await commands.next_msg(timeout=15)).data) for _ in range(count)]


def expected_orders(bars: list[Bar]) -> list[str]:
    """The client order ids SmaCross 3/8 sends on ``bars`` while nothing answers: its first
    cross only (it asks for nothing while that order is open)."""
    from foxtrot.core.strategies.sma_cross import SmaCross, SmaCrossConfig
    from foxtrot.core.strategy import StrategyRuntime

    runtime = StrategyRuntime(SmaCross(SmaCrossConfig.model_validate(sma_config(
        fast_period=FAST, slow_period=SLOW
    ))))  # fmt: skip
    runtime.start()
    for bar in bars:
        runtime.on_bar(bar.to_core())
    return [c.spec.client_order_id for c in runtime.drain()]  # type: ignore[union-attr]


async def test_instances_are_controlled_over_nats_fed_bars_and_faulted_one_by_one(
    service: Callable[[], AbstractAsyncContextManager[None]],
    clean_streams: NatsClient,
    execution: list[str],
) -> None:
    client = clean_streams
    bars = load_bars(60)
    commands = await client.subscribe(subjects.RISK_SUBMIT_ORDER)
    lifecycle = await client.subscribe("evt.v1.strategy.>")
    async with service():
        started = await ask(
            client,
            subjects.STRATEGY_START,
            StartStrategy(
                strategy="sma_cross", config=sma_config(fast_period=FAST, slow_period=SLOW)
            ),
            StrategyInstanceReply,
        )
        assert started.instance.state is StrategyState.RUNNING
        assert subjects.QRY_EXEC_POSITIONS in execution  # it asked what it holds
        faulty = await ask(
            client,
            subjects.STRATEGY_START,
            StartStrategy(
                strategy="strategy_testkit:RaisesOnBar",
                config={"strategy_id": "faulty", "fail_after": 2},
            ),
            StrategyInstanceReply,
        )
        assert faulty.instance.state is StrategyState.RUNNING
        refused = await ask(
            client,
            subjects.STRATEGY_START,
            StartStrategy(strategy="sma_cross", config=sma_config(strategy_id="x", slow_period=1)),
            QueryFailed,
        )
        assert refused.code == "INVALID"
        assert "slow_period" in refused.error
        garbage = await client.request(subjects.STRATEGY_STOP, b"{not json", timeout=5)
        assert QueryFailed.model_validate_json(garbage.data).code == "INVALID"

        await publish_bars(client, bars[:30])
        sent = await next_orders(commands, 1)
        assert [o["client_order_id"] for o in sent] == expected_orders(bars[:30])

        events: list[dict[str, Any]] = []
        while len(events) < 3:  # started, started, faulted
            events.append(json.loads((await lifecycle.next_msg(timeout=15)).data))
        fault = next(e for e in events if e["type"] == "StrategyFaulted")
        assert (fault["strategy_id"], fault["handler"]) == ("faulty", "on_bar")
        listed = await ask(
            client,
            subjects.QRY_STRATEGY_INSTANCES,
            StrategyInstancesQuery(),
            StrategyInstancesReply,
        )
        states = {i.strategy_id: i.state for i in listed.instances}
        assert states == {"faulty": StrategyState.FAULTED, "sma-cross-1": StrategyState.RUNNING}

    # A new service on the same database and streams: the instance resumes where it was.
    async with service():
        listed = await ask(
            client,
            subjects.QRY_STRATEGY_INSTANCES,
            StrategyInstancesQuery(strategy_id="sma-cross-1"),
            StrategyInstancesReply,
        )
        (view,) = listed.instances
        assert (view.state, view.open_orders) == (StrategyState.RUNNING, 1)
        await publish_bars(client, bars[30:])
        stopped = await ask(
            client,
            subjects.STRATEGY_STOP,
            StopStrategy(strategy_id="sma-cross-1"),
            StrategyInstanceReply,
        )
        assert stopped.instance.state is StrategyState.STOPPED
    # Nothing was sent again: the open order keeps the strategy from asking for more.
    with pytest.raises(TimeoutError):
        await commands.next_msg(timeout=0.5)
    await commands.unsubscribe()
    await lifecycle.unsubscribe()


async def test_a_restarted_service_shows_its_strategy_the_bars_it_missed_once(
    service: Callable[[], AbstractAsyncContextManager[None]],
    clean_streams: NatsClient,
) -> None:
    client = clean_streams
    bars = load_bars(60)
    commands = await client.subscribe(subjects.RISK_SUBMIT_ORDER)
    config = sma_config(fast_period=FAST, slow_period=SLOW)
    async with service():
        await ask(
            client,
            subjects.STRATEGY_START,
            StartStrategy(strategy="sma_cross", config=config),
            StrategyInstanceReply,
        )
        await publish_bars(client, bars[:10])
        listed = await ask(
            client,
            subjects.QRY_STRATEGY_INSTANCES,
            StrategyInstancesQuery(),
            StrategyInstancesReply,
        )
        assert listed.instances[0].state is StrategyState.RUNNING
    await publish_bars(client, bars[10:30])  # while the service is down
    async with service():
        sent = await next_orders(commands, 1)
    assert [o["client_order_id"] for o in sent] == expected_orders(bars[:30])
    assert Decimal(sent[0]["quantity"]) == Decimal("0.01")
    await commands.unsubscribe()


async def test_a_backtest_runs_for_whoever_asks_over_nats(
    service: Callable[[], AbstractAsyncContextManager[None]],
    clean_streams: NatsClient,
) -> None:
    if not FTX_BARS_CSV.exists():
        pytest.skip(f"market data file not found: {FTX_BARS_CSV}")
    client = clean_streams
    async with service():
        queued = await ask(
            client,
            subjects.STRATEGY_RUN_BACKTEST,
            RunBacktest(spec=backtest_spec(), requested_by="test"),
            BacktestReply,
        )
        assert queued.backtest.status is BacktestStatus.QUEUED
        backtest_id = queued.backtest.backtest_id
        deadline = asyncio.get_running_loop().time() + 120
        while True:  # nothing announces a backtest's end: ask until it is over
            reply = await ask(
                client,
                subjects.QRY_STRATEGY_BACKTEST,
                BacktestQuery(backtest_id=backtest_id),
                BacktestReply,
            )
            if reply.backtest.status in (BacktestStatus.DONE, BacktestStatus.FAILED):
                break
            assert asyncio.get_running_loop().time() < deadline, "the backtest never ended"
            await asyncio.sleep(0.2)
        assert reply.backtest.status is BacktestStatus.DONE, reply.backtest.error
        pages: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = await ask(
                client,
                subjects.QRY_STRATEGY_BACKTEST,
                BacktestQuery(backtest_id=backtest_id, content="html", offset=offset),
                BacktestReply,
            )
            assert page.content is not None
            pages.append(page.content)
            offset = page.next_offset
        assert "".join(pages).startswith("<!DOCTYPE html>")
        missing = await ask(
            client,
            subjects.QRY_STRATEGY_BACKTEST,
            BacktestQuery(backtest_id=queued.backtest.backtest_id.__class__(int=1)),
            QueryFailed,
        )
        assert missing.code == "NOT_FOUND"
