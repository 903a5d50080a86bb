"""detect_format knows every vendor file in shared/data and the generic schema, and refuses
anything else saying what it found."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from foxtrot.common.market_files.formats import FORMATS, detect_format, read_records
from foxtrot.core.identifiers import InstrumentId

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"

REAL_FILES = {
    "bars/intraday/ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv": "bars_csv",
    "bars/intraday/fxcm_GBPUSD_1m_bid_2012.csv": "bars_csv",
    "bars/intraday/fxcm_GBPUSD_1m_ask_2012.csv": "bars_csv",
    "bars/intraday/cme_6EH4_1m_2024-01.csv.gz": "bars_csv",
    "bars/daily/yahoo_NVDA_1d_1999-2014.csv": "bars_csv",
    "trades/tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv": "tardis_trades",
    "trades/binance_spot_BTCUSDT_trades_2021-01-08.parquet": "binance_trades_parquet",
    "quotes/histdata_EURUSD_ticks_2020-01.csv": "histdata_quotes",
    "quotes/truefx_USDJPY_ticks_2013-01.csv": "truefx_quotes",
    "quotes/binance_spot_BTCUSDT_quotes_2021-01-08.parquet": "binance_quotes_parquet",
    "orderbook/bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl": "bybit_book_jsonl",
    "orderbook/binance_futures_BTCUSDT_depth_snap_2022-11-01.csv": "binance_depth_csv",
    "orderbook/binance_futures_BTCUSDT_depth_update_2022-11-01.csv": "binance_depth_csv",
}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(("name", "kind"), REAL_FILES.items(), ids=list(REAL_FILES))
def test_every_shared_data_file_is_recognised(name: str, kind: str) -> None:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    assert detect_format(path) == kind


def test_every_data_file_in_shared_data_is_listed_here() -> None:
    if not DATA.exists():
        pytest.skip(f"no shared data at {DATA}")
    found = {str(path.relative_to(DATA)) for path in DATA.rglob("*") if path.is_file()} - {
        "SOURCES.md"
    }
    assert found == set(REAL_FILES)


def test_every_format_has_a_real_or_generic_file() -> None:
    assert set(FORMATS) == set(REAL_FILES.values()) | {"generic_csv"}


@pytest.mark.parametrize(
    "header",
    [
        "ts_event,instrument_id,price,size,aggressor_side",
        "ts_event,instrument_id,price,size,aggressor_side,trade_id",
        "instrument_id,ts_event,bid_price,ask_price,bid_size,ask_size",
        "ts_event,instrument_id,spec,open,high,low,close,volume",
        "ts_event,instrument_id,sequence,action,side,price,size,previous_sequence",
    ],
)
def test_generic_headers_are_recognised_before_the_bar_rule(tmp_path: Path, header: str) -> None:
    assert detect_format(write(tmp_path / "g.csv", header + "\n")) == "generic_csv"


def test_gzipped_generic_file_is_recognised_and_read(tmp_path: Path) -> None:
    path = tmp_path / "q.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(
            "ts_event,instrument_id,bid_price,ask_price,bid_size,ask_size\n5,A.B,1,2,0,0\n"
        )
    assert detect_format(path) == "generic_csv"
    (quote,) = read_records(path, "generic_csv", InstrumentId("X", "Y"), "1m")
    assert str(quote.instrument_id) == "A.B"


def test_bybit_book_is_recognised_by_content_whatever_the_extension(tmp_path: Path) -> None:
    line = '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"b":[],"a":[],"u":1}}'
    assert detect_format(write(tmp_path / "2024-12-01_BTCUSDT_ob500.data", line)) == (
        "bybit_book_jsonl"
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("time,bid,ask,mid\n", "'time,bid,ask,mid'"),
        ('{"topic":"publicTrade.BTCUSDT","data":[]}\n', "publicTrade"),
        ("20200101 170000065;1.1;1.2;0\n", "20200101 170000065;1.1;1.2;0"),
        ("", "''"),
    ],
    ids=["csv", "other-json", "semicolons", "empty"],
)
def test_unknown_text_is_refused_quoting_its_first_line(
    tmp_path: Path, text: str, shown: str
) -> None:
    path = write(tmp_path / "mystery.csv", text)
    with pytest.raises(ValueError, match="cannot tell the format") as caught:
        detect_format(path)
    assert str(path) in str(caught.value)
    assert shown in str(caught.value)


def test_parquet_of_unknown_columns_is_refused_listing_them(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"when": [1], "px": [1.0]}), path)
    with pytest.raises(ValueError, match=r"Parquet columns \['px', 'when'\]"):
        detect_format(path)


def test_binary_file_is_refused_as_not_text(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(ValueError, match="not text"):
        detect_format(path)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "absent.csv")


def test_reading_an_unknown_format_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format must be one of bars_csv, "):
        read_records(tmp_path / "x", "ninjatrader", InstrumentId("X", "Y"), "1m")  # type: ignore[arg-type]
