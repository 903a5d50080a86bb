"""The execution service on Binance spot (a local fake Binance through real ccxt), with
real PostgreSQL and JetStream: orders booked from the user data stream, a fill made while
execution was down booked once by the reconciliation at start, and a refusal to start
when Binance cannot be reached."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.errors import ReconciliationFailed
from foxtrot.common.messages.v1 import AccountsQuery, SubmitOrder
from foxtrot.execution.adapters.tables import fills, orders
from foxtrot.execution.outbox import Send as Publish
from foxtrot.execution.service import ExecutionService
from foxtrot.execution.venues.binance import (
    BinanceSettings,
    BinanceVenue,
    RateBudgetRegistry,
    RetryPolicy,
)
from foxtrot.execution.venues.binance.fake_server import FakeBinance

pytestmark = pytest.mark.integration

D = Decimal


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    server = FakeBinance()
    await server.start()
    yield server
    await server.stop()


def _service(engine: AsyncEngine, publish: Publish, url: str, key: str) -> ExecutionService:
    settings = BinanceSettings(key, "fake-secret", rest_url=url, request_timeout_s=2.0)

    def venue() -> BinanceVenue:
        return BinanceVenue(
            settings,
            budgets=RateBudgetRegistry(),
            retry=RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02),
        )

    return ExecutionService(engine, venue, publish, "BINANCE-001", {})


def _submit(side: str, quantity: str, price: str | None = None) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=f"b-{uuid.uuid4().hex[:10]}",
        strategy_id="live",
        account_id="BINANCE-001",
        instrument_id="BTCUSDT.BINANCE",
        side=side,
        order_type="LIMIT" if price else "MARKET",
        quantity=quantity,
        price=price,
        ts_event=1,
        ts_init=1,
    )


async def _status(engine: AsyncEngine, client_order_id: str) -> str | None:
    async with engine.connect() as conn:
        row = await conn.execute(
            select(orders.c.status).where(orders.c.client_order_id == client_order_id)
        )
        return row.scalar_one_or_none()


async def _until_status(
    service: ExecutionService, engine: AsyncEngine, client_order_id: str, status: str
) -> None:
    """Book the venue's news as the service's clock would, until the order has ``status``."""
    async with asyncio.timeout(10):
        while await _status(engine, client_order_id) != status:
            venue = service.venue
            assert isinstance(venue, BinanceVenue)
            with_news = asyncio.create_task(venue.events_ready.wait())
            await asyncio.wait([with_news], timeout=0.2)
            with_news.cancel()
            await service.tick()


async def test_market_order_on_binance_is_booked_from_the_user_data_stream(
    engine: AsyncEngine, publish: Publish, fake: FakeBinance
) -> None:
    service = _service(engine, publish, fake.url, fake.api_key)
    await service.start()
    try:
        command = _submit("BUY", "0.01")
        await service.submit(command, "cmd.v1.exec.submit_order")
        await _until_status(service, engine, command.client_order_id, "FILLED")
        reply = await service.query_accounts(AccountsQuery(account_id="BINANCE-001"))
        # The account started from Binance's (100,000 USDT, 1 BTC, 10 ETH), then bought
        # 0.01 BTC at 50,000 (the fake's price) for 500 USDT, paying 0.00001 BTC in fees.
        balances = {b.currency: b.total for b in reply.accounts[0].balances}
        assert balances == {"BTC": D("1.00999"), "ETH": D(10), "USDT": D(99_500)}
    finally:
        await service.stop()


async def test_fill_made_while_execution_was_down_is_booked_once_at_start(
    engine: AsyncEngine, publish: Publish, fake: FakeBinance
) -> None:
    first = _service(engine, publish, fake.url, fake.api_key)
    await first.start()
    command = _submit("BUY", "0.01", "49000.00")
    await first.submit(command, "cmd.v1.exec.submit_order")
    await _until_status(first, engine, command.client_order_id, "ACCEPTED")
    await first.stop()

    fake.account.trade("BTCUSDT", D(48_500))  # fills the resting buy while nobody listens

    second = _service(engine, publish, fake.url, fake.api_key)
    await second.start()
    try:
        assert await _status(engine, command.client_order_id) == "FILLED"
        await second.reconcile()  # asking again finds nothing new
        async with engine.connect() as conn:
            rows = (await conn.execute(select(fills.c.trade_id, fills.c.last_px))).all()
        assert [(trade_id, px) for trade_id, px in rows] == [("5000001", D(49000))]
        # The balances agree with Binance's after the fill made while execution was down.
        assert second.account.totals == {
            "BTC": D("1.00999"),
            "ETH": D(10),
            "USDT": D(99_510),  # 100,000 - 0.01 x 49,000
        }
    finally:
        await second.stop()


async def test_execution_refuses_to_start_when_binance_cannot_be_reached(
    engine: AsyncEngine, publish: Publish, fake: FakeBinance
) -> None:
    url = fake.url
    await fake.stop()
    service = _service(engine, publish, url, fake.api_key)
    with pytest.raises(ReconciliationFailed, match="venue BINANCE cannot be reached"):
        await service.start()
    await service.stop()
