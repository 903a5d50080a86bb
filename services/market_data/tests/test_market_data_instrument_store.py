"""InstrumentStore against real PostgreSQL, with market data's own migrations applied."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from importlib.resources import files

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.schemas import fresh_schema
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.adapters.instrument_store import InstrumentStore
from foxtrot.market_data.adapters.tables import SCHEMA, instruments

pytestmark = pytest.mark.integration
MIGRATIONS = str(files("foxtrot.market_data") / "migrations")
BTC = InstrumentId("BTCUSDT", "BINANCE")


def btcusdt(**overrides: object) -> Instrument:
    instrument = Instrument(
        BTC,
        "BTC",
        "USDT",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"),
        min_quantity=Decimal("0.00001"),
        max_quantity=Decimal("9000"),
        min_notional=Decimal("5"),
    )
    return dataclasses.replace(instrument, **overrides)  # type: ignore[arg-type]


def numbered(n: int) -> Instrument:
    return btcusdt(instrument_id=InstrumentId(f"SYM{n:05d}", "BINANCE"))


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    async with fresh_schema(infrastructure.database_url, MIGRATIONS, SCHEMA) as engine:
        yield engine


async def ts_updated(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(instruments.c.instrument_id, instruments.c.ts_updated))
        return {row.instrument_id: row.ts_updated for row in rows}


async def test_stored_instrument_reads_back_equal(engine: AsyncEngine) -> None:
    store = InstrumentStore(engine)
    spot = btcusdt()
    unlimited = btcusdt(
        instrument_id=InstrumentId("ETHUSDT", "BINANCE"),
        base_currency="ETH",
        max_quantity=None,
        min_notional=None,
        tradable=False,
    )

    assert await store.upsert([spot, unlimited], ts_updated=1_700_000_000_000_000_000) == 2

    assert await store.load_all() == [spot, unlimited]
    assert await store.get(BTC) == spot
    assert await store.get(InstrumentId("NOPE", "BINANCE")) is None


async def test_unchanged_rules_are_not_rewritten_and_changed_ones_are(
    engine: AsyncEngine,
) -> None:
    store = InstrumentStore(engine)
    eth = btcusdt(instrument_id=InstrumentId("ETHUSDT", "BINANCE"))
    await store.upsert([btcusdt(), eth], ts_updated=1)

    # Same rules written with more trailing zeros: numerically equal, so not a change.
    same = btcusdt(tick_size=Decimal("0.0100"))
    written = await store.upsert([same, dataclasses.replace(eth, tradable=False)], ts_updated=2)

    assert written == 1
    assert await ts_updated(engine) == {"BTCUSDT.BINANCE": 1, "ETHUSDT.BINANCE": 2}
    assert (await store.get(eth.instrument_id)) == dataclasses.replace(eth, tradable=False)


async def test_the_last_definition_of_an_instrument_in_a_batch_wins(engine: AsyncEngine) -> None:
    store = InstrumentStore(engine)

    await store.upsert([btcusdt(), btcusdt(tick_size=Decimal("0.1"))], ts_updated=1)

    stored = await store.get(BTC)
    assert stored is not None
    assert stored.tick_size == Decimal("0.1")


async def test_a_whole_exchange_of_instruments_is_one_upsert(engine: AsyncEngine) -> None:
    # More rows than 32,767 parameters could carry as one multi-row VALUES.
    store = InstrumentStore(engine)
    batch = [numbered(n) for n in range(5_000)]

    assert await store.upsert(batch, ts_updated=1) == 5_000
    assert await store.upsert(batch, ts_updated=2) == 0

    loaded = await store.load_all()
    assert loaded == batch
    assert set((await ts_updated(engine)).values()) == {1}


async def test_an_empty_batch_writes_nothing(engine: AsyncEngine) -> None:
    assert await InstrumentStore(engine).upsert([], ts_updated=1) == 0
