"""The book builder follows Binance's procedure: buffer, snapshot, drop what the snapshot
holds, the first event straddles it, every later one follows on; anything else is a gap
that drops the book until a new snapshot."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from foxtrot.core.book import BookAction, BookSide, OrderBook, OrderBookDelta, OrderBookDeltas
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.binance.backoff import Backoff
from foxtrot.market_data.adapters.binance.book_builder import (
    BookBuilder,
    BookProgress,
    DepthGap,
)

BTC = InstrumentId("BTCUSDT", "BINANCE")
CLEAR = OrderBookDelta(BookAction.CLEAR, None, Decimal(0), Decimal(0))


def diff(first: int, final: int, bid: str = "100", size: str = "1") -> OrderBookDeltas:
    """A diff event ``U..u`` that sets one bid level."""
    delta = OrderBookDelta(BookAction.UPDATE, BookSide.BID, Decimal(bid), Decimal(size))
    return OrderBookDeltas(BTC, (delta,), final, 0, 0, previous_sequence=first - 1)


def snapshot(last_update_id: int, *bids: tuple[str, str]) -> OrderBookDeltas:
    levels = [OrderBookDelta(BookAction.ADD, BookSide.BID, Decimal(p), Decimal(q)) for p, q in bids]
    return OrderBookDeltas(BTC, (CLEAR, *levels), last_update_id, 0, 0, is_snapshot=True)


def sequences(records: tuple[OrderBookDeltas, ...]) -> list[tuple[int, bool]]:
    return [(r.sequence, r.is_snapshot) for r in records]


def test_diffs_wait_in_the_buffer_until_a_snapshot_arrives() -> None:
    builder = BookBuilder(BTC)
    assert builder.on_diff(diff(157, 160)).records == ()
    assert builder.buffered == 1
    assert not builder.is_synced


def test_events_the_snapshot_holds_are_dropped_and_the_straddling_one_applied() -> None:
    builder = BookBuilder(BTC)
    for first, final in ((150, 154), (155, 158), (159, 162), (163, 163)):
        builder.on_diff(diff(first, final, bid=str(first)))
    progress = builder.on_snapshot(snapshot(160, ("99", "5")))
    assert progress.gap is None
    assert not progress.needs_snapshot
    # 150..154 and 155..158 are in the snapshot; 159..162 straddles 160 + 1; then 163.
    assert sequences(progress.records) == [(160, True), (162, False), (163, False)]
    assert builder.is_synced
    assert builder.book.sequence == 163
    assert [level.price for level in builder.book.bids()] == [
        Decimal(163),
        Decimal(159),
        Decimal(99),
    ]


def test_snapshot_older_than_the_first_buffered_event_is_asked_for_again() -> None:
    builder = BookBuilder(BTC)
    builder.on_diff(diff(200, 205))
    progress = builder.on_snapshot(snapshot(150))
    assert progress.stale_snapshot
    assert progress.gap is None
    assert progress.records == ()
    assert builder.buffered == 1  # kept for the next snapshot
    assert sequences(builder.on_snapshot(snapshot(202)).records) == [(202, True), (205, False)]


def test_a_hole_in_the_buffer_after_the_snapshot_is_a_gap() -> None:
    builder = BookBuilder(BTC)
    builder.on_diff(diff(150, 155))
    builder.on_diff(diff(160, 165))  # 156..159 never came
    progress = builder.on_snapshot(snapshot(155))
    assert progress.gap == DepthGap(expected=156, first=160, final=165)
    assert progress.records == ()
    assert not builder.is_synced
    assert sequences(builder.on_snapshot(snapshot(161)).records) == [(161, True), (165, False)]


def test_after_the_first_event_each_must_start_right_after_the_last() -> None:
    builder = BookBuilder(BTC)
    builder.on_snapshot(snapshot(100))
    assert sequences(builder.on_diff(diff(99, 103)).records) == [(103, False)]  # straddles
    assert sequences(builder.on_diff(diff(104, 104)).records) == [(104, False)]
    progress = builder.on_diff(diff(106, 107))  # 105 skipped
    assert progress.gap == DepthGap(expected=105, first=106, final=107)
    assert progress.needs_snapshot
    assert not builder.is_synced
    assert builder.buffered == 1  # the event that showed the gap waits for the snapshot


def test_an_overlapping_event_after_the_first_is_a_gap_too() -> None:
    # Binance: "each new event's U should be equal to the previous event's u + 1".
    builder = BookBuilder(BTC)
    builder.on_snapshot(snapshot(100))
    builder.on_diff(diff(101, 105))
    assert builder.on_diff(diff(104, 108)).gap == DepthGap(expected=106, first=104, final=108)


def test_stale_events_are_ignored_once_live() -> None:
    builder = BookBuilder(BTC)
    builder.on_snapshot(snapshot(100))
    builder.on_diff(diff(101, 105))
    progress = builder.on_diff(diff(103, 104))  # late: the book already holds 104
    assert progress == BookProgress()
    assert builder.is_synced


def test_first_event_after_a_snapshot_must_reach_past_it() -> None:
    builder = BookBuilder(BTC)
    builder.on_snapshot(snapshot(100))
    assert builder.on_diff(diff(103, 104)).gap == DepthGap(expected=101, first=103, final=104)


def test_after_a_gap_a_new_snapshot_rebuilds_the_book_from_scratch() -> None:
    builder = BookBuilder(BTC)
    builder.on_snapshot(snapshot(100, ("90", "1")))
    builder.on_diff(diff(101, 101, bid="91"))
    builder.on_diff(diff(105, 105, bid="95"))  # gap
    progress = builder.on_snapshot(snapshot(104, ("80", "2")))
    assert sequences(progress.records) == [(104, True), (105, False)]
    assert [level.price for level in builder.book.bids()] == [Decimal(95), Decimal(80)]


def test_the_published_records_rebuild_the_same_book_downstream() -> None:
    builder = BookBuilder(BTC)
    downstream = OrderBook(BTC)
    rng = random.Random(7)
    builder.on_diff(diff(1, 3))
    records = list(builder.on_snapshot(snapshot(2)).records)
    next_id = 4
    for _ in range(200):
        width = rng.randint(1, 3)
        update = diff(
            next_id, next_id + width - 1, bid=str(rng.randint(90, 110)), size=str(rng.randint(0, 3))
        )
        next_id += width
        records += builder.on_diff(update).records
    for record in records:
        downstream.apply(record)
    assert downstream.bids() == builder.book.bids()
    assert downstream.sequence == builder.book.sequence == next_id - 1


def test_reset_forgets_book_and_buffer() -> None:
    builder = BookBuilder(BTC)
    builder.on_snapshot(snapshot(100, ("90", "1")))
    builder.on_diff(diff(101, 101))
    builder.reset()
    assert not builder.is_synced
    assert builder.buffered == 0
    assert builder.book.sequence is None


def test_a_non_snapshot_is_refused_as_a_snapshot() -> None:
    with pytest.raises(ValueError, match="is_snapshot=True"):
        BookBuilder(BTC).on_snapshot(diff(1, 2))


# --- backoff ------------------------------------------------------------------------------


def test_backoff_delays_grow_exponentially_with_full_jitter_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 4.0, random.Random(3))
    ceilings = []
    delays = []
    for _ in range(6):
        ceilings.append(backoff.ceiling())
        delays.append(backoff.next_delay())
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    again = Backoff(0.5, 4.0, random.Random(3))
    assert [again.next_delay() for _ in range(6)] == delays  # seeded: reproducible
    backoff.reset()
    assert backoff.ceiling() == 0.5


def test_backoff_survives_many_failures_without_overflow() -> None:
    backoff = Backoff(0.1, 30.0, random.Random(1))
    for _ in range(5000):
        assert 0 <= backoff.next_delay() <= 30.0


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_backoff_refuses_a_base_or_cap_that_cannot_work(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base, cap)
