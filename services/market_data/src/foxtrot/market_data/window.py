"""The part of a replay between a start and an end time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from foxtrot.common.market_files.formats import MarketRecord
from foxtrot.core.book import BookSequenceGap, OrderBook, OrderBookDeltas
from foxtrot.core.identifiers import InstrumentId

__all__ = ["within"]


def within(
    records: Iterable[MarketRecord], start: int | None, end: int | None
) -> Iterator[MarketRecord]:
    """The records with ``start <= ts_event < end`` (None: unbounded), in file order.

    Book deltas only make sense on the book they update, so for an instrument whose book
    began before ``start`` the window opens with a snapshot of that book as it stood at
    ``start`` (stamped ``start``, at the sequence of the last batch before it), built from the
    records before the window. A gap before ``start`` drops the rebuilt book until the next
    snapshot, so the window then opens with the raw deltas and the consumer sees the gap.
    """
    if start is None and end is None:
        yield from records
        return
    books: dict[InstrumentId, OrderBook] = {}
    opened: set[InstrumentId] = set()
    for record in records:
        ts = record.ts_event
        if start is not None and ts < start:
            if isinstance(record, OrderBookDeltas):
                _rebuild(books, record)
            continue
        if end is not None and ts >= end:
            continue
        if isinstance(record, OrderBookDeltas) and record.instrument_id not in opened:
            opened.add(record.instrument_id)
            book = books.pop(record.instrument_id, None)
            if (
                start is not None
                and book is not None
                and book.sequence is not None
                and not record.is_snapshot
            ):
                yield book.snapshot(start, start)
        yield record


def _rebuild(books: dict[InstrumentId, OrderBook], deltas: OrderBookDeltas) -> None:
    book = books.setdefault(deltas.instrument_id, OrderBook(deltas.instrument_id))
    try:
        book.apply(deltas)
    except BookSequenceGap:
        books[deltas.instrument_id] = OrderBook(deltas.instrument_id)
