"""The L2 order book: levels, deltas, sequence checking, and a real Bybit replay."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.core.book import (
    BookAction,
    BookLevel,
    BookSequenceGap,
    BookSide,
    OrderBook,
    OrderBookDelta,
    OrderBookDeltas,
)
from foxtrot.core.errors import DomainError
from foxtrot.core.identifiers import InstrumentId

BYBIT_BOOK = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "orderbook"
    / "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"
)
XRP = InstrumentId("XRPUSDT", "BYBIT")
D = Decimal
CLEAR = OrderBookDelta(BookAction.CLEAR, None, D(0), D(0))


def level(action: BookAction, side: BookSide, price: str, size: str = "0") -> OrderBookDelta:
    return OrderBookDelta(action, side, D(price), D(size))


def bid(price: str, size: str, action: BookAction = BookAction.UPDATE) -> OrderBookDelta:
    return level(action, BookSide.BID, price, size)


def ask(price: str, size: str, action: BookAction = BookAction.UPDATE) -> OrderBookDelta:
    return level(action, BookSide.ASK, price, size)


def batch(
    sequence: int,
    *deltas: OrderBookDelta,
    snapshot: bool = False,
    previous: int | None = None,
    instrument: InstrumentId = XRP,
) -> OrderBookDeltas:
    return OrderBookDeltas(
        instrument, tuple(deltas), sequence, sequence * 10, sequence * 10 + 1, snapshot, previous
    )


def snapshot(sequence: int = 100) -> OrderBookDeltas:
    return batch(
        sequence,
        CLEAR,
        bid("10.0", "1", BookAction.ADD),
        bid("9.9", "2", BookAction.ADD),
        bid("9.8", "3", BookAction.ADD),
        ask("10.1", "4", BookAction.ADD),
        ask("10.2", "5", BookAction.ADD),
        snapshot=True,
    )


def book_at(sequence: int = 100) -> OrderBook:
    book = OrderBook(XRP)
    assert book.apply(snapshot(sequence))
    return book


def prices(levels: list[BookLevel]) -> list[str]:
    return [str(x.price) for x in levels]


# --- levels -----------------------------------------------------------------------------


def test_snapshot_sets_both_sides_best_first() -> None:
    book = book_at()
    assert book.best_bid() == BookLevel(D("10.0"), D(1))
    assert book.best_ask() == BookLevel(D("10.1"), D(4))
    assert prices(book.bids()) == ["10.0", "9.9", "9.8"]
    assert prices(book.asks()) == ["10.1", "10.2"]
    assert book.sequence == 100
    assert book.ts_event == 1_000


def test_depth_limits_the_levels_returned() -> None:
    book = book_at()
    assert prices(book.bids(2)) == ["10.0", "9.9"]
    assert prices(book.asks(1)) == ["10.1"]


def test_empty_book_has_no_best_levels_and_is_not_crossed() -> None:
    book = OrderBook(XRP)
    assert (book.best_bid(), book.best_ask(), book.bids(), book.asks()) == (None, None, [], [])
    assert not book.is_crossed()
    assert book.sequence is None


def test_update_sets_a_level_and_adds_a_new_one_in_price_order() -> None:
    book = book_at()
    book.apply(batch(101, bid("9.9", "7"), bid("9.95", "1.5"), ask("10.15", "2")))
    assert [(str(x.price), str(x.size)) for x in book.bids()] == [
        ("10.0", "1"),
        ("9.95", "1.5"),
        ("9.9", "7"),
        ("9.8", "3"),
    ]
    assert prices(book.asks()) == ["10.1", "10.15", "10.2"]


def test_add_of_an_existing_level_replaces_its_size() -> None:
    book = book_at()
    book.apply(batch(101, bid("10.0", "9", BookAction.ADD)))
    assert book.best_bid() == BookLevel(D("10.0"), D(9))
    assert len(book.bids()) == 3


def test_delete_removes_the_level_and_the_next_becomes_best() -> None:
    book = book_at()
    book.apply(batch(101, bid("10.0", "0", BookAction.DELETE), ask("10.1", "0", BookAction.DELETE)))
    assert book.best_bid() == BookLevel(D("9.9"), D(2))
    assert book.best_ask() == BookLevel(D("10.2"), D(5))


def test_update_to_size_zero_deletes_the_level() -> None:
    book = book_at()
    book.apply(batch(101, ask("10.1", "0")))
    assert prices(book.asks()) == ["10.2"]


def test_delete_of_an_absent_level_changes_nothing() -> None:
    book = book_at()
    book.apply(batch(101, bid("5", "0", BookAction.DELETE)))
    assert prices(book.bids()) == ["10.0", "9.9", "9.8"]


def test_prices_with_different_trailing_zeros_are_the_same_level() -> None:
    book = book_at()
    book.apply(batch(101, bid("10.00", "8")))
    assert len(book.bids()) == 3
    assert book.best_bid() == BookLevel(D("10.0"), D(8))


def test_clear_empties_both_sides() -> None:
    book = book_at()
    book.apply(batch(101, CLEAR))
    assert (book.bids(), book.asks()) == ([], [])
    assert book.sequence == 101


def test_book_at_or_above_the_best_ask_is_crossed() -> None:
    book = book_at()
    book.apply(batch(101, bid("10.1", "1")))
    assert book.is_crossed()  # locked counts
    book.apply(batch(102, bid("10.1", "0", BookAction.DELETE)))
    assert not book.is_crossed()


def test_a_level_delta_without_a_side_is_refused() -> None:
    book = book_at()
    with pytest.raises(ValueError, match="needs a side"):
        book.apply(batch(101, OrderBookDelta(BookAction.UPDATE, None, D(1), D(1))))


def test_deltas_of_another_instrument_are_refused() -> None:
    book = book_at()
    other = batch(101, bid("1", "1"), instrument=InstrumentId("ETHUSDT", "BYBIT"))
    with pytest.raises(ValueError, match=r"ETHUSDT\.BYBIT cannot update the book of XRPUSDT"):
        book.apply(other)


# --- sequence ---------------------------------------------------------------------------


def test_next_sequence_applies_and_moves_the_book_on() -> None:
    book = book_at(100)
    assert book.apply(batch(101, bid("9.7", "1")))
    assert (book.sequence, book.ts_event) == (101, 1_010)


def test_skipped_sequence_is_a_gap_and_leaves_the_book_unchanged() -> None:
    book = book_at(100)
    with pytest.raises(BookSequenceGap, match="102 continue from 101, but the book is at 100"):
        book.apply(batch(102, bid("10.0", "0", BookAction.DELETE)))
    assert book.sequence == 100
    assert book.best_bid() == BookLevel(D("10.0"), D(1))


def test_gap_is_a_domain_error() -> None:
    assert issubclass(BookSequenceGap, DomainError)


def test_batch_the_book_already_holds_is_ignored() -> None:
    book = book_at(100)
    book.apply(batch(101, bid("9.7", "1")))
    assert not book.apply(batch(101, bid("9.7", "99")))
    assert not book.apply(batch(50, CLEAR))
    assert prices(book.bids()) == ["10.0", "9.9", "9.8", "9.7"]
    assert book.bids()[-1].size == D(1)


def test_previous_sequence_links_batches_that_are_not_numbered_one_by_one() -> None:
    # Binance futures: update ids jump; pu names the update before.
    book = book_at(100)
    assert book.apply(batch(180, bid("9.7", "1"), previous=100))
    with pytest.raises(BookSequenceGap, match="continue from 200, but the book is at 180"):
        book.apply(batch(260, bid("9.6", "1"), previous=200))


def test_batch_that_straddles_the_snapshot_sequence_applies() -> None:
    # The first update after a snapshot may start before it and end after it.
    book = book_at(100)
    assert book.apply(batch(120, bid("9.7", "1"), previous=90))


def test_deltas_before_any_snapshot_are_a_gap() -> None:
    with pytest.raises(BookSequenceGap, match="before any snapshot"):
        OrderBook(XRP).apply(batch(1, bid("1", "1")))


def test_snapshot_heals_a_gap_and_replaces_the_book() -> None:
    book = book_at(100)
    with pytest.raises(BookSequenceGap):
        book.apply(batch(150, bid("1", "1")))
    book.apply(batch(149, ask("20", "1", BookAction.ADD), snapshot=True))
    assert (book.bids(), prices(book.asks()), book.sequence) == ([], ["20"], 149)
    assert book.apply(batch(150, bid("19", "1")))


def test_snapshot_copies_the_book_at_its_sequence() -> None:
    book = book_at(100)
    book.apply(batch(101, bid("9.95", "1.5")))
    copy = book.snapshot(ts_event=5, ts_init=6)
    assert (copy.sequence, copy.ts_event, copy.ts_init, copy.is_snapshot) == (101, 5, 6, True)
    assert copy.deltas[0] == CLEAR
    rebuilt = OrderBook(XRP)
    rebuilt.apply(copy)
    assert rebuilt.bids() == book.bids()
    assert rebuilt.asks() == book.asks()


def test_book_without_a_snapshot_cannot_be_copied() -> None:
    with pytest.raises(ValueError, match="no snapshot"):
        OrderBook(XRP).snapshot(0, 0)


# --- the real Bybit file ------------------------------------------------------------------


def bybit_batches() -> list[OrderBookDeltas]:
    """The file's messages as batches, parsed here so the domain test needs no reader."""
    if not BYBIT_BOOK.exists():
        pytest.skip(f"market data file not found: {BYBIT_BOOK}")
    batches = []
    for text in BYBIT_BOOK.read_text().splitlines():
        message = json.loads(text)
        is_snapshot = message["type"] == "snapshot"
        deltas = [CLEAR] if is_snapshot else []
        for key, side in (("b", BookSide.BID), ("a", BookSide.ASK)):
            for price, size in message["data"][key]:
                action = (
                    BookAction.DELETE
                    if size == "0"
                    else (BookAction.ADD if is_snapshot else BookAction.UPDATE)
                )
                deltas.append(OrderBookDelta(action, side, D(price), D(size)))
        ts = message["ts"] * 1_000_000
        batches.append(
            OrderBookDeltas(XRP, tuple(deltas), message["data"]["u"], ts, ts, is_snapshot)
        )
    return batches


def test_bybit_snapshot_opens_at_1_9531_by_1_9532_with_500_levels_a_side() -> None:
    book = OrderBook(XRP)
    book.apply(bybit_batches()[0])
    assert book.best_bid() == BookLevel(D("1.9531"), D(6203))
    ask = book.best_ask()
    assert ask is not None
    assert ask.price == D("1.9532")
    assert (len(book.bids()), len(book.asks())) == (500, 500)


def test_bybit_file_replays_all_49_deltas_without_a_gap_or_a_crossed_book() -> None:
    batches = bybit_batches()
    assert [b.is_snapshot for b in batches] == [True] + [False] * 49
    book = OrderBook(XRP)
    crossed = []
    for deltas in batches:
        assert book.apply(deltas)
        if book.is_crossed():
            crossed.append(deltas.sequence)
    assert crossed == []
    assert book.sequence == 20_254_918
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None
    assert ask is not None
    assert (bid.price, ask.price) == (D("1.9537"), D("1.9538"))


def test_bybit_file_with_a_message_left_out_reports_the_gap() -> None:
    batches = bybit_batches()
    book = OrderBook(XRP)
    for deltas in batches[:10]:
        book.apply(deltas)
    with pytest.raises(BookSequenceGap, match="20254880 continue from 20254879"):
        book.apply(batches[11])
