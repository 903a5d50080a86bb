"""One symbol's L2 book from a REST snapshot and the diff-depth stream, by Binance's rules.

Binance's procedure for a local book, in update ids (``U``/``u`` first and final id of a
diff event, ``lastUpdateId`` the snapshot's):

1. Buffer the diff events; once the first one is in, fetch a snapshot.
2. Drop buffered events with ``u <= lastUpdateId``: the snapshot holds them already.
3. The first event to apply must straddle the snapshot, ``U <= lastUpdateId + 1 <= u``.
   If even the first event buffered starts later, the snapshot is older than the stream
   (REST lags the stream now and then): fetch another, keeping the buffer. If events
   before it were dropped, the stream itself skipped ids: a gap, as in 4.
4. From then on every event must continue the one before, ``U == previous u + 1``.
   Anything else is a gap: the book is dropped, the offending event kept in a fresh buffer,
   and the procedure starts again at 1 with a new snapshot.

The builder is synchronous and does no I/O: the feed fetches snapshots and publishes what
it returns. Each call returns a :class:`BookProgress`: the batches to publish (a snapshot
with ``is_snapshot=True`` first, then the deltas that follow it), and whether continuity
broke or a new snapshot is needed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from foxtrot.core.book import OrderBook, OrderBookDeltas
from foxtrot.core.identifiers import InstrumentId

__all__ = ["BookBuilder", "BookProgress", "DepthGap"]


@dataclass(frozen=True, slots=True)
class DepthGap:
    """Update ids the stream skipped: the book needed ``expected`` next, the event began at
    ``first`` (its final id being ``final``)."""

    expected: int
    first: int
    final: int


@dataclass(frozen=True, slots=True)
class BookProgress:
    """What one snapshot or diff did to the book."""

    records: tuple[OrderBookDeltas, ...] = ()
    gap: DepthGap | None = None
    stale_snapshot: bool = False

    @property
    def needs_snapshot(self) -> bool:
        """True when the book can only go on from a new REST snapshot."""
        return self.gap is not None or self.stale_snapshot


def first_update_id(update: OrderBookDeltas) -> int:
    """Binance's ``U``, which the batch carries as ``previous_sequence + 1``."""
    return update.sequence if update.previous_sequence is None else update.previous_sequence + 1


class BookBuilder:
    """Builds one symbol's book from snapshots and diff events, checking update ids."""

    def __init__(self, instrument_id: InstrumentId, max_buffered: int = 10_000) -> None:
        if max_buffered < 1:
            raise ValueError(f"max_buffered must be 1 or more, was {max_buffered}")
        self.instrument_id = instrument_id
        self.book = OrderBook(instrument_id)
        self._buffer: deque[OrderBookDeltas] = deque(maxlen=max_buffered)
        self._synced = False
        self._bridged = False

    @property
    def is_synced(self) -> bool:
        """True while the book follows the stream (a snapshot applied, no gap since)."""
        return self._synced

    @property
    def buffered(self) -> int:
        """How many diff events wait for a snapshot."""
        return len(self._buffer)

    def reset(self) -> None:
        """Forget the book and the buffer: the stream they came from is gone."""
        self.book = OrderBook(self.instrument_id)
        self._buffer.clear()
        self._synced = False
        self._bridged = False

    def on_diff(self, update: OrderBookDeltas) -> BookProgress:
        """Apply a diff event, or buffer it while there is no book."""
        if not self._synced:
            self._buffer.append(update)
            return BookProgress()
        return self._apply([update])

    def on_snapshot(self, snapshot: OrderBookDeltas) -> BookProgress:
        """Start the book from a REST snapshot and apply the buffered events that follow it."""
        if not snapshot.is_snapshot:
            raise ValueError(f"{self.instrument_id}: a snapshot must have is_snapshot=True")
        last = snapshot.sequence
        dropped = False
        while self._buffer and self._buffer[0].sequence <= last:
            self._buffer.popleft()
            dropped = True
        if self._buffer and first_update_id(self._buffer[0]) > last + 1:
            head = self._buffer[0]
            if not dropped:  # the stream began after the snapshot: REST lags, ask again
                return BookProgress(stale_snapshot=True)
            # The snapshot covers the events before, but the next one skips ids.
            return BookProgress(gap=DepthGap(last + 1, first_update_id(head), head.sequence))
        self.book = OrderBook(self.instrument_id)
        self.book.apply(snapshot)
        self._synced, self._bridged = True, False
        pending = list(self._buffer)
        self._buffer.clear()
        progress = self._apply(pending)
        return BookProgress((snapshot, *progress.records), progress.gap)

    def _apply(self, updates: list[OrderBookDeltas]) -> BookProgress:
        applied: list[OrderBookDeltas] = []
        for index, update in enumerate(updates):
            sequence = self.book.sequence
            assert sequence is not None  # synced means a snapshot was applied
            if update.sequence <= sequence:
                continue  # already in the book (the snapshot covered it)
            first, expected = first_update_id(update), sequence + 1
            # The first event after a snapshot may straddle it; later ones must follow on.
            if first > expected or (self._bridged and first != expected):
                self._synced, self._bridged = False, False
                self._buffer.extend(updates[index:])
                return BookProgress(tuple(applied), DepthGap(expected, first, update.sequence))
            self.book.apply(update)
            self._bridged = True
            applied.append(update)
        return BookProgress(tuple(applied))
