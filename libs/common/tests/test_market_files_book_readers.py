"""Order book readers on the real Bybit and Binance files, checked by building the book."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.common.market_files.books import read_binance_depth, read_bybit_book
from foxtrot.core.book import (
    BookAction,
    BookLevel,
    BookSequenceGap,
    BookSide,
    OrderBook,
    OrderBookDeltas,
)
from foxtrot.core.identifiers import InstrumentId

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "orderbook"
BYBIT = DATA / "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"
BINANCE_SNAP = DATA / "binance_futures_BTCUSDT_depth_snap_2022-11-01.csv"
BINANCE_UPDATE = DATA / "binance_futures_BTCUSDT_depth_update_2022-11-01.csv"
XRP = InstrumentId("XRPUSDT-LINEAR", "BYBIT")
BTC = InstrumentId("BTCUSDT-PERP", "BINANCE")
D = Decimal
MS = 1_000_000


def data_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- Bybit ob500 ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bybit() -> list[OrderBookDeltas]:
    return list(read_bybit_book(data_file(BYBIT), XRP))


def test_bybit_file_is_one_snapshot_then_49_deltas_numbered_one_by_one(
    bybit: list[OrderBookDeltas],
) -> None:
    assert [b.is_snapshot for b in bybit] == [True] + [False] * 49
    assert [b.sequence for b in bybit] == list(range(20_254_869, 20_254_919))
    assert {b.previous_sequence for b in bybit} == {None}
    assert {b.instrument_id for b in bybit} == {XRP}


def test_bybit_snapshot_clears_then_adds_500_levels_a_side(bybit: list[OrderBookDeltas]) -> None:
    snapshot = bybit[0]
    assert snapshot.deltas[0].action is BookAction.CLEAR
    assert Counter((d.action, d.side) for d in snapshot.deltas[1:]) == {
        (BookAction.ADD, BookSide.BID): 500,
        (BookAction.ADD, BookSide.ASK): 500,
    }
    first_bid = snapshot.deltas[1]
    assert (first_bid.side, first_bid.price, first_bid.size) == (BookSide.BID, D("1.9531"), D(6203))


def test_bybit_times_are_matching_engine_event_and_publish_init(
    bybit: list[OrderBookDeltas],
) -> None:
    # Snapshot: "ts":1733011200691, "cts":1733011200589; last delta ts ...5490, cts ...5488.
    assert (bybit[0].ts_event, bybit[0].ts_init) == (1_733_011_200_589 * MS, 1_733_011_200_691 * MS)
    assert (bybit[-1].ts_event, bybit[-1].ts_init) == (
        1_733_011_205_488 * MS,
        1_733_011_205_490 * MS,
    )


def test_bybit_size_zero_becomes_delete(bybit: list[OrderBookDeltas]) -> None:
    deltas = [d for batch in bybit[1:] for d in batch.deltas]
    assert len(deltas) == 2_966
    assert Counter(d.action for d in deltas) == {BookAction.UPDATE: 2_948, BookAction.DELETE: 18}
    assert all(d.size == 0 for d in deltas if d.action is BookAction.DELETE)


def test_bybit_replay_never_crosses_and_ends_at_1_9537_by_1_9538(
    bybit: list[OrderBookDeltas],
) -> None:
    book = OrderBook(XRP)
    book.apply(bybit[0])
    assert (book.best_bid(), book.best_ask()) == (
        BookLevel(D("1.9531"), D(6203)),
        BookLevel(D("1.9532"), book.asks()[0].size),
    )
    for batch in bybit[1:]:
        assert book.apply(batch)
        assert not book.is_crossed()
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None
    assert ask is not None
    assert (bid.price, ask.price) == (D("1.9537"), D("1.9538"))


def test_bybit_line_that_is_no_book_message_names_file_and_line(tmp_path: Path) -> None:
    good = '{"topic":"orderbook.1.X","type":"snapshot","ts":1,"data":{"s":"X","b":[],"a":[],"u":1}}'
    path = write(tmp_path / "book.jsonl", good + '\n{"topic":"orderbook.1.X","type":"trade"}\n')
    with pytest.raises(ValueError, match=f"^{path}:2: type must be"):
        list(read_bybit_book(path, XRP))


def test_bybit_message_without_update_id_names_the_missing_key(tmp_path: Path) -> None:
    path = write(
        tmp_path / "book.jsonl",
        '{"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"b":[["1","1"]],"a":[]}}\n',
    )
    with pytest.raises(ValueError, match=f"^{path}:1: missing 'u'"):
        list(read_bybit_book(path, XRP))


def test_bybit_negative_size_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "book.jsonl",
        '{"topic":"o","type":"delta","ts":1,"data":{"b":[["1.5","-2"]],"a":[],"u":2}}\n',
    )
    with pytest.raises(ValueError, match="size must be 0 or more, was -2"):
        list(read_bybit_book(path, XRP))


# --- Binance futures depth --------------------------------------------------------------


def test_binance_snap_file_is_one_snapshot_of_100_bids_and_no_asks() -> None:
    (snapshot,) = read_binance_depth(data_file(BINANCE_SNAP), BTC)
    assert snapshot.is_snapshot
    assert (snapshot.sequence, snapshot.previous_sequence) == (2_098_021_528_332, None)
    assert snapshot.ts_event == 1_667_346_579_146 * MS  # 2022-11-01 23:49:39.146 UTC
    book = OrderBook(BTC)
    book.apply(snapshot)
    assert len(book.bids()) == 100
    assert book.asks() == []
    assert book.best_ask() is None
    assert book.best_bid() == BookLevel(D("20377.00"), D("1.770"))
    assert book.bids()[-1].price == D("20365.9")


def test_binance_update_file_is_one_event_of_100_level_sets() -> None:
    (update,) = read_binance_depth(data_file(BINANCE_UPDATE), BTC)
    assert not update.is_snapshot
    assert (update.sequence, update.previous_sequence) == (2_098_041_696_700, 2_098_041_693_400)
    assert update.ts_event == 1_667_347_199_939 * MS
    assert Counter(d.side for d in update.deltas) == {BookSide.ASK: 77, BookSide.BID: 23}
    assert sum(d.action is BookAction.DELETE for d in update.deltas) == 21
    assert D("2047.3") in {d.price for d in update.deltas if d.side is BookSide.BID}


def test_binance_update_does_not_chain_onto_the_snapshot() -> None:
    (snapshot,) = read_binance_depth(data_file(BINANCE_SNAP), BTC)
    (update,) = read_binance_depth(data_file(BINANCE_UPDATE), BTC)
    book = OrderBook(BTC)
    book.apply(snapshot)
    with pytest.raises(BookSequenceGap, match="continue from 2098041693400"):
        book.apply(update)


HEADER = "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\n"


def test_binance_consecutive_updates_become_one_batch_each(tmp_path: Path) -> None:
    path = write(
        tmp_path / "depth.csv",
        HEADER
        + "BTCUSDT,1000,10,10,b,snap,100.0,1.0,-1\n"
        + "BTCUSDT,1000,10,10,a,snap,101.0,2.0,-1\n"
        + "BTCUSDT,2000,11,13,b,set,100.0,0.000,10\n"
        + "BTCUSDT,2000,11,13,b,set,99.5,3.0,10\n"
        + "BTCUSDT,3000,14,15,a,set,101.0,2.5,13\n",
    )
    batches = list(read_binance_depth(path, BTC))
    assert [(b.sequence, b.previous_sequence, b.is_snapshot) for b in batches] == [
        (10, None, True),
        (13, 10, False),
        (15, 13, False),
    ]
    book = OrderBook(BTC)
    for batch in batches:
        assert book.apply(batch)
    assert book.bids() == [BookLevel(D("99.5"), D(3))]
    assert book.asks() == [BookLevel(D("101.0"), D("2.5"))]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("BTCUSDT,1000,10,10,x,set,100.0,1.0,9", 'side must be "b" or "a"'),
        ("BTCUSDT,1000,10,10,b,reset,100.0,1.0,9", 'update_type must be "snap" or "set"'),
        ("BTCUSDT,1000,10,10,b,set,abc,1.0,9", "price must be a decimal"),
        ("BTCUSDT,1000,10,10,b,set,100.0,1.0", "expected 9 fields"),
    ],
)
def test_binance_bad_row_names_file_line_and_reason(tmp_path: Path, row: str, reason: str) -> None:
    path = write(tmp_path / "depth.csv", HEADER + row + "\n")
    with pytest.raises(ValueError, match=f"^{path}:2: .*{reason}"):
        list(read_binance_depth(path, BTC))
