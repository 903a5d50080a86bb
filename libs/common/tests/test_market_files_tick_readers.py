"""Trade and quote readers on the real vendor files, and the number and time rules they share."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from foxtrot.common.market_files.formats import read_bars_csv
from foxtrot.common.market_files.parsing import (
    decimal_from_float,
    parse_iso_ns,
    parse_time_ns,
)
from foxtrot.common.market_files.quotes import (
    read_binance_quotes_parquet,
    read_histdata_quotes,
    read_truefx_quotes,
)
from foxtrot.common.market_files.trades import read_binance_trades_parquet
from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
BINANCE_TRADES = DATA / "trades" / "binance_spot_BTCUSDT_trades_2021-01-08.parquet"
BINANCE_QUOTES = DATA / "quotes" / "binance_spot_BTCUSDT_quotes_2021-01-08.parquet"
HISTDATA = DATA / "quotes" / "histdata_EURUSD_ticks_2020-01.csv"
TRUEFX = DATA / "quotes" / "truefx_USDJPY_ticks_2013-01.csv"
FXCM_ASK = DATA / "bars" / "intraday" / "fxcm_GBPUSD_1m_ask_2012.csv"

BTC = InstrumentId("BTC/USDT", "BINANCE")
EURUSD = InstrumentId("EUR/USD", "HISTDATA")
USDJPY = InstrumentId("USD/JPY", "TRUEFX")
MS = 1_000_000


def data_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    return path


def utc_ns(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int = 0
) -> int:
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + micro * 1_000


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- numbers and times ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.00031099999999999997, "0.000311"),
        (0.014596000000000001, "0.014596"),
        (3.2909330000000003, "3.290933"),
        (39432.48, "39432.48"),
        (2.0, "2"),
        (100.0, "100"),
        (1e20, "100000000000000000000"),
        (1e-8, "1E-8"),
    ],
)
def test_float_is_rounded_to_15_significant_digits_without_trailing_zeros(
    value: float, text: str
) -> None:
    result = decimal_from_float(value, "size")
    assert str(result) == text
    assert abs(float(result) - value) <= abs(value) * 1e-15  # only the noise is gone


@pytest.mark.parametrize("value", [float("nan"), float("inf"), None, True, "x"])
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="size must be"):
        decimal_from_float(value, "size")


def test_text_and_integer_cells_keep_their_digits() -> None:
    assert str(decimal_from_float("0.10", "price")) == "0.10"
    assert decimal_from_float(7, "price") == Decimal(7)


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("1610064000278000000", 1_610_064_000_278_000_000),
        ("2021-01-08T00:00:00.278Z", 1_610_064_000_278_000_000),
        ("2021-01-08 00:00:00.278", 1_610_064_000_278_000_000),
        ("2021-01-08T01:00:00.278+01:00", 1_610_064_000_278_000_000),
        ("2021-01-08T00:00:00.278000001Z", 1_610_064_000_278_000_001),
        ("2021-01-08", 1_610_064_000_000_000_000),
    ],
)
def test_times_are_integer_ns_or_iso_8601_in_utc(text: str, nanos: int) -> None:
    assert parse_time_ns(text) == nanos


def test_iso_parser_does_not_take_bare_digits_for_nanoseconds() -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_iso_ns("1610064000278")


# --- Binance spot trades (Parquet) ------------------------------------------------------


@pytest.fixture(scope="module")
def binance_trades() -> list[TradeTick]:
    return list(read_binance_trades_parquet(data_file(BINANCE_TRADES), BTC))


def test_binance_trades_file_reads_every_row_in_order(binance_trades: list[TradeTick]) -> None:
    assert len(binance_trades) == 2_001
    assert [t.trade_id for t in (binance_trades[0], binance_trades[-1])] == [
        "553287559",
        "553289559",
    ]
    assert binance_trades[0].ts_event == utc_ns(2021, 1, 8, 0, 0, 0, micro=278_000)
    assert binance_trades[-1].ts_event == utc_ns(2021, 1, 8, 0, 0, 46, micro=355_000)
    assert all(a.ts_event <= b.ts_event for a, b in itertools.pairwise(binance_trades))
    assert {t.instrument_id for t in binance_trades} == {BTC}


def test_binance_buyer_maker_true_means_the_seller_was_the_aggressor(
    binance_trades: list[TradeTick],
) -> None:
    first, second = binance_trades[0], binance_trades[1]  # buyer_maker "True", "False"
    assert (first.aggressor_side, second.aggressor_side) == (
        AggressorSide.SELLER,
        AggressorSide.BUYER,
    )
    assert Counter(t.aggressor_side for t in binance_trades) == {
        AggressorSide.BUYER: 1_087,
        AggressorSide.SELLER: 914,
    }


def test_binance_quantity_float_noise_is_normalised(binance_trades: list[TradeTick]) -> None:
    third = binance_trades[2]  # quantity 0.00031099999999999997 in the file
    assert str(third.size) == "0.000311"
    assert str(binance_trades[-1].size) == "0.014596"  # 0.014596000000000001
    assert (binance_trades[0].price, binance_trades[0].size) == (
        Decimal("39432.48"),
        Decimal("0.000263"),
    )
    # BTC trades in steps of 0.000001 and prices in cents: no noise survives.
    assert max(-t.size.as_tuple().exponent for t in binance_trades) == 6  # type: ignore[operator]
    assert max(-t.price.as_tuple().exponent for t in binance_trades) == 2  # type: ignore[operator]


def test_binance_trades_with_a_boolean_buyer_maker_column_read_too(tmp_path: Path) -> None:
    table = pa.table(
        {
            "timestamp": pa.array([1_000, 2_000], pa.timestamp("ms", tz="UTC")),
            "trade_id": [1, 2],
            "price": [10.5, 10.25],
            "quantity": [0.1, 0.2],
            "buyer_maker": [True, False],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    trades = list(read_binance_trades_parquet(tmp_path / "t.parquet", BTC))
    assert [(t.aggressor_side, t.ts_event) for t in trades] == [
        (AggressorSide.SELLER, 1_000 * MS),
        (AggressorSide.BUYER, 2_000 * MS),
    ]


def test_binance_trade_with_an_unknown_buyer_maker_names_the_row(tmp_path: Path) -> None:
    table = pa.table(
        {
            "timestamp": pa.array([1, 2], pa.timestamp("ms", tz="UTC")),
            "trade_id": [1, 2],
            "price": [10.5, 10.5],
            "quantity": [0.1, 0.1],
            "buyer_maker": ["True", "yes"],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"row 1: buyer_maker must be .*'yes'"):
        list(read_binance_trades_parquet(tmp_path / "t.parquet", BTC))


def test_parquet_file_without_a_needed_column_is_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"timestamp": [1], "price": [1.0]}), tmp_path / "t.parquet")
    with pytest.raises(ValueError, match="no column buyer_maker, quantity, trade_id"):
        list(read_binance_trades_parquet(tmp_path / "t.parquet", BTC))


# --- Binance spot quotes (Parquet) ------------------------------------------------------


def test_binance_quotes_file_maps_columns_by_name_not_order() -> None:
    quotes = list(read_binance_quotes_parquet(data_file(BINANCE_QUOTES), BTC))
    assert len(quotes) == 451
    # First row: ask_size 0.066851, ask 39433.62, bid_size 0.0031, bid 39432.99.
    assert quotes[0] == QuoteTick(
        BTC,
        Decimal("39432.99"),
        Decimal("39433.62"),
        Decimal("0.0031"),
        Decimal("0.066851"),
        utc_ns(2021, 1, 8, 0, 0, 1, micro=76_000),
        utc_ns(2021, 1, 8, 0, 0, 1, micro=76_000),
    )
    last = quotes[-1]
    assert (last.bid_price, last.ask_price, last.ask_size) == (
        Decimal("39490.97"),
        Decimal("39490.98"),
        Decimal("0.884984"),
    )
    assert last.ts_event == utc_ns(2021, 1, 8, 0, 0, 46, micro=674_000)
    assert all(q.bid_price < q.ask_price for q in quotes)  # documented: never crossed or locked
    assert str(quotes[-2].ask_size) == "3.290933"  # 3.2909330000000003 in the file


# --- HistData ASCII ticks ---------------------------------------------------------------


@pytest.fixture(scope="module")
def histdata() -> list[QuoteTick]:
    return list(read_histdata_quotes(data_file(HISTDATA), EURUSD))


def test_histdata_file_time_is_fixed_utc_minus_five(histdata: list[QuoteTick]) -> None:
    # 20200101 170000065 in the file is 17:00:00.065 EST, 22:00:00.065 UTC.
    assert histdata[0].ts_event == utc_ns(2020, 1, 1, 22, 0, 0) + 65 * MS
    # The last tick, 23:00:52.125 file time, is after midnight UTC.
    assert histdata[-1].ts_event == utc_ns(2020, 1, 2, 4, 0, 52) + 125 * MS


def test_histdata_july_tick_is_also_utc_minus_five_because_there_is_no_dst(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "ticks.csv", "20200701 120000000,1.1,1.2,0\n")
    (quote,) = read_histdata_quotes(path, EURUSD)
    assert quote.ts_event == utc_ns(2020, 7, 1, 17, 0, 0)


def test_histdata_reads_every_tick_with_prices_as_written_and_unknown_sizes(
    histdata: list[QuoteTick],
) -> None:
    assert len(histdata) == 9_500
    first = histdata[0]  # 20200101 170000065,1.121200,1.121720,0
    assert (str(first.bid_price), str(first.ask_price)) == ("1.121200", "1.121720")
    assert {(q.bid_size, q.ask_size) for q in histdata} == {(Decimal(0), Decimal(0))}
    assert all(a.ts_event < b.ts_event for a, b in itertools.pairwise(histdata))
    assert min(q.bid_price for q in histdata) == Decimal("1.12106")
    assert max(q.ask_price for q in histdata) == Decimal("1.12247")


def test_histdata_line_of_another_shape_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "ticks.csv", "20200101 170000065,1.1,1.2,0\n2020-01-01,1.1,1.2,0\n")
    with pytest.raises(ValueError, match=f"^{path}:2: expected 'YYYYMMDD HHMMSSmmm"):
        list(read_histdata_quotes(path, EURUSD))


# --- TrueFX -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def truefx() -> list[QuoteTick]:
    return list(read_truefx_quotes(data_file(TRUEFX), USDJPY))


def test_truefx_file_reads_every_quote_in_utc(truefx: list[QuoteTick]) -> None:
    assert len(truefx) == 1_000
    first = truefx[0]  # 2013-01-01 22:00:00.295000+00:00,86.655,86.728
    assert first.ts_event == utc_ns(2013, 1, 1, 22, 0, 0) + 295 * MS
    assert (first.bid_price, first.ask_price) == (Decimal("86.655"), Decimal("86.728"))
    assert truefx[-1].ts_event == utc_ns(2013, 1, 1, 22, 35, 13) + 494 * MS
    assert {(q.bid_size, q.ask_size) for q in truefx} == {(Decimal(0), Decimal(0))}
    assert all(a.ts_event <= b.ts_event for a, b in itertools.pairwise(truefx))


def test_truefx_locked_quote_at_data_row_942_is_kept(truefx: list[QuoteTick]) -> None:
    locked = [index + 1 for index, q in enumerate(truefx) if q.bid_price == q.ask_price]
    assert locked == [942]
    assert truefx[941].bid_price == truefx[941].ask_price == Decimal("86.836")


def test_truefx_row_with_a_bad_price_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", "timestamp,bid,ask\n2013-01-01 22:00:00+00:00,86.6,x\n")
    with pytest.raises(ValueError, match=f"^{path}:2: ask must be a decimal"):
        list(read_truefx_quotes(path, USDJPY))


# --- FXCM ask bars (the bid file is covered in test_market_data_files) -------------------


def test_fxcm_ask_file_reads_like_the_bid_file() -> None:
    bars = list(read_bars_csv(data_file(FXCM_ASK), InstrumentId("GBP/USD", "FXCM"), "1m"))
    assert len(bars) == 30_117
    first = bars[0]  # 2012-02-01 00:00:00+00:00,1.57608,1.57610,1.57585,1.57585
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("1.57608"),
        Decimal("1.57610"),
        Decimal("1.57585"),
        Decimal("1.57585"),
        Decimal(0),
    )
    assert first.ts_event == utc_ns(2012, 2, 1, 0, 1, 0)
    assert bars[-1].ts_event == utc_ns(2012, 3, 1, 0, 1, 0)
    assert bars[-1].close == Decimal("1.59216")
