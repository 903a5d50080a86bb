"""Crash safety of execution: 1,000 orders go through risk and execution; in one run
execution is killed with SIGKILL while they are in flight and started again. Every order's
final state, every fill, every position and every balance must equal those of a run that
was not interrupted, and no fill may be lost, booked twice or published twice.

Also: execution refuses to start, saying why, when its books do not add up.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import select, text

from foxtrot.common import subjects
from foxtrot.common.local.platform import LocalPlatform
from foxtrot.common.messages.v1 import Instrument, QuoteTick, SubmitOrder
from foxtrot.common.persistence import make_engine
from foxtrot.common.streams import COMMANDS, EVENTS, MARKET_DATA
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.plugin import reset_streams
from foxtrot.common.testkit.schemas import drop_schema
from foxtrot.core.identifiers import InstrumentId
from foxtrot.execution.adapters.tables import balances, fills, orders, positions
from foxtrot.execution.app import SCHEMA

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ORDERS = 1000
KILL_AFTER = 300  # orders booked before the SIGKILL: the rest are still in flight
INSTRUMENT = InstrumentId("BTCUSDT", "SIM")
STRATEGIES = ("alpha", "beta", "gamma")
SERVICES = ("risk", "execution")


@dataclass(frozen=True)
class Books:
    """What execution ended with, without the wall-clock timestamps."""

    orders: dict[str, tuple[Any, ...]]
    fills: dict[str, tuple[Any, ...]]
    positions: dict[tuple[str, str], tuple[Any, ...]]
    balances: dict[str, tuple[Any, ...]]
    published_fills: Counter[str]


def order(n: int) -> SubmitOrder:
    """Order ``n``: market buys and sells fill against the quote, a limit buy below the bid
    rests, a limit sell through the bid fills at once; sizes vary."""
    kind = n % 4
    side = "BUY" if kind in (0, 2) else "SELL"
    price = {2: "90", 3: "99"}.get(kind)
    return SubmitOrder(
        client_order_id=f"crash-{n:04d}",
        strategy_id=STRATEGIES[n % len(STRATEGIES)],
        account_id="SIM-001",
        instrument_id=str(INSTRUMENT),
        side=side,
        order_type="LIMIT" if price else "MARKET",
        quantity=Decimal(n % 7 + 1) / 1000,
        price=price,
        ts_event=n,
        ts_init=n,
    )


def expected_status(n: int) -> str:
    return "ACCEPTED" if n % 4 == 2 else "FILLED"


@pytest.fixture(scope="module")
def platform(platform_factory: Callable[..., LocalPlatform]) -> Iterator[LocalPlatform]:
    running = platform_factory(
        service_env={
            "risk": {"FOXTROT_MAX_ORDER_QUANTITY": "10", "FOXTROT_MAX_ORDER_NOTIONAL": "100000"},
            "execution": {"FOXTROT_STARTING_BALANCES": '{"BTC": "5", "USDT": "100000"}'},
        }
    )
    running.start_infrastructure()
    yield running
    running.stop()
    # The session's database is shared: leave no books behind (one of them is corrupt).
    asyncio.run(drop_schema(running.database_url, SCHEMA))


async def fresh_start(platform: LocalPlatform, nc: NatsClient) -> None:
    """Empty streams and an empty execution schema, the market, then risk and execution."""
    for service in SERVICES:
        if service in platform.children:
            platform.children.pop(service).stop()
    await reset_streams(nc)
    await drop_schema(platform.database_url, SCHEMA)
    await asyncio.to_thread(platform.migrate)
    js = nc.jetstream()
    definition = Instrument(
        instrument_id=str(INSTRUMENT),
        base_currency="BTC",
        quote_currency="USDT",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.001"),
        min_quantity=Decimal("0.001"),
        price_precision=2,
        size_precision=3,
        ts_event=1,
        ts_init=1,
    )
    quote = QuoteTick(
        instrument_id=str(INSTRUMENT),
        bid_price=Decimal(100),
        ask_price=Decimal("100.5"),
        bid_size=Decimal(1_000_000),
        ask_size=Decimal(1_000_000),
        ts_event=2,
        ts_init=2,
    )
    await js.publish(subjects.instrument(INSTRUMENT), definition.to_json(), stream=MARKET_DATA.name)
    await js.publish(subjects.quote(INSTRUMENT), quote.to_json(), stream=MARKET_DATA.name)
    for service in SERVICES:
        platform.start_service(service)
    await asyncio.to_thread(platform.wait_ready, 60.0, SERVICES)


async def submit_all(nc: NatsClient) -> None:
    js = nc.jetstream()
    for n in range(ORDERS):
        command = order(n)
        await js.publish(
            subjects.RISK_SUBMIT_ORDER,
            command.to_json(),
            headers={"Nats-Msg-Id": str(command.message_id)},
            stream=COMMANDS.name,
        )


async def booked(platform: LocalPlatform) -> tuple[int, int]:
    """(orders execution holds, orders in their final expected state)."""
    engine = make_engine(platform.database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(orders.c.client_order_id, orders.c.status))).all()
    finally:
        await engine.dispose()
    done = sum(1 for cid, status in rows if status == expected_status(int(cid[-4:])))
    return len(rows), done


async def wait_until_booked(platform: LocalPlatform, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (await booked(platform))[1] < at_least:
        assert platform.children["execution"].alive(), "execution died"
        assert time.monotonic() < deadline, f"only {await booked(platform)} of {at_least} booked"
        await asyncio.sleep(0.05)


async def published_fills(nc: NatsClient) -> Counter[str]:
    """Trade ids of every OrderFilled on the event stream, counted."""
    js = nc.jetstream()
    sub = await js.subscribe("evt.v1.order.*", stream=EVENTS.name, ordered_consumer=True)
    seen: Counter[str] = Counter()
    try:
        while True:
            msg = await sub.next_msg(timeout=2.0)
            event = json.loads(msg.data)
            if event["type"] == "OrderFilled":
                seen[event["trade_id"]] += 1
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return seen


async def books(platform: LocalPlatform, nc: NatsClient) -> Books:
    engine = make_engine(platform.database_url)
    try:
        async with engine.connect() as conn:
            order_rows = await conn.execute(
                select(
                    orders.c.client_order_id,
                    orders.c.status,
                    orders.c.venue_order_id,
                    orders.c.filled_qty,
                    orders.c.avg_px,
                )
            )
            fill_rows = await conn.execute(
                select(
                    fills.c.trade_id,
                    fills.c.client_order_id,
                    fills.c.last_qty,
                    fills.c.last_px,
                    fills.c.commission,
                    fills.c.commission_currency,
                    fills.c.liquidity_side,
                )
            )
            position_rows = await conn.execute(
                select(
                    positions.c.strategy_id,
                    positions.c.instrument_id,
                    positions.c.quantity,
                    positions.c.avg_px_open,
                    positions.c.realized_pnl,
                    positions.c.commissions,
                )
            )
            balance_rows = await conn.execute(
                select(balances.c.currency, balances.c.total, balances.c.locked)
            )
            return Books(
                orders={r[0]: tuple(r[1:]) for r in order_rows},
                fills={r[0]: tuple(r[1:]) for r in fill_rows},
                positions={(r[0], r[1]): tuple(r[2:]) for r in position_rows},
                balances={r[0]: tuple(r[1:]) for r in balance_rows},
                published_fills=await published_fills(nc),
            )
    finally:
        await engine.dispose()


async def run(platform: LocalPlatform, nc: NatsClient, *, crash: bool) -> Books:
    await fresh_start(platform, nc)
    await submit_all(nc)
    if crash:
        await wait_until_booked(platform, KILL_AFTER, timeout=120)
        platform.children["execution"].kill()
        in_flight = ORDERS - (await booked(platform))[1]
        assert in_flight > 0, "every order was booked before the kill: nothing was in flight"
        platform.start_service("execution")
        await asyncio.to_thread(platform.wait_ready, 60.0, ("execution",))
    await wait_until_booked(platform, ORDERS, timeout=300)
    await asyncio.sleep(1.0)  # anything still to come would show up now
    return await books(platform, nc)


@pytest.mark.timeout(900)
async def test_sigkill_in_flight_loses_and_duplicates_nothing(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    nc = await nats.connect(infrastructure.nats_url)
    try:
        calm = await run(platform, nc, crash=False)
        crashed = await run(platform, nc, crash=True)
    finally:
        await nc.close()

    assert len(calm.orders) == ORDERS
    assert Counter(status for status, *_ in calm.orders.values()) == {
        "FILLED": 750,
        "ACCEPTED": 250,
    }
    assert len(calm.fills) == 750
    assert crashed.orders == calm.orders
    assert crashed.fills == calm.fills
    assert crashed.positions == calm.positions
    assert crashed.balances == calm.balances
    for books_of_run in (calm, crashed):
        assert set(books_of_run.published_fills) == set(calm.fills)
        assert max(books_of_run.published_fills.values()) == 1


async def test_execution_refuses_to_start_when_its_books_do_not_add_up(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    nc = await nats.connect(infrastructure.nats_url)
    try:
        await fresh_start(platform, nc)
        await submit_all(nc)
        await wait_until_booked(platform, 20, timeout=120)
    finally:
        await nc.close()
    platform.children["execution"].stop()
    engine = make_engine(platform.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"UPDATE {SCHEMA}.positions SET quantity = quantity + 1 WHERE strategy_id = 'alpha'"
            )
        )
    await engine.dispose()

    child = platform.start_service("execution")
    deadline = time.monotonic() + 60
    while child.alive():
        assert time.monotonic() < deadline, "execution started on books that do not add up"
        await asyncio.sleep(0.2)
    log = (platform.log_dir / "execution.log").read_text()
    assert child.proc.returncode != 0
    assert "refuses to take commands" in log
    assert "position alpha BTCUSDT.SIM is" in log
