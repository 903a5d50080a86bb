"""Foxtrot's generic CSV schema: real files round-trip through it, the documented examples
read, and every rule it states is enforced."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.common.market_files.formats import MarketRecord, detect_format, read_records
from foxtrot.common.market_files.generic import read_generic_csv, write_generic_csv
from foxtrot.core.book import BookAction, BookSide, OrderBook, OrderBookDelta, OrderBookDeltas
from foxtrot.core.data import Bar, QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "market-data-files.md"
BTC = InstrumentId("BTCUSDT", "BINANCE")


def data_file(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def round_trip(tmp_path: Path, records: list[MarketRecord]) -> list[MarketRecord]:
    path = tmp_path / "generic.csv"
    assert write_generic_csv(path, records) == len(records)
    assert detect_format(path) == "generic_csv"
    return list(read_generic_csv(path))


# --- round trips of the real files ------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "kind"),
    [
        (("trades", "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"), "tardis_trades"),
        (("trades", "binance_spot_BTCUSDT_trades_2021-01-08.parquet"), "binance_trades_parquet"),
        (("quotes", "binance_spot_BTCUSDT_quotes_2021-01-08.parquet"), "binance_quotes_parquet"),
        (("quotes", "histdata_EURUSD_ticks_2020-01.csv"), "histdata_quotes"),
        (("bars", "daily", "yahoo_NVDA_1d_1999-2014.csv"), "bars_csv"),
        (("orderbook", "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"), "bybit_book_jsonl"),
        (("orderbook", "binance_futures_BTCUSDT_depth_update_2022-11-01.csv"), "binance_depth_csv"),
    ],
    ids=lambda value: value if isinstance(value, str) else value[-1].split("_")[0],
)
def test_real_file_round_trips_through_the_generic_schema_unchanged(
    tmp_path: Path, parts: tuple[str, ...], kind: str
) -> None:
    records = list(read_records(data_file(*parts), kind, BTC, "1d"))  # type: ignore[arg-type]
    # The schema has no ts_init (a replay stamps records when it publishes them).
    expected = [dataclasses.replace(record, ts_init=record.ts_event) for record in records]
    assert round_trip(tmp_path, records) == expected


def test_decimals_are_written_plainly_and_keep_their_digits(tmp_path: Path) -> None:
    trade = TradeTick(
        BTC, Decimal("9682.10"), Decimal("1E-7"), AggressorSide.BUYER, TradeId("t"), 5, 5
    )
    path = tmp_path / "t.csv"
    write_generic_csv(path, [trade])
    assert path.read_text().splitlines()[1] == "5,BTCUSDT.BINANCE,9682.10,0.0000001,BUYER,t"
    (back,) = read_generic_csv(path)
    assert back == trade


def test_one_file_holds_one_kind_of_record(tmp_path: Path) -> None:
    trade = TradeTick(BTC, Decimal(1), Decimal(1), AggressorSide.BUYER, TradeId("t"), 5, 5)
    quote = QuoteTick(BTC, Decimal(1), Decimal(2), Decimal(0), Decimal(0), 5, 5)
    with pytest.raises(ValueError, match="one kind of record: trades, not quotes"):
        write_generic_csv(tmp_path / "mixed.csv", [trade, quote])


def test_book_round_trip_keeps_snapshots_links_and_the_book(tmp_path: Path) -> None:
    clear = OrderBookDelta(BookAction.CLEAR, None, Decimal(0), Decimal(0))
    bid = OrderBookDelta(BookAction.ADD, BookSide.BID, Decimal("99.5"), Decimal(3))
    ask = OrderBookDelta(BookAction.ADD, BookSide.ASK, Decimal("100.5"), Decimal(1))
    delete = OrderBookDelta(BookAction.DELETE, BookSide.ASK, Decimal("100.5"), Decimal(0))
    records: list[MarketRecord] = [
        OrderBookDeltas(BTC, (clear, bid, ask), 10, 1, 1, is_snapshot=True),
        OrderBookDeltas(BTC, (delete,), 15, 2, 2, previous_sequence=10),
    ]
    assert round_trip(tmp_path, records) == records


# --- the documented schema --------------------------------------------------------------


def doc_examples() -> list[str]:
    return re.findall(r"```csv\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_every_documented_example_reads(tmp_path: Path) -> None:
    examples = doc_examples()
    assert len(examples) == 4
    kinds = []
    for index, text in enumerate(examples):
        path = write(tmp_path / f"example{index}.csv", text)
        assert detect_format(path) == "generic_csv"
        records = list(read_generic_csv(path))
        assert records
        kinds.append({type(record) for record in records})
    assert kinds == [{TradeTick}, {QuoteTick}, {Bar}, {OrderBookDeltas}]


def test_documented_trade_example_reads_iso_and_ns_times_and_fills_a_missing_id(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "trades.csv", doc_examples()[0])
    first, second = read_generic_csv(path)
    assert isinstance(first, TradeTick)
    assert isinstance(second, TradeTick)
    assert first == TradeTick(
        BTC,
        Decimal("9682"),
        Decimal("0.132"),
        AggressorSide.BUYER,
        TradeId("42377944"),
        1_582_329_602_111_000_000,
        1_582_329_602_111_000_000,
    )
    assert second.ts_event == first.ts_event
    assert second.trade_id == "1582329602111000000-1"
    assert second.aggressor_side is AggressorSide.SELLER


def test_documented_book_example_builds_the_book(tmp_path: Path) -> None:
    path = write(tmp_path / "book.csv", doc_examples()[3])
    snapshot, delta = read_generic_csv(path)
    assert isinstance(snapshot, OrderBookDeltas)
    assert isinstance(delta, OrderBookDeltas)
    assert (snapshot.is_snapshot, delta.is_snapshot) == (True, False)
    book = OrderBook(InstrumentId("XRPUSDT", "BYBIT"))
    book.apply(snapshot)
    book.apply(delta)
    assert [(x.price, x.size) for x in book.bids()] == [(Decimal("1.9531"), Decimal(6198))]
    assert book.asks() == []


def test_columns_may_come_in_any_order_and_trade_ids_count_per_instant(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.csv",
        "aggressor_side,size,price,instrument_id,ts_event\n"
        "BUYER,1,10,BTCUSDT.BINANCE,100\n"
        "SELLER,2,11,BTCUSDT.BINANCE,100\n"
        "buyer,3,12,BTCUSDT.BINANCE,101\n",
    )
    trades = list(read_generic_csv(path))
    assert [t.trade_id for t in trades] == ["100-0", "100-1", "101-0"]  # type: ignore[union-attr]
    assert [t.price for t in trades] == [Decimal(10), Decimal(11), Decimal(12)]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ts_event,instrument_id,price,size,aggressor_side\n1,BTCUSDT,1,1,BUYER\n", "SYMBOL.VENUE"),
        ("ts_event,instrument_id,price,size,aggressor_side\n1,B.X,1,1,TAKER\n", "aggressor_side"),
        (
            "ts_event,instrument_id,price,size,aggressor_side\n1,B.X,0,1,BUYER\n",
            "price must be above 0",
        ),
        ("ts_event,instrument_id,price,size,aggressor_side\nnow,B.X,1,1,BUYER\n", "ISO-8601"),
        (
            "ts_event,instrument_id,bid_price,ask_price,bid_size,ask_size\n1,B.X,1,2,-1,0\n",
            "bid_size must be 0 or more",
        ),
        (
            "ts_event,instrument_id,spec,open,high,low,close,volume\n1,B.X,1m,10,9,8,9,1\n",
            "need low <= open, close <= high",
        ),
        (
            "ts_event,instrument_id,spec,open,high,low,close,volume\n1,B.X,1w,10,11,9,10,1\n",
            "1w",
        ),
        (
            "ts_event,instrument_id,sequence,action,side,price,size\n1,B.X,1,CLEAR,BID,,\n",
            "CLEAR row has side, price and size empty",
        ),
        (
            "ts_event,instrument_id,sequence,action,side,price,size\n1,B.X,1,ADD,BUY,1,1\n",
            "side must be BID or ASK",
        ),
        (
            "ts_event,instrument_id,sequence,action,side,price,size\n1,B.X,1,ADD,BID,1,0\n",
            "size above 0",
        ),
        (
            "ts_event,instrument_id,sequence,action,side,price,size\n1,B.X,1,MOVE,BID,1,1\n",
            "action must be",
        ),
    ],
    ids=[
        "no-venue",
        "bad-side",
        "zero-price",
        "bad-time",
        "negative-size",
        "ohlc",
        "bad-spec",
        "clear-with-side",
        "order-side",
        "add-zero",
        "bad-action",
    ],
)
def test_row_that_breaks_a_rule_names_file_line_and_rule(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}:2: .*{re.escape(reason)}"):
        list(read_generic_csv(path))


def test_header_of_no_kind_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "ts_event,instrument_id,price\n1,B.X,1\n")
    with pytest.raises(ValueError, match="names no generic record kind"):
        list(read_generic_csv(path))
