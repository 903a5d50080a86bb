"""What market data publishes, gathered while a batch of input is processed and sent in order.

Trades go out in batches: one ``TradeBatch`` per instrument on ``md.v1.trades.{venue}.
{symbol}`` for each read of the input (a quiet feed's batch holds one trade, a busy one's
up to ``max_trades``), the one the FOXTROT_MARKET_DATA stream keeps. A message per trade
costs a replica more than validating, checking and aggregating the trade does, and the
stream as much again; a batch costs about what one message does. The per-tick subject
``md.v1.trade.{venue}.{symbol}`` stays available: for the instruments that
``FOXTROT_TICK_SUBJECTS`` names, each trade also goes out there, as a ``TradeTick`` on core
NATS (live only; the stream keeps the batches).

Everything else (quotes, bars, books) goes out one message per record, in the order it was
made; an instrument's open trade batch goes out before a bar of that instrument, so a
subscriber sees a bar's trades before the bar.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Final, Protocol

from prometheus_client import Counter

from foxtrot.common import subjects
from foxtrot.common.ids import (
    RECORD_IDS,
    DerivedIds,
    derived_id,
    trade_key,
    trade_message_id,
)
from foxtrot.common.messages.v1 import Bar, Message, OrderBookDeltas, QuoteTick, TradeTick
from foxtrot.core import data as core
from foxtrot.core.book import OrderBookDeltas as CoreOrderBookDeltas
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.wire import json_string, trade_batch_json, trade_json, trade_row

__all__ = ["PUBLISHED", "Emit", "Outbox", "Record", "TickSubjects", "publishable", "record_key"]

PUBLISHED = Counter(
    "foxtrot_market_data_published", "Market data messages published", ["kind", "source"]
)
Record = core.Bar | core.TradeTick | core.QuoteTick | CoreOrderBookDeltas
MAX_TRADES: Final = 1_000  # per TradeBatch: about 150 KB, well under NATS's 1 MB payload limit


def record_key(record: Record) -> str:
    """What a record's message ids derive from (see ``foxtrot.common.ids.RECORD_IDS``)."""
    instrument = record.instrument_id
    if isinstance(record, core.Bar):
        return f"bar:{instrument}:{record.spec}:{record.ts_event}"
    if isinstance(record, core.QuoteTick):
        return (
            f"quote:{instrument}:{record.ts_event}:{record.bid_price}:{record.ask_price}:"
            f"{record.bid_size}:{record.ask_size}"
        )
    if isinstance(record, CoreOrderBookDeltas):
        kind = "snapshot" if record.is_snapshot else "deltas"
        return f"book:{instrument}:{kind}:{record.sequence}"
    return trade_key(str(instrument), record.trade_id)


def publishable(record: Record, ts_init: int) -> tuple[str, Message]:
    """The subject and wire message of a record; raises ValidationError if it is invalid."""
    if isinstance(record, core.Bar):
        bar = Bar.from_core(record, message_id=derived_id(RECORD_IDS, record_key(record)))
        return subjects.bar(record.instrument_id, record.spec), bar.model_copy(
            update={"ts_init": ts_init}
        )
    if isinstance(record, core.QuoteTick):
        quote = QuoteTick(
            message_id=derived_id(RECORD_IDS, record_key(record)),
            instrument_id=str(record.instrument_id),
            bid_price=record.bid_price,
            ask_price=record.ask_price,
            bid_size=record.bid_size,
            ask_size=record.ask_size,
            ts_event=record.ts_event,
            ts_init=ts_init,
        )
        return subjects.quote(record.instrument_id), quote
    if isinstance(record, CoreOrderBookDeltas):
        book_id = derived_id(RECORD_IDS, record_key(record))
        book = OrderBookDeltas.from_core(record, message_id=book_id)
        return subjects.book(record.instrument_id), book.model_copy(update={"ts_init": ts_init})
    message_id = trade_message_id(str(record.instrument_id), record.trade_id)
    trade = TradeTick.from_core(record, message_id=message_id)
    return subjects.trade(record.instrument_id), trade.model_copy(update={"ts_init": ts_init})


class Emit(Protocol):
    """Publishes encoded bytes, under a message id (``Nats-Msg-Id``) when it has one,
    carrying the input's trace when given."""

    def __call__(
        self, subject: str, payload: bytes, message_id: str | None, traceparent: str | None
    ) -> Awaitable[None]: ...


class TickSubjects:
    """Which instruments also get a message per trade on ``md.v1.trade.{venue}.{symbol}``:
    shell-style patterns over instrument ids (``*``, ``*.BINANCE``, ``BTCUSDT.BINANCE``)."""

    __slots__ = ("_answers", "patterns")

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = tuple(p for p in (p.strip() for p in patterns) if p)
        self._answers: dict[str, bool] = {}

    @classmethod
    def parse(cls, text: str) -> TickSubjects:
        """From a comma-separated setting (empty: none)."""
        return cls(text.split(","))

    def __call__(self, instrument: str) -> bool:
        answer = self._answers.get(instrument)
        if answer is None:
            answer = any(fnmatch.fnmatchcase(instrument, p) for p in self.patterns)
            self._answers[instrument] = answer
        return answer


@dataclass(slots=True)
class _OpenBatch:
    subject: str
    instrument: str
    per_tick: bool  # its trades go out on md.v1.trade.{venue}.{symbol} too
    rows: list[str] = field(default_factory=list)
    first: str = ""  # trade ids, JSON-quoted
    last: str = ""
    ts_event: int = 0
    traceparent: str | None = None


_Outgoing = tuple[str, bytes, str | None, str | None]
_BATCH_IDS: Final = DerivedIds(RECORD_IDS)


class Outbox:
    """Published messages waiting for :meth:`flush`, in the order they were made."""

    def __init__(
        self,
        emit: Emit,
        tick_subjects: TickSubjects | None = None,
        source: str = "ingest",
        max_trades: int = MAX_TRADES,
    ) -> None:
        self.emit = emit
        self.tick_subjects = tick_subjects or TickSubjects()
        self.source = source
        self.max_trades = max_trades
        self._ready: list[_Outgoing] = []
        self._open: dict[InstrumentId, _OpenBatch] = {}
        self._trades = 0
        self._counts: dict[tuple[str, str], int] = {}  # published, by type and source
        self._trade_counter = PUBLISHED.labels("TradeTick", source)

    def trade(self, tick: core.TradeTick, instrument: str, traceparent: str | None) -> None:
        """Add a validated trade to its instrument's batch (and its per-tick subject)."""
        instrument_id = tick.instrument_id
        batch = self._open.get(instrument_id)
        if batch is None:
            subject = subjects.trades(instrument_id)
            batch = _OpenBatch(subject, instrument, self.tick_subjects(instrument))
            self._open[instrument_id] = batch
        trade_id = json_string(tick.trade_id)
        batch.rows.append(trade_row(tick, trade_id))
        if not batch.first:
            batch.first = trade_id
        batch.last, batch.ts_event = trade_id, tick.ts_event
        if batch.traceparent is None:
            batch.traceparent = traceparent
        if batch.per_tick:
            message_id = trade_message_id(instrument, tick.trade_id)
            body = trade_json(tick, instrument, message_id, trade_id)
            # Core NATS only (the stream keeps the batches): no Nats-Msg-Id to send.
            self._ready.append((subjects.trade(instrument_id), body, None, traceparent))
        if len(batch.rows) >= self.max_trades:
            self._seal(instrument_id, tick.ts_init)

    def record(
        self, record: Record, now: int, traceparent: str | None, source: str | None = None
    ) -> None:
        """Add a quote, bar or book batch, after the trades of its instrument so far."""
        if self._open:
            self._seal(record.instrument_id, now)
        subject, message = publishable(record, now)
        self._ready.append((subject, message.to_json(), str(message.message_id), traceparent))
        kind = (message.type, source or self.source)  # type: ignore[attr-defined]
        self._counts[kind] = self._counts.get(kind, 0) + 1

    async def flush(self, now: int) -> None:
        """Publish everything waiting, in order. A failure part-way leaves the rest unsent
        (the caller starts over from its last checkpoint, as after any failed publish)."""
        for instrument_id in list(self._open):
            self._seal(instrument_id, now)
        ready, self._ready = self._ready, []
        for subject, payload, message_id, traceparent in ready:
            await self.emit(subject, payload, message_id, traceparent)
        if self._trades:
            self._trade_counter.inc(self._trades)
            self._trades = 0
        if self._counts:
            for (type_, source), count in self._counts.items():
                PUBLISHED.labels(type_, source).inc(count)
            self._counts = {}

    def _seal(self, instrument_id: InstrumentId, now: int) -> None:
        batch = self._open.pop(instrument_id, None)
        if batch is None:
            return
        count = len(batch.rows)
        message_id = _BATCH_IDS(f"trades:{batch.instrument}:{batch.first}:{batch.last}:{count}")
        body = trade_batch_json(batch.instrument, message_id, batch.ts_event, now, batch.rows)
        self._ready.append((batch.subject, body, message_id, batch.traceparent))
        self._trades += count
