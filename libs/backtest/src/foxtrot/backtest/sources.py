"""A spec's data as one stream of core records in ``ts_init`` order.

- A :class:`FileSource` is read lazily with the market data file readers (the format is
  detected unless named), so a file is never held in memory.
- A :class:`HistorySource` is fetched from market_data before the run starts
  (:mod:`foxtrot.backtest.history`); a bar's ``ts_init`` is its close (``ts_event``).
- Each source is cut to the window ``start <= ts_init < end`` on its own (a sorted file stops
  being read at ``end``), then the sources are merged with :func:`heapq.merge`, which keeps
  records with equal ``ts_init`` in source order, so ties are always broken the same way.
- The first records of each source are what instrument rules are read off
  (:meth:`BacktestData.sample`, :mod:`foxtrot.backtest.instruments`).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import Final, get_args

from foxtrot.backtest.history import BarsAsker, HistoryConnection, fetch_histories
from foxtrot.backtest.spec import BacktestSpec, FileSource, HistorySource, InvalidBacktest
from foxtrot.common.market_files.formats import FileFormat, detect_format, read_records
from foxtrot.common.market_files.parsing import parse_time_ns
from foxtrot.core.backtest import MarketRecord
from foxtrot.core.book import BookSequenceGap, OrderBook, OrderBookDeltas
from foxtrot.core.data import Bar
from foxtrot.core.errors import InvalidIdentifier
from foxtrot.core.identifiers import InstrumentId

__all__ = ["BacktestData", "parse_bound"]

SAMPLE_SIZE: Final = 2_000  # records per source that instrument rules are read off
# Formats whose rows carry their instrument; every other one needs instrument_id.
_SELF_NAMING: Final = frozenset({"tardis_trades", "generic_csv"})


# --- the window ---------------------------------------------------------------------------


def parse_bound(value: str | int | None, what: str) -> int | None:
    """A window bound as UTC nanoseconds: ISO-8601 (naive means UTC) or integer ns."""
    if value is None or isinstance(value, int):
        return value
    try:
        return parse_time_ns(value)
    except ValueError as exc:
        raise InvalidBacktest(f"{what}: {exc}") from None


# --- files ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _OpenedFile:
    path: Path
    kind: FileFormat
    instrument_id: InstrumentId

    def records(self, bar_spec: str) -> Iterator[MarketRecord]:
        return read_records(self.path, self.kind, self.instrument_id, bar_spec)


def _open_file(source: FileSource) -> _OpenedFile:
    """The file's format and instrument, checked before a record is read."""
    path = Path(source.path).expanduser()
    if not path.is_file():
        raise InvalidBacktest(f"data file {source.path} does not exist or is not a file")
    if source.format == "auto":
        try:
            kind = detect_format(path)
        except (OSError, ValueError) as exc:
            raise InvalidBacktest(str(exc)) from None
    elif source.format in get_args(FileFormat):
        kind = source.format  # type: ignore[assignment]
    else:
        formats = ", ".join(get_args(FileFormat))
        raise InvalidBacktest(f"format must be auto or one of {formats}, was {source.format!r}")
    if source.instrument_id is None:
        if kind not in _SELF_NAMING:
            raise InvalidBacktest(
                f"{source.path} is a {kind} file, which names no instrument: "
                "give its instrument_id (--instrument-id SYMBOL.VENUE)"
            )
        # Unused by the readers of self-naming formats; they name each record's instrument.
        instrument_id = InstrumentId("UNNAMED", "FILE")
    else:
        try:
            instrument_id = InstrumentId.parse(source.instrument_id)
        except InvalidIdentifier as exc:
            raise InvalidBacktest(str(exc)) from None
    return _OpenedFile(path, kind, instrument_id)


def _checked(label: str, records: Iterator[MarketRecord]) -> Iterator[MarketRecord]:
    """Records of one source; a record it cannot read, or one out of ts_init order, stops
    the run with an InvalidBacktest naming the source."""
    last = -1
    try:
        for record in records:
            t = record.ts_init
            if t < last:
                raise InvalidBacktest(
                    f"{label}: records must come in ts_init order, a {type(record).__name__}"
                    f" at {t} came after {last}"
                )
            last = t
            yield record
    except (ValueError, ArithmeticError) as exc:
        raise InvalidBacktest(str(exc) if label in str(exc) else f"{label}: {exc}") from None


def _within(
    records: Iterable[MarketRecord], start: int | None, end: int | None
) -> Iterator[MarketRecord]:
    """The records of one sorted source with ``start <= ts_init < end``.

    A book whose updates began before ``start`` is rebuilt from them and the window opens
    with a snapshot of it stamped ``start``, so the deltas that follow have a book to update.
    """
    books: dict[InstrumentId, OrderBook] = {}
    opened: set[InstrumentId] = set()
    for record in records:
        t = record.ts_init
        if start is not None and t < start:
            if isinstance(record, OrderBookDeltas):
                book = books.setdefault(record.instrument_id, OrderBook(record.instrument_id))
                try:
                    book.apply(record)
                except BookSequenceGap:  # no book to open with until the next snapshot
                    books[record.instrument_id] = OrderBook(record.instrument_id)
            continue
        if end is not None and t >= end:
            return  # sorted: nothing later is in the window
        if isinstance(record, OrderBookDeltas) and record.instrument_id not in opened:
            opened.add(record.instrument_id)
            before = books.pop(record.instrument_id, None)
            rebuilt = before is not None and before.sequence is not None
            if start is not None and before is not None and rebuilt and not record.is_snapshot:
                yield before.snapshot(start, start)
        yield record


# --- the stream ----------------------------------------------------------------------------


class BacktestData:
    """The records a spec names: files read afresh on each pass, history fetched once."""

    def __init__(
        self,
        sources: Sequence[FileSource | HistorySource],
        *,
        start: str | int | None = None,
        end: str | int | None = None,
        history: Mapping[int, Sequence[Bar]] | None = None,
    ) -> None:
        self.sources = tuple(sources)
        self.start_ns = parse_bound(start, "start")
        self.end_ns = parse_bound(end, "end")
        if self.start_ns is not None and self.end_ns is not None and self.end_ns <= self.start_ns:
            raise InvalidBacktest(f"end must be after start, was {end!r} <= {start!r}")
        self.history: dict[int, Sequence[Bar]] = dict(history or {})
        self._files = {
            i: _open_file(s) for i, s in enumerate(self.sources) if isinstance(s, FileSource)
        }

    @classmethod
    def load(
        cls,
        spec: BacktestSpec,
        *,
        connection: HistoryConnection | None = None,
        ask_bars: BarsAsker | None = None,
    ) -> BacktestData:
        """The spec's data; history sources are fetched now, through ``ask_bars`` if given,
        else over NATS as ``connection`` (default: from the environment) says."""
        data = cls(spec.data, start=spec.start, end=spec.end, history={})  # checks the files
        wanted = {i: s for i, s in enumerate(spec.data) if isinstance(s, HistorySource)}
        if wanted:
            fetched = asyncio.run(
                fetch_histories(
                    wanted,
                    start_ns=data.start_ns,
                    end_ns=data.end_ns,
                    connection=connection or HistoryConnection.from_env(),
                    ask_bars=ask_bars,
                )
            )
            data.history.update(fetched)
        return data

    def _source_records(self, index: int) -> Iterator[MarketRecord]:
        source = self.sources[index]
        if isinstance(source, HistorySource):
            if index not in self.history:
                raise InvalidBacktest(f"history {source.instrument_id} was not fetched (load it)")
            return iter(self.history[index])
        return _checked(source.path, self._files[index].records(source.bar_spec))

    def records(self) -> Iterator[MarketRecord]:
        """Every record in the window, in ``ts_init`` order (ties in source order)."""
        streams = [
            _within(self._source_records(i), self.start_ns, self.end_ns)
            for i in range(len(self.sources))
        ]
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams, key=attrgetter("ts_init"))

    def sample(self, per_source: int = SAMPLE_SIZE) -> list[MarketRecord]:
        """The first records of each source (window ignored): what rules are read off."""
        out: list[MarketRecord] = []
        for i in range(len(self.sources)):
            out.extend(islice(self._source_records(i), per_source))
        return out
