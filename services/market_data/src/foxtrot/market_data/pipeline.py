"""The ingest pipeline: validate, normalise, check, aggregate and publish, per partition.

Everything that reaches market data from outside (external publishers, the Binance feed)
arrives on ``md.v1.ingest.{kind}.{venue}.{symbol}[.{spec}]``. nats-server maps each
instrument's subjects onto one of ``INGEST_PARTITIONS`` partition subjects, and one replica
at a time leases a partition (see :mod:`foxtrot.market_data.ownership`), so an instrument's
bars are built in exactly one place. A :class:`PartitionWorker` reads its partition from
the FOXTROT_MD_INGEST stream in stream order, in batches, and a :class:`Normaliser` turns
each message into published messages.

The worker checkpoints the normaliser's state (the open bars) with the stream sequence it
covers. A replica that takes a partition over restores that checkpoint and reads on from
the next sequence, so the bars go on exactly as if nothing had happened: what the dead
replica published after its last checkpoint is published again with the same message ids
(they derive from the record), and the stream's duplicate window drops the copies.

When do time bars close? Each instrument's feed is judged by how far its event time lags
the wall clock on arrival:

- a **live** feed (lag at most ``live_lag``) closes its bars on the wall clock, ``delay``
  after their end, even when no trade comes, once its reader has caught up (input still
  waiting closes the bars it ends by its own time);
- a **historical** feed (a replay published to ingest) closes them on its own event time;
  when it falls silent for ``idle_close`` its open bars are closed, as at the end of a
  replay. Input that arrives later for a closed bar is late (counted, not added).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import trace
from prometheus_client import Counter
from pydantic import ValidationError

from foxtrot.common import subjects
from foxtrot.common.dead_letters import DeadLetterKind, DeadLetters
from foxtrot.common.errors import MalformedMessage
from foxtrot.common.messages.v1 import IngestBar, IngestInstrument, IngestQuote, IngestTrade
from foxtrot.common.messages.v1.ingest import (
    IngestTradeFields,
    RefusedRow,
    ingest_trade,
    ingest_trades,
)
from foxtrot.common.streams import MD_INGEST
from foxtrot.core import data as core
from foxtrot.core.bar_spec import BarSpec
from foxtrot.core.errors import DomainError, InvalidIdentifier
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.instruments import Instrument
from foxtrot.core.quality import QualityIssue
from foxtrot.market_data.bars import BarBuilder, BarClock
from foxtrot.market_data.outbox import Outbox, Record
from foxtrot.market_data.quality import QualityWatch

__all__ = ["Normaliser", "PartitionWorker", "parse_ingest", "published_subject"]

log = logging.getLogger(__name__)
tracer = trace.get_tracer("foxtrot.market_data")

INGESTED = Counter(
    "foxtrot_market_data_ingested", "Ingest messages processed, by partition", ["partition"]
)
REFUSED = Counter(
    "foxtrot_market_data_refused",
    "Ingest input refused (dead-lettered), by reason",
    ["reason"],
)
_S: Final = 1_000_000_000
_REQUEST_EXPIRES: Final = 1 * _S
_MAX_ROUTES: Final = 10_000
# Dead letters are counted by the subscription they came in on, as FastStream's are.
_SUBSCRIPTIONS: Final = {
    "trade": subjects.INGEST_TRADES,
    "trades": subjects.INGEST_TRADE_BATCHES,
    "quote": subjects.INGEST_QUOTES,
    "bar": subjects.INGEST_BARS,
    "instrument": subjects.INGEST_INSTRUMENTS,
}


@dataclass(slots=True)
class _Feed:
    ts: int  # newest event time seen
    lag: int  # wall time minus event time when it arrived
    wall: int  # wall time it arrived
    finished: bool = False


@dataclass(frozen=True, slots=True)
class Ingest:
    """What an ingest subject says: the kind of input and its instrument."""

    kind: str
    venue: str
    symbol: str
    spec: str | None
    partition: int | None


def published_subject(subject: str) -> str:
    """The subject a publisher used, before nats-server mapped it onto a partition."""
    tokens = subject.split(".")
    if tokens[:3] == ["md", "v1", "ingestp"] and len(tokens) > 4:
        return ".".join(["md", "v1", "ingest", *tokens[4:]])
    return subject


def parse_ingest(subject: str) -> Ingest:
    """``md.v1.ingest.{kind}.{venue}.{symbol}[.{spec}]``, or its partition subject
    ``md.v1.ingestp.{partition}.{kind}...``; raises MalformedMessage otherwise."""
    tokens = subject.split(".")
    partition: int | None = None
    if tokens[:3] == ["md", "v1", "ingestp"] and len(tokens) >= 4 and tokens[3].isdigit():
        partition = int(tokens[3])
        rest = tokens[4:]
    elif tokens[:3] == ["md", "v1", "ingest"]:
        rest = tokens[3:]
    else:
        raise MalformedMessage(subject, "not an ingest subject")
    if len(rest) not in (3, 4):
        raise MalformedMessage(subject, "expected md.v1.ingest.{kind}.{venue}.{symbol}[.{spec}]")
    return Ingest(rest[0], rest[1], rest[2], rest[3] if len(rest) == 4 else None, partition)


class Normaliser:
    """Turns one partition's ingest input into published trades and bars.

    It owns the partition's open bars and feed clocks, which :meth:`state` captures and
    :meth:`restore` resumes. Quality checks are shared by the replica's partitions.
    """

    def __init__(
        self,
        out: Outbox,
        bars: BarBuilder | None,
        quality: QualityWatch | None,
        clock: BarClock,
        check: Callable[[Record], str | None] | None = None,
        define: Callable[[Instrument], Awaitable[None]] | None = None,
    ) -> None:
        self.out = out
        self.define = define
        self.bars = bars
        self.quality = quality
        self.clock = clock
        self.check = check
        self._feeds: dict[InstrumentId, _Feed] = {}
        self._instruments: dict[tuple[str, str], tuple[InstrumentId, str]] = {}
        self._issues: list[QualityIssue] = []
        self.changed = False  # bars closed (by time, too) since the last state()

    def instrument(self, subject: str, venue: str, symbol: str) -> tuple[InstrumentId, str]:
        """The instrument a subject names, and its string form (cached)."""
        found = self._instruments.get((venue, symbol))
        if found is None:
            try:
                instrument_id = InstrumentId(symbol, venue)
            except InvalidIdentifier as exc:
                raise MalformedMessage(subject, str(exc)) from exc
            found = self._instruments[(venue, symbol)] = (instrument_id, str(instrument_id))
        return found

    def trade(
        self, ingest: Ingest, subject: str, data: bytes, now: int, traceparent: str | None
    ) -> None:
        """Validate an ingested trade, add it to the outbox, check it and feed it to the bars.

        Nothing is published until :meth:`flush`, and nothing changes when the trade is
        refused (MalformedMessage).
        """
        instrument_id, name = self.instrument(subject, ingest.venue, ingest.symbol)
        try:
            fields = ingest_trade(data)
        except ValidationError as exc:
            raise MalformedMessage(subject, str(exc)) from exc
        problem = self._add_trade(instrument_id, name, fields, now, traceparent)
        if problem is not None:
            raise MalformedMessage(subject, problem)

    def trades(
        self, ingest: Ingest, subject: str, data: bytes, now: int, traceparent: str | None
    ) -> list[RefusedRow]:
        """A batch of trades (``IngestTrades``), each as :meth:`trade` takes one; returns
        the rows refused, for the dead-letter subject. MalformedMessage when the message
        is not a batch of trades at all."""
        instrument_id, name = self.instrument(subject, ingest.venue, ingest.symbol)
        try:
            rows = ingest_trades(data)
        except ValidationError as exc:
            raise MalformedMessage(subject, str(exc)) from exc
        refused: list[RefusedRow] = []
        for index, row in enumerate(rows):
            if isinstance(row, RefusedRow):
                refused.append(row)
                continue
            problem = self._add_trade(instrument_id, name, row, now, traceparent)
            if problem is not None:
                refused.append(RefusedRow(index, _trade_json(row), f"trades[{index}]: {problem}"))
        return refused

    def _add_trade(
        self,
        instrument_id: InstrumentId,
        name: str,
        fields: IngestTradeFields,
        now: int,
        traceparent: str | None,
    ) -> str | None:
        """Check a validated trade, add it to the outbox and feed it to the quality rules
        and the bars; or say why it is refused (nothing changes then)."""
        price, size, side, trade_id, ts_event = fields
        try:
            tick = core.TradeTick(
                instrument_id, price, size, side, TradeId(trade_id), ts_event, now
            )
        except DomainError as exc:
            return str(exc)
        problem = self._off_rules(tick)
        if problem is not None:
            return problem
        self.out.trade(tick, name, traceparent)
        self._saw(instrument_id, tick.ts_event, now)
        if self.quality is not None:
            issues = self.quality.check_trade(tick)
            if issues:
                self._issues += issues
        if self.bars is not None:
            for bar in self.bars.on_trade(tick):
                self._publish(bar, now, traceparent, "aggregated")
        return None

    def quote(
        self, ingest: Ingest, subject: str, data: bytes, now: int, traceparent: str | None
    ) -> None:
        """Validate an ingested quote, add it to the outbox, check it and feed its mid price
        to the time and tick bars."""
        instrument_id, _ = self.instrument(subject, ingest.venue, ingest.symbol)
        try:
            payload = IngestQuote.model_validate_json(data)
            record = core.QuoteTick(
                instrument_id,
                payload.bid_price,
                payload.ask_price,
                payload.bid_size,
                payload.ask_size,
                payload.ts_event,
                now,
            )
        except (ValidationError, DomainError) as exc:
            raise MalformedMessage(subject, str(exc)) from exc
        self._refuse_if_off_rules(subject, record)
        self._publish(record, now, traceparent, "ingest")
        self._saw(instrument_id, record.ts_event, now)
        if self.quality is not None:
            issues = self.quality.check_quote(record)
            if issues:
                self._issues += issues
        if self.bars is not None:
            for bar in self.bars.on_quote(record):
                self._publish(bar, now, traceparent, "aggregated")

    async def instrument_rules(self, ingest: Ingest, subject: str, data: bytes) -> None:
        """Validate an ingested instrument definition and hand it to ``define``."""
        instrument_id, _ = self.instrument(subject, ingest.venue, ingest.symbol)
        if self.define is None:
            raise MalformedMessage(subject, "this replica keeps no instrument definitions")
        try:
            instrument = IngestInstrument.model_validate_json(data).to_core(instrument_id)
        except (ValidationError, DomainError) as exc:
            raise MalformedMessage(subject, str(exc)) from exc
        await self.define(instrument)

    def bar(
        self, ingest: Ingest, subject: str, data: bytes, now: int, traceparent: str | None
    ) -> None:
        """Validate an ingested bar and add it to the outbox (``md.v1.bar.{venue}.{symbol}.
        {spec}``)."""
        instrument_id, _ = self.instrument(subject, ingest.venue, ingest.symbol)
        try:
            if ingest.spec is None:
                raise ValueError("a bar's subject ends with its spec, e.g. .1m")
            spec = str(BarSpec.parse(ingest.spec))
            payload = IngestBar.model_validate_json(data)
            record = core.Bar(
                instrument_id,
                spec,
                payload.open,
                payload.high,
                payload.low,
                payload.close,
                payload.volume,
                payload.ts_event,
                now,
            )
        except (ValidationError, ValueError, DomainError) as exc:
            raise MalformedMessage(subject, str(exc)) from exc
        self._refuse_if_off_rules(subject, record)
        self._publish(record, now, traceparent, "ingest")

    async def flush(self, now: int) -> None:
        """Publish what the input so far made, in order, then report its quality issues."""
        await self.out.flush(now)
        if self._issues:
            issues, self._issues = self._issues, []
            assert self.quality is not None
            await self.quality.report(issues)

    def reading_from(self, wall: int) -> None:
        """The partition is being read from ``wall`` on: silence counts from now, not from
        when the state was restored (opening the consumer may have taken a while)."""
        for feed in self._feeds.values():
            feed.wall = max(feed.wall, wall)

    async def on_time(self, wall: int, caught_up: bool = True) -> None:
        """Close the time bars that are due by the module's rules.

        Only when ``caught_up`` (the last read found nothing waiting): input queued behind
        a slow reader (a backlog after a handover, say) is not silence, and it closes the
        bars it ends by its own time, so a live feed's bar never closes without it.
        """
        if self.bars is None or not caught_up:
            return
        delay, idle = int(self.clock.delay * _S), int(self.clock.idle_close * _S)
        live_lag = int(self.clock.live_lag * _S)
        for instrument_id, feed in self._feeds.items():
            if feed.lag <= live_lag:
                due = self.bars.close(instrument_id, wall - delay)
            elif not feed.finished and wall - feed.wall >= idle:
                feed.finished = True
                due = self.bars.finish_one(instrument_id)
            else:
                continue
            for bar in due:
                self._publish(bar, wall, None, "aggregated")
        await self.flush(wall)

    def state(self) -> dict[str, object]:
        """The open bars and feed clocks, JSON-able."""
        self.changed = False
        return {
            "bars": self.bars.state() if self.bars is not None else {},
            "feeds": {
                str(instrument_id): [feed.ts, feed.lag, feed.finished]
                for instrument_id, feed in self._feeds.items()
            },
        }

    def restore(self, state: dict[str, object], wall: int) -> None:
        """Go on from :meth:`state`; feed silence is measured from ``wall``."""
        if self.bars is not None:
            self.bars.restore(state["bars"])  # type: ignore[arg-type]
        feeds: dict[str, list[int]] = state["feeds"]  # type: ignore[assignment]
        for name, (ts, lag, finished) in feeds.items():
            self._feeds[InstrumentId.parse(name)] = _Feed(ts, lag, wall, bool(finished))

    def _saw(self, instrument_id: InstrumentId, ts_event: int, now: int) -> None:
        feed = self._feeds.get(instrument_id)
        if feed is None:
            self._feeds[instrument_id] = _Feed(ts_event, now - ts_event, now)
        else:
            if ts_event > feed.ts:
                feed.ts, feed.lag = ts_event, now - ts_event
            feed.wall, feed.finished = now, False

    def _off_rules(self, record: Record) -> str | None:
        """Why a record breaks its instrument's rules, or None."""
        problem = self.check(record) if self.check is not None else None
        return None if problem is None else f"off the instrument's rules: {problem}"

    def _refuse_if_off_rules(self, subject: str, record: Record) -> None:
        problem = self._off_rules(record)
        if problem is not None:
            raise MalformedMessage(subject, problem)

    def _publish(self, record: Record, now: int, traceparent: str | None, source: str) -> None:
        self.changed = True
        self.out.record(record, now, traceparent, source)


def _trade_json(fields: IngestTradeFields) -> bytes:
    """A refused batch row, as the ``IngestTrade`` JSON to publish again once fixed."""
    price, size, side, trade_id, ts_event = fields
    trade = IngestTrade(
        price=price, size=size, aggressor_side=side, trade_id=trade_id, ts_event=ts_event
    )
    return trade.model_dump_json().encode()


Checkpoint = Callable[[dict[str, object]], Awaitable[None]]


class PartitionWorker:
    """Reads one ingest partition in stream order and feeds it to a :class:`Normaliser`.

    The consumer is ephemeral and unacknowledged (AckPolicy NONE): progress is the stream
    sequence in the checkpoint, not a consumer's ack floor, so whoever owns the partition
    next starts exactly where the checkpoint says. A gap in the consumer's own sequence
    (a batch lost on the way) makes the worker re-read from the last sequence it processed.
    """

    def __init__(
        self,
        name: str,
        filter_subject: str,
        partition: int | None,
        nc: NatsClient,
        normaliser: Normaliser,
        dead_letters: DeadLetters,
        checkpoint: Checkpoint,
        start_seq: int,
        batch: int = 1_000,
        checkpoint_every: float = 1.0,
    ) -> None:
        self.name = name
        self.filter_subject = filter_subject
        self.partition = partition
        self.nc = nc
        self.normaliser = normaliser
        self.dead_letters = dead_letters
        self.checkpoint = checkpoint
        self.seq = start_seq - 1  # the last stream sequence processed
        self.batch = batch
        self.checkpoint_every = checkpoint_every
        self._stopping = asyncio.Event()
        self._saved_seq = self.seq
        self._counter = INGESTED.labels(name)
        self._routes: dict[str, Ingest] = {}

    async def run(self) -> None:
        """Process until :meth:`stop`; then write a last checkpoint."""
        puller = _Puller(self.nc, self.filter_subject, self.batch)
        await puller.open(self.seq + 1)
        self.normaliser.reading_from(time.time_ns())
        last_tick = last_save = time.monotonic()
        try:
            while not self._stopping.is_set():
                msgs = await puller.next_batch(0.25)
                if msgs:
                    gap = await self._process(msgs, puller)
                    if gap is not None:
                        log.warning("%s: %s; reading again from %d", self.name, gap, self.seq + 1)
                        await puller.close()
                        await puller.open(self.seq + 1)
                        self.normaliser.reading_from(time.time_ns())
                        continue
                mono = time.monotonic()
                if mono - last_tick >= 0.25 or not msgs:
                    last_tick = mono
                    await self.normaliser.on_time(time.time_ns(), caught_up=not msgs)
                unsaved = self.seq != self._saved_seq or self.normaliser.changed
                if mono - last_save >= self.checkpoint_every and unsaved:
                    last_save = mono
                    await self._save()
            await self._save()
        finally:
            await puller.close()

    async def stop(self) -> None:
        """Finish the batch in hand, checkpoint and return."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping.is_set()

    async def _process(self, msgs: list[Msg], puller: _Puller) -> str | None:
        """Process a batch, publish what it made; say why reading must start again, if so."""
        now = time.time_ns()
        normaliser, routes = self.normaliser, self._routes
        gap = None
        with tracer.start_as_current_span(
            "market_data.ingest batch", attributes={"partition": self.name, "count": len(msgs)}
        ):
            for msg in msgs:
                sseq, cseq = _sequences(msg)
                if cseq != puller.delivered + 1:
                    gap = f"consumer sequence jumped from {puller.delivered} to {cseq}"
                    break
                puller.delivered = cseq
                if sseq <= self.seq:
                    continue  # already processed before a re-read
                subject, headers = msg.subject, msg.headers
                traceparent = headers.get("traceparent") if headers else None
                try:
                    ingest = routes.get(subject) or self._route(subject)
                    kind = ingest.kind
                    if kind == "trade":
                        normaliser.trade(ingest, subject, msg.data, now, traceparent)
                    elif kind == "trades":
                        refused = normaliser.trades(ingest, subject, msg.data, now, traceparent)
                        if refused:
                            await self._refuse_rows(msg, refused)
                    elif kind == "quote":
                        normaliser.quote(ingest, subject, msg.data, now, traceparent)
                    elif kind == "bar":
                        normaliser.bar(ingest, subject, msg.data, now, traceparent)
                    elif kind == "instrument":
                        await normaliser.instrument_rules(ingest, subject, msg.data)
                    # "probe": a replica checking the partition mapping; nothing to do
                except MalformedMessage as exc:
                    await self._refuse(msg, exc)
                self.seq = sseq
            self._counter.inc(len(msgs))
            await normaliser.flush(now)
        return gap

    def _route(self, subject: str) -> Ingest:
        """What an ingest subject says, checked against the partition (and remembered)."""
        ingest = parse_ingest(subject)
        if ingest.kind not in _SUBSCRIPTIONS and ingest.kind != "probe":
            raise MalformedMessage(subject, f"unknown ingest kind {ingest.kind!r}")
        if self.partition is not None and ingest.kind != "probe":
            self._check_partition(ingest, subject)
        if len(self._routes) >= _MAX_ROUTES:
            self._routes.clear()  # a publisher inventing subjects must not grow this forever
        self._routes[subject] = ingest
        return ingest

    async def _refuse(self, msg: Msg, exc: MalformedMessage) -> None:
        try:
            kind = parse_ingest(msg.subject).kind
        except MalformedMessage:
            kind = ""
        subscription = _SUBSCRIPTIONS.get(kind, "md.v1.ingest.>")
        await self._dead_letter(msg, msg.data, str(exc), subscription, msg.headers)

    async def _refuse_rows(self, msg: Msg, rows: list[RefusedRow]) -> None:
        """Dead-letter the refused rows of a trade batch, each alone, as an IngestTrade."""
        headers = msg.headers or {}
        message_id = headers.get("Nats-Msg-Id")
        for row in rows:
            row_headers = (
                {**headers, "Nats-Msg-Id": f"{message_id}:trades[{row.index}]"}
                if message_id
                else headers
            )
            await self._dead_letter(
                msg, row.row, row.reason, subjects.INGEST_TRADE_BATCHES, row_headers
            )

    async def _dead_letter(
        self,
        msg: Msg,
        data: bytes,
        reason: str,
        subscription: str,
        headers: dict[str, str] | None,
    ) -> None:
        REFUSED.labels("malformed").inc()
        await self.dead_letters.send(
            data=data,
            source_subject=published_subject(msg.subject),
            subscription=subscription,
            kind=DeadLetterKind.MALFORMED,
            reason=reason,
            headers=headers,
        )

    def _check_partition(self, ingest: Ingest, subject: str) -> None:
        if ingest.partition != self.partition:
            raise MalformedMessage(subject, f"not on partition {self.partition}")
        # Once per subject: the worker remembers the subjects that passed (_route).
        home = subjects.ingest_partition_of(ingest.venue, ingest.symbol)
        if home != self.partition:
            raise MalformedMessage(
                subject,
                f"{ingest.venue}.{ingest.symbol} belongs to partition {home}: publish to "
                "md.v1.ingest.*, never to a partition subject",
            )

    async def _save(self) -> None:
        state = self.normaliser.state()
        state["seq"] = self.seq
        await self.checkpoint(state)
        self._saved_seq = self.seq


def _sequences(msg: Msg) -> tuple[int, int]:
    # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>, or
    # the newer $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>... form.
    tokens = msg.reply.split(".")
    if len(tokens) == 9:
        return int(tokens[5]), int(tokens[6])
    return int(tokens[7]), int(tokens[8])


class _Puller:
    """Pull requests on an ephemeral, unacknowledged consumer, without a task per message.

    nats-py's ``fetch`` starts a task (and a uuid4) for every message it waits for, a
    quarter of the time spent per tick here; this asks for ``batch`` messages at a time on
    a private inbox, asking for the next batch while one is still arriving, and collects
    them as they arrive, so a live feed's message is processed as soon as it comes.
    """

    def __init__(self, nc: NatsClient, filter_subject: str, batch: int) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.filter_subject = filter_subject
        self.batch = batch
        self.delivered = 0  # consumer sequence of the last message taken
        self._buffer: list[Msg] = []
        self._arrived = asyncio.Event()
        # Messages still due on each open pull request, oldest first: the server serves
        # (and expires, as all have the same expiry) waiting requests in order.
        self._waiting: deque[int] = deque()
        self._all_ended_by = 0.0  # monotonic time by which every request has expired
        self._consumer: str | None = None
        self._sub: Subscription | None = None
        self._next = self._inbox = ""
        self._reconnects = 0

    async def open(self, start_seq: int) -> None:
        """Create the consumer from ``start_seq`` on and listen on a fresh inbox."""
        config = ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start_seq,
            filter_subject=self.filter_subject,
            inactive_threshold=30.0,
            mem_storage=True,
            num_replicas=1,
        )
        self._reconnects = self.nc.stats["reconnects"]
        info = await self.js.add_consumer(MD_INGEST.name, config)
        self._consumer = info.name
        self.delivered, self._buffer = 0, []
        self._waiting.clear()
        self._next = f"$JS.API.CONSUMER.MSG.NEXT.{MD_INGEST.name}.{info.name}"
        self._inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(
            self._inbox, cb=self._on_message, pending_msgs_limit=-1, pending_bytes_limit=-1
        )

    async def _on_message(self, msg: Msg) -> None:
        headers = msg.headers
        if headers and not msg.data and "Status" in headers:
            # 404 no messages, 408 request expired, 409 consumer deleted or changed:
            # the oldest request is over either way. 503: nobody answers for the consumer.
            if self._waiting:
                self._waiting.popleft()
            status = headers["Status"]
            if status == "503" or (status == "409" and "Deleted" in headers.get("Description", "")):
                self._consumer = None
        else:
            self._buffer.append(msg)
            if self._waiting:
                self._waiting[0] -= 1
                if self._waiting[0] <= 0:
                    self._waiting.popleft()
        self._arrived.set()

    async def next_batch(self, wait: float) -> list[Msg]:
        """The messages that arrived, waiting up to ``wait`` seconds for the first.

        Raises ConnectionError when what was in flight may be lost (the connection came
        back, the consumer is gone): the worker then starts over from its checkpoint.
        """
        if self._consumer is None:
            raise ConnectionError("the ingest consumer was deleted")
        if self.nc.stats["reconnects"] != self._reconnects:
            # Messages on the way when the connection dropped are gone (no acks here).
            raise ConnectionError("reconnected to NATS: messages in flight may be lost")
        if self._waiting and time.monotonic() > self._all_ended_by:
            # Their end was never heard: check the consumer is still there (the server
            # deletes an idle one after its inactive threshold, without a word).
            self._waiting.clear()
            try:
                await self.js.consumer_info(MD_INGEST.name, self._consumer)
            except NotFoundError as exc:
                raise ConnectionError("the ingest consumer is gone") from exc
        if sum(self._waiting) < self.batch:
            # Ask for the next batch while this one is still arriving: no round trip idle.
            request = {"batch": self.batch, "expires": _REQUEST_EXPIRES}
            await self.nc.publish(self._next, json.dumps(request).encode(), reply=self._inbox)
            self._waiting.append(self.batch)
            self._all_ended_by = time.monotonic() + _REQUEST_EXPIRES / _S + 1.0
        if not self._buffer:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), wait)
        msgs, self._buffer = self._buffer, []
        return msgs

    async def close(self) -> None:
        """Stop listening and delete the consumer (it would expire by itself anyway)."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self.js.delete_consumer(MD_INGEST.name, self._consumer)
            self._consumer = None
