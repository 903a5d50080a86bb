"""market_data's bar history: paged through until the cursor ends, merged with files into
one stream, and a clear error when it cannot be reached."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.backtest.history import (
    HistoryConnection,
    HistoryUnavailable,
    fetch_history,
    market_data_history,
)
from foxtrot.backtest.sources import BacktestData
from foxtrot.backtest.spec import BacktestSpec, FileSource, HistorySource, InvalidBacktest
from foxtrot.common.messages.v1 import BarsQuery, BarsReply, HistoricalBar
from foxtrot.core.identifiers import InstrumentId

MINUTE = 60_000_000_000
T0 = 1_700_000_000_000_000_000


def _trades_csv(path: Path, instrument: str, times: list[int], price: str = "100.5") -> Path:
    lines = ["ts_event,instrument_id,price,size,aggressor_side"]
    lines += [f"{t},{instrument},{price},0.25,BUYER" for t in times]
    path.write_text("\n".join(lines) + "\n")
    return path


def _stored_bars(count: int) -> list[HistoricalBar]:
    return [
        HistoricalBar(
            ts_open=T0 + i * MINUTE,
            ts_event=T0 + (i + 1) * MINUTE,
            open=Decimal(100 + i),
            high=Decimal(101 + i),
            low=Decimal(99 + i),
            close=Decimal("100.5") + i,
            volume=Decimal(2),
            vwap=None,
            trade_count=None,
        )
        for i in range(count)
    ]


class FakeMarketData:
    """Answers bar queries the way market_data's bar store pages them."""

    def __init__(self, bars: list[HistoricalBar]) -> None:
        self.bars = bars
        self.queries: list[BarsQuery] = []

    async def __call__(self, query: BarsQuery) -> BarsReply:
        self.queries.append(query)
        rows = [
            b
            for b in self.bars
            if (query.start_ns is None or b.ts_event >= query.start_ns)
            and (query.end_ns is None or b.ts_event < query.end_ns)
            and (query.after_ts is None or b.ts_event > query.after_ts)
        ]
        page = rows[: query.limit]
        more = len(rows) > query.limit
        return BarsReply(
            instrument_id=query.instrument_id,
            spec=query.spec,
            bars=tuple(page),
            next_after_ts=page[-1].ts_event if more else None,
        )


async def test_history_is_fetched_page_by_page_until_the_cursor_ends() -> None:
    market_data = FakeMarketData(_stored_bars(12))
    source = HistorySource(instrument_id="BTC-PERP.FTX", bar_spec="1m")

    bars = await fetch_history(source, market_data, start_ns=T0 + 2 * MINUTE, page_size=5)

    assert [b.ts_event for b in bars] == [T0 + i * MINUTE for i in range(2, 13)]
    assert all(b.ts_init == b.ts_event and b.instrument_id == InstrumentId.parse("BTC-PERP.FTX")
               for b in bars)  # fmt: skip
    assert [q.after_ts for q in market_data.queries] == [None, T0 + 6 * MINUTE, T0 + 11 * MINUTE]
    assert {q.start_ns for q in market_data.queries} == {T0 + 2 * MINUTE}


async def test_a_cursor_that_goes_back_is_an_error_not_an_endless_loop() -> None:
    async def stuck(query: BarsQuery) -> BarsReply:
        return BarsReply(
            instrument_id=query.instrument_id, spec=query.spec, bars=(), next_after_ts=T0
        )

    with pytest.raises(HistoryUnavailable, match="cursor went back"):
        await fetch_history(HistorySource(instrument_id="A.B"), stuck)


def test_history_and_files_merge_into_one_stream(tmp_path: Path) -> None:
    path = _trades_csv(tmp_path / "a.csv", "AAAUSD.X", [T0 + 90 * 1_000_000_000])
    spec = BacktestSpec(
        strategy="x",
        config={"strategy_id": "s"},
        data=[FileSource(path=str(path)), HistorySource(instrument_id="BTC-PERP.FTX")],
    )

    data = BacktestData.load(spec, ask_bars=FakeMarketData(_stored_bars(3)))

    assert [type(r).__name__ for r in data.records()] == ["Bar", "TradeTick", "Bar", "Bar"]


def test_an_empty_history_is_refused() -> None:
    spec = BacktestSpec(
        strategy="x", config={"strategy_id": "s"}, data=[HistorySource(instrument_id="A.B")]
    )

    with pytest.raises(InvalidBacktest, match=r"holds no 1m bars of A\.B"):
        BacktestData.load(spec, ask_bars=FakeMarketData([]))


async def test_unreachable_nats_is_a_clear_error() -> None:
    connection = HistoryConnection("nats://127.0.0.1:1", timeout_s=1.0)

    expected = r"cannot connect to NATS at 127\.0\.0\.1:1 as no user: .*Connect call failed"
    with pytest.raises(HistoryUnavailable, match=expected):
        async with market_data_history(connection):
            pass
