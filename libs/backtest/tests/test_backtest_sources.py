"""The backtester's data: files merged in ts_init order and cut to the window."""

from __future__ import annotations

from pathlib import Path

import pytest

from foxtrot.backtest.sources import BacktestData
from foxtrot.backtest.spec import FileSource, InvalidBacktest
from foxtrot.core.book import OrderBookDeltas
from foxtrot.core.data import Bar

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FTX_BARS = SHARED_DATA / "bars" / "intraday" / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
BYBIT_BOOK = SHARED_DATA / "orderbook" / "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"
needs_shared_data = pytest.mark.skipif(not FTX_BARS.exists(), reason="no ../shared/data")

MINUTE = 60_000_000_000
T0 = 1_700_000_000_000_000_000


def _trades_csv(path: Path, instrument: str, times: list[int], price: str = "100.5") -> Path:
    lines = ["ts_event,instrument_id,price,size,aggressor_side"]
    lines += [f"{t},{instrument},{price},0.25,BUYER" for t in times]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_two_files_merge_in_ts_init_order_with_ties_in_source_order(tmp_path: Path) -> None:
    first = _trades_csv(tmp_path / "a.csv", "AAAUSD.X", [T0, T0 + 20, T0 + 30])
    second = _trades_csv(tmp_path / "b.csv", "BBBUSD.X", [T0 + 10, T0 + 20, T0 + 40])
    data = BacktestData([FileSource(path=str(first)), FileSource(path=str(second))])

    records = list(data.records())

    assert [(r.ts_init - T0, r.instrument_id.symbol) for r in records] == [
        (0, "AAAUSD"),
        (10, "BBBUSD"),
        (20, "AAAUSD"),
        (20, "BBBUSD"),
        (30, "AAAUSD"),
        (40, "BBBUSD"),
    ]


def test_window_keeps_records_from_start_up_to_but_not_including_end(tmp_path: Path) -> None:
    path = _trades_csv(tmp_path / "a.csv", "AAAUSD.X", [T0 + i * MINUTE for i in range(10)])
    data = BacktestData([FileSource(path=str(path))], start=T0 + 2 * MINUTE, end=T0 + 5 * MINUTE)

    assert [(r.ts_init - T0) // MINUTE for r in data.records()] == [2, 3, 4]


@needs_shared_data
def test_iso_window_on_the_ftx_bars_keeps_three_days_of_minutes() -> None:
    source = FileSource(path=str(FTX_BARS), instrument_id="BTC-PERP.FTX")
    data = BacktestData([source], start="2022-01-05", end="2022-01-08T00:00:00Z")

    records = list(data.records())

    assert len(records) == 3 * 24 * 60
    assert records[0].ts_init == 1_641_340_800_000_000_000  # 2022-01-05 00:00 UTC
    assert all(isinstance(r, Bar) and r.spec == "1m" for r in records)


@needs_shared_data
def test_book_window_opens_with_a_snapshot_of_the_book_before_it() -> None:
    source = FileSource(path=str(BYBIT_BOOK), instrument_id="XRPUSDT.BYBIT")
    everything = list(BacktestData([source]).records())
    start = everything[10].ts_init

    records = list(BacktestData([source], start=start).records())

    first = records[0]
    assert isinstance(first, OrderBookDeltas)
    assert first.is_snapshot
    assert first.ts_init == start
    before = everything[9]
    assert isinstance(before, OrderBookDeltas)
    assert first.sequence == before.sequence
    assert records[1:] == [r for r in everything if r.ts_init >= start]


def test_a_file_out_of_order_stops_the_run_naming_the_file(tmp_path: Path) -> None:
    path = _trades_csv(tmp_path / "a.csv", "AAAUSD.X", [T0 + 10, T0])

    with pytest.raises(InvalidBacktest, match=r"a\.csv: records must come in ts_init order"):
        list(BacktestData([FileSource(path=str(path))]).records())


def test_a_bars_file_without_instrument_id_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("timestamp,open,high,low,close,volume\n2022-01-01 00:00:00,1,2,1,2,5\n")

    with pytest.raises(InvalidBacktest, match="names no instrument: give its instrument_id"):
        BacktestData([FileSource(path=str(path))])


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ("hello,world\n1,2\n", "cannot tell the format")],
)
def test_unreadable_data_files_are_refused(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)

    with pytest.raises(InvalidBacktest, match=message):
        BacktestData([FileSource(path=str(path), instrument_id="A.B")])


def test_end_before_start_is_refused(tmp_path: Path) -> None:
    path = _trades_csv(tmp_path / "a.csv", "AAAUSD.X", [T0])

    with pytest.raises(InvalidBacktest, match="end must be after start"):
        BacktestData([FileSource(path=str(path))], start="2024-01-02", end="2024-01-01")
