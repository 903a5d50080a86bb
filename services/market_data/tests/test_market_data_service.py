"""Replayer against a Publisher that records instead of sending."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.common.market_files.formats import read_tardis_trades
from foxtrot.common.messages.v1 import Bar, TradeBatch, TradeTick
from foxtrot.common.streams import MARKET_DATA
from foxtrot.common.testkit.recording import RecordingPublisher
from foxtrot.core import data as core
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.synthetic import synthetic_bars
from foxtrot.market_data.outbox import TickSubjects
from foxtrot.market_data.service import Replayer

TARDIS_TRADES = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "trades"
    / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
)
BTC_PERP = InstrumentId("BTC-PERP", "FTX")
START_NS = 1_704_067_200_000_000_000  # 2024-01-01 00:00 UTC


def data_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    return path


def bars(count: int, spec: str = "1m", seed: int = 42) -> list[core.Bar]:
    return list(synthetic_bars(BTC_PERP, spec, seed, count, Decimal("30000"), START_NS))


# --- Replayer -------------------------------------------------------------------------------


async def replay(
    records: list[core.Bar] | list[core.TradeTick], speed: float = 0, limit: int | None = None
) -> RecordingPublisher:
    publish = RecordingPublisher()
    await Replayer(publish, records, speed, limit, source="test").run()
    return publish


async def test_replay_at_speed_zero_publishes_every_bar_in_order() -> None:
    records = bars(200)
    publish = await replay(records)

    assert [s.message.ts_event for s in publish.sent] == [r.ts_event for r in records]
    assert {s.subject for s in publish.sent} == {"md.v1.bar.FTX.BTC-PERP.1m"}
    assert {s.stream for s in publish.sent} == {MARKET_DATA}
    first = publish.sent[0].message
    assert isinstance(first, Bar)
    assert first.to_core().close == records[0].close


async def test_replay_message_ids_are_the_same_every_run_and_distinct() -> None:
    first = await replay(bars(200))
    second = await replay(bars(200))

    ids = [s.message.message_id for s in first.sent]
    assert ids == [s.message.message_id for s in second.sent]
    assert len(set(ids)) == 200


async def test_replay_message_ids_differ_between_instruments() -> None:
    other = [core.Bar(InstrumentId("ETH-PERP", "FTX"), *_fields(bar)) for bar in bars(3, seed=1)]
    ids_btc = {s.message.message_id for s in (await replay(bars(3, seed=1))).sent}
    ids_eth = {s.message.message_id for s in (await replay(other)).sent}
    assert ids_btc.isdisjoint(ids_eth)


def _fields(bar: core.Bar) -> tuple[str, Decimal, Decimal, Decimal, Decimal, Decimal, int, int]:
    return (
        bar.spec,
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.volume,
        bar.ts_event,
        bar.ts_init,
    )


async def test_replay_stops_at_the_limit() -> None:
    publish = RecordingPublisher()
    records = bars(50)
    replayer = Replayer(publish, records, 0, 7, source="test")
    await replayer.run()

    assert replayer.published == 7
    assert [s.message.ts_event for s in publish.sent] == [r.ts_event for r in records[:7]]


async def test_replay_of_real_trades_publishes_each_on_its_trade_subject_with_its_id() -> None:
    records = list(read_tardis_trades(data_file(TARDIS_TRADES)))
    first = await replay(records)
    second = await replay(records)

    batches = [s.message for s in first.sent]
    assert {s.subject for s in first.sent} == {"md.v1.trades.BINANCE-FUTURES.BTCUSDT"}
    assert all(isinstance(b, TradeBatch) for b in batches)
    ticks = [t for b in batches if isinstance(b, TradeBatch) for t in b.ticks()]
    assert [t.trade_id for t in ticks] == [r.trade_id for r in records]
    assert [t.to_core() for t in ticks] == [
        dataclasses.replace(r, ts_init=t.ts_init) for r, t in zip(records, ticks, strict=True)
    ]
    ids = [t.message_id for t in ticks]
    assert len(set(ids)) == 9_999
    again = [t for s in second.sent if isinstance(s.message, TradeBatch) for t in s.message.ticks()]
    assert ids == [t.message_id for t in again]
    # Batches of at most flush_every trades, and the stream's dedup key is the batch id.
    assert max(len(b.trades) for b in batches if isinstance(b, TradeBatch)) == 500
    assert [s.message_id for s in first.sent] == [str(b.message_id) for b in batches]


async def test_replay_publishes_per_tick_trades_when_asked() -> None:
    records = list(read_tardis_trades(data_file(TARDIS_TRADES)))[:30]
    publish = RecordingPublisher()
    replayer = Replayer(publish, records, 0, None, "test", tick_subjects=TickSubjects(["*"]))
    await replayer.run()
    ticks = [s for s in publish.sent if s.subject == "md.v1.trade.BINANCE-FUTURES.BTCUSDT"]
    assert [s.message.trade_id for s in ticks if isinstance(s.message, TradeTick)] == [
        r.trade_id for r in records
    ]
    assert {(s.stream, s.message_id) for s in ticks} == {(MARKET_DATA, None)}  # core NATS


async def test_replay_with_speed_keeps_the_recorded_pace_scaled() -> None:
    # 101 bars one second apart at 1000x: 100 ms from the first publish to the last.
    records = bars(101, spec="1s")
    publish = RecordingPublisher()
    replayer = Replayer(publish, records, 1000, None, source="test")
    started = time.monotonic()
    await asyncio.wait_for(replayer.run(), timeout=5)
    elapsed = time.monotonic() - started

    assert len(publish.sent) == 101
    assert elapsed >= 0.09
    offsets = [s.at - publish.sent[0].at for s in publish.sent]
    # Record i is due i ms after the first; never early (small slack for clock granularity).
    assert all(offset >= i / 1000 - 0.002 for i, offset in enumerate(offsets))


async def test_replay_at_speed_zero_does_not_wait_for_the_recorded_gaps() -> None:
    # 20 bars a day apart would take 19 days in real time.
    records = bars(20, spec="1d")
    started = time.monotonic()
    publish = await asyncio.wait_for(replay(records, speed=0), timeout=5)

    assert len(publish.sent) == 20
    assert time.monotonic() - started < 1
