"""The file readers and the synthetic feed: real vendor files in, exact domain records out."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.common.market_files.formats import (
    bar_interval_ns,
    detect_format,
    read_bars_csv,
    read_tardis_trades,
)
from foxtrot.core.data import Bar
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.synthetic import synthetic_bars

# The repo is <root>/main and the shared data sits beside it in <root>/shared.
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FTX_BARS = DATA / "bars" / "intraday" / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
CME_BARS = DATA / "bars" / "intraday" / "cme_6EH4_1m_2024-01.csv.gz"
FXCM_BARS = DATA / "bars" / "intraday" / "fxcm_GBPUSD_1m_bid_2012.csv"
YAHOO_BARS = DATA / "bars" / "daily" / "yahoo_NVDA_1d_1999-2014.csv"
TARDIS_TRADES = DATA / "trades" / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"

BTC_PERP = InstrumentId("BTC-PERP", "FTX")
MINUTE_NS = 60_000_000_000
DAY_NS = 86_400_000_000_000
CENT = Decimal("0.01")


def data_file(path: Path) -> Path:
    """The shared data file, or skip the test when this checkout has no shared data."""
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    return path


def utc_ns(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Nanoseconds since the epoch of a UTC wall-clock time."""
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def strictly_increasing(values: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


# --- bars_csv -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ftx_bars() -> list[Bar]:
    return list(read_bars_csv(data_file(FTX_BARS), BTC_PERP, "1m"))


def test_ftx_file_reads_every_minute_bar(ftx_bars: list[Bar]) -> None:
    assert len(ftx_bars) == 45_031
    assert {(bar.instrument_id, bar.spec) for bar in ftx_bars} == {(BTC_PERP, "1m")}


def test_ftx_bar_is_stamped_at_its_close_one_interval_after_its_start(
    ftx_bars: list[Bar],
) -> None:
    # The first row starts at 2021-12-31 23:01:00 (naive, so UTC); the bar closes a minute on.
    first = ftx_bars[0]
    assert first.ts_event == utc_ns(2021, 12, 31, 23, 2) == 1_640_991_720_000_000_000
    assert first.ts_init == first.ts_event
    assert ftx_bars[-1].ts_event == utc_ns(2022, 2, 1, 5, 32)


def test_ftx_prices_are_the_exact_decimals_of_the_text(ftx_bars: list[Bar]) -> None:
    # Row 1: 2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295
    first = ftx_bars[0]
    assert [str(v) for v in (first.open, first.high, first.low, first.close)] == [
        "46319.0",
        "46385.0",
        "46319.0",
        "46377.0",
    ]
    assert first.volume == Decimal("2300413.7295")
    assert all(isinstance(v, Decimal) for v in (first.open, first.high, first.low, first.close))


def test_ftx_bar_times_strictly_increase_one_minute_apart(ftx_bars: list[Bar]) -> None:
    times = [bar.ts_event for bar in ftx_bars]
    assert strictly_increasing(times)
    # The file is documented as gapless, so every step is exactly one interval.
    assert {b - a for a, b in itertools.pairwise(times)} == {MINUTE_NS}


def test_gzip_cme_file_with_timestamp_utc_column_is_read_transparently() -> None:
    path = data_file(CME_BARS)
    assert detect_format(path) == "bars_csv"
    bars = list(read_bars_csv(path, InstrumentId("6EH4", "XCME"), "1m"))
    assert len(bars) == 29_996
    first = bars[0]  # 2024-01-01 23:01:00,1.1076,1.10785,1.1076,1.1078,205
    assert first.ts_event == utc_ns(2024, 1, 1, 23, 2)
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("1.1076"),
        Decimal("1.10785"),
        Decimal("1.1076"),
        Decimal("1.1078"),
        Decimal("205"),
    )
    assert strictly_increasing([bar.ts_event for bar in bars])


def test_fxcm_file_with_utc_offsets_and_no_volume_column_gives_zero_volume() -> None:
    bars = list(read_bars_csv(data_file(FXCM_BARS), InstrumentId("GBP/USD", "FXCM"), "1m"))
    assert len(bars) == 30_117
    first = bars[0]  # 2012-02-01 00:00:00+00:00,1.57597,1.57606,1.57576,1.57576
    assert first.ts_event == utc_ns(2012, 2, 1, 0, 1)
    assert str(first.open) == "1.57597"
    assert {bar.volume for bar in bars} == {Decimal(0)}
    assert strictly_increasing([bar.ts_event for bar in bars])


def test_non_utc_offset_is_converted_to_utc(tmp_path: Path) -> None:
    path = write(
        tmp_path / "offset.csv",
        "timestamp,open,high,low,close\n"
        "2012-02-01 02:00:00+02:00,1.5,1.6,1.4,1.55\n"
        "2012-01-31 19:00:00-05:00,1.5,1.6,1.4,1.55\n",
    )
    bars = list(read_bars_csv(path, InstrumentId("GBP/USD", "FXCM"), "1m"))
    assert [bar.ts_event for bar in bars] == [utc_ns(2012, 2, 1, 0, 1)] * 2


def test_yahoo_daily_file_uses_the_date_column_and_closes_a_day_later() -> None:
    bars = list(read_bars_csv(data_file(YAHOO_BARS), InstrumentId("NVDA", "XNAS"), "1d"))
    assert len(bars) == 4_012
    first = bars[0]  # 1999-01-22,1.750000,1.953125,1.552083,1.640625,1.518424,67867200
    assert first.ts_event == utc_ns(1999, 1, 23) == utc_ns(1999, 1, 22) + DAY_NS
    # Close is the Close column, not Adj Close.
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("1.750000"),
        Decimal("1.953125"),
        Decimal("1.552083"),
        Decimal("1.640625"),
        Decimal("67867200"),
    )
    assert bars[-1].ts_event == utc_ns(2015, 1, 1)
    assert strictly_increasing([bar.ts_event for bar in bars])


def test_header_case_and_surrounding_spaces_do_not_matter(tmp_path: Path) -> None:
    path = write(
        tmp_path / "upper.csv",
        "TimeStamp , OPEN,High,low ,Close,VOLUME\n2024-01-01 00:00:00,10,12,9,11,3.5\n",
    )
    (bar,) = read_bars_csv(path, BTC_PERP, "1h")
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        Decimal(10),
        Decimal(12),
        Decimal(9),
        Decimal(11),
        Decimal("3.5"),
    )
    assert bar.ts_event == utc_ns(2024, 1, 1, 1)


def test_bar_file_without_a_timestamp_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "nostamp.csv", "time,open,high,low,close\nx,1,1,1,1\n")
    with pytest.raises(ValueError, match="no timestamp/date column"):
        list(read_bars_csv(path, BTC_PERP, "1m"))


def test_malformed_bar_row_raises_value_error_naming_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        "timestamp,open,high,low,close,volume\n"
        "2024-01-01 00:00:00,1,2,0.5,1.5,10\n"
        "2024-01-01 00:01:00,1,two,0.5,1.5,10\n",
    )
    bars = read_bars_csv(path, BTC_PERP, "1m")
    assert next(bars).close == Decimal("1.5")
    with pytest.raises(ValueError, match=f"^{path}:3: "):
        next(bars)


def test_bar_row_with_unparseable_time_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "badtime.csv", "timestamp,open,high,low,close\nyesterday,1,1,1,1\n")
    with pytest.raises(ValueError, match=f"^{path}:2: "):
        list(read_bars_csv(path, BTC_PERP, "1m"))


def test_truncated_bar_row_raises_value_error_naming_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "short.csv",
        "timestamp,open,high,low,close,volume\n2024-01-01 00:00:00,1,2\n",
    )
    with pytest.raises(ValueError, match=f"^{path}:2: "):
        list(read_bars_csv(path, BTC_PERP, "1m"))


# --- tardis_trades --------------------------------------------------------------------------


def test_tardis_file_reads_every_trade_with_nanosecond_times() -> None:
    trades = list(read_tardis_trades(data_file(TARDIS_TRADES)))
    assert len(trades) == 9_999
    first = trades[0]  # binance-futures,BTCUSDT,1582329602111000,...,42377944,buy,9682,0.132
    assert first.ts_event == first.ts_init == 1_582_329_602_111_000 * 1_000
    assert first.ts_event == utc_ns(2020, 2, 22, 0, 0, 2) + 111_000_000
    assert (first.price, first.size) == (Decimal("9682"), Decimal("0.132"))
    assert first.trade_id == "42377944"
    assert trades[-1].trade_id == "42387942"
    times = [trade.ts_event for trade in trades]
    assert all(a <= b for a, b in itertools.pairwise(times))


def test_tardis_instrument_is_symbol_dot_upper_cased_exchange() -> None:
    trades = list(read_tardis_trades(data_file(TARDIS_TRADES)))
    assert {str(trade.instrument_id) for trade in trades} == {"BTCUSDT.BINANCE-FUTURES"}


def test_tardis_venue_can_be_overridden() -> None:
    trades = read_tardis_trades(data_file(TARDIS_TRADES), venue="BINANCE")
    assert next(trades).instrument_id == InstrumentId("BTCUSDT", "BINANCE")


def test_tardis_side_is_mapped_to_the_aggressor() -> None:
    trades = list(read_tardis_trades(data_file(TARDIS_TRADES)))
    assert trades[0].aggressor_side is AggressorSide.BUYER  # side "buy"
    assert Counter(trade.aggressor_side for trade in trades) == {
        AggressorSide.BUYER: 5_267,
        AggressorSide.SELLER: 4_732,
    }
    assert len({trade.trade_id for trade in trades}) == 9_999


def test_tardis_unknown_side_means_no_aggressor(tmp_path: Path) -> None:
    path = write(
        tmp_path / "trades.csv",
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bitmex,XBTUSD,1000000,1000100,a-1,unknown,100.5,2\n"
        "bitmex,XBTUSD,1000001,1000101,a-2,sell,100.5,2\n",
    )
    sides = [trade.aggressor_side for trade in read_tardis_trades(path)]
    assert sides == [AggressorSide.NO_AGGRESSOR, AggressorSide.SELLER]


def test_malformed_tardis_row_raises_value_error_naming_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "trades.csv",
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bitmex,XBTUSD,1000000,1000100,a-1,buy,100.5,2\n"
        "bitmex,XBTUSD,1000001.5,1000101,a-2,buy,100.5,2\n",
    )
    with pytest.raises(ValueError, match=f"^{path}:3: "):
        list(read_tardis_trades(path))


def test_tardis_symbol_that_is_no_subject_token_raises_value_error_with_line(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "trades.csv",
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bitmex,XBT USD,1000000,1000100,a-1,buy,100.5,2\n",
    )
    with pytest.raises(ValueError, match=f"^{path}:2: .*symbol"):
        list(read_tardis_trades(path))


def test_truncated_tardis_row_raises_value_error_naming_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "trades.csv",
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "binance-futures,BTCUSDT,1582329602111000,1582329602418379,42377944,buy\n",
    )
    with pytest.raises(ValueError, match=f"^{path}:2: "):
        list(read_tardis_trades(path))


# --- detect_format --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (FTX_BARS, "bars_csv"),
        (CME_BARS, "bars_csv"),
        (FXCM_BARS, "bars_csv"),
        (YAHOO_BARS, "bars_csv"),
        (TARDIS_TRADES, "tardis_trades"),
    ],
    ids=["ftx", "cme-gzip", "fxcm", "yahoo", "tardis"],
)
def test_format_is_detected_from_the_header_of_real_files(path: Path, kind: str) -> None:
    assert detect_format(data_file(path)) == kind


def test_unknown_header_is_refused_naming_file_and_header(tmp_path: Path) -> None:
    path = write(tmp_path / "quotes.csv", "time,bid,ask,mid\n2013-01-01 22:00:00,86.6,86.7,86.65\n")
    with pytest.raises(ValueError, match="cannot tell the format") as caught:
        detect_format(path)
    assert str(path) in str(caught.value)
    assert "'time,bid,ask,mid'" in str(caught.value)


# --- bar_interval_ns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "nanos"),
    [
        ("1s", 1_000_000_000),
        ("1m", 60_000_000_000),
        ("1h", 3_600_000_000_000),
        ("1d", 86_400_000_000_000),
        ("15m", 900_000_000_000),
    ],
)
def test_time_bar_spec_has_its_length_in_nanoseconds(spec: str, nanos: int) -> None:
    assert bar_interval_ns(spec) == nanos


@pytest.mark.parametrize("spec", ["100t", "5v", "m", "1.5m", "-1m", "1M", "1 m", "1w"])
def test_spec_that_is_no_time_interval_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=f"was {spec!r}"):
        bar_interval_ns(spec)


def test_empty_spec_is_refused_with_value_error() -> None:
    with pytest.raises(ValueError, match="bar spec"):
        bar_interval_ns("")


def test_zero_length_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="bar spec"):
        bar_interval_ns("0m")


# --- synthetic_bars -------------------------------------------------------------------------

START_NS = utc_ns(2024, 1, 1)


def synthetic(seed: int, count: int = 500, spec: str = "1m") -> list[Bar]:
    return list(synthetic_bars(BTC_PERP, spec, seed, count, Decimal("30000"), START_NS))


def test_same_seed_gives_the_same_bars() -> None:
    assert synthetic(seed=7) == synthetic(seed=7)


def test_different_seed_gives_different_bars() -> None:
    first, second = synthetic(seed=7), synthetic(seed=8)
    assert [bar.close for bar in first] != [bar.close for bar in second]


def test_synthetic_bars_are_ohlc_consistent_and_positive() -> None:
    bars = synthetic(seed=42, count=5_000)
    assert len(bars) == 5_000
    inconsistent = [
        bar
        for bar in bars
        if not (bar.low <= bar.open <= bar.high and bar.low <= bar.close <= bar.high)
    ]
    assert inconsistent == []
    assert min(bar.low for bar in bars) > 0
    assert min(bar.volume for bar in bars) > 0


def test_synthetic_prices_are_whole_cents() -> None:
    for bar in synthetic(seed=3):
        for price in (bar.open, bar.high, bar.low, bar.close):
            assert price == price.quantize(CENT)
            assert price.as_tuple().exponent == -2


def test_synthetic_bars_are_one_interval_apart_starting_one_interval_in() -> None:
    bars = synthetic(seed=1, count=100, spec="5s")
    assert [bar.ts_event for bar in bars] == [
        START_NS + (i + 1) * 5_000_000_000 for i in range(100)
    ]
    assert all(bar.ts_init == bar.ts_event for bar in bars)
    assert {(bar.instrument_id, bar.spec) for bar in bars} == {(BTC_PERP, "5s")}


def test_synthetic_walk_opens_at_the_start_price() -> None:
    assert synthetic(seed=11)[0].open == Decimal("30000.00")


def test_synthetic_bar_opens_where_the_previous_one_closed() -> None:
    bars = synthetic(seed=5)
    assert all(b.open == a.close for a, b in itertools.pairwise(bars))
