"""A live Binance spot market-data feed: trades, best bid/ask and a sequence-checked book.

One WebSocket connection to the combined stream endpoint (``{ws_url}/stream``) carries, per
symbol, ``<symbol>@trade``, ``<symbol>@bookTicker`` and ``<symbol>@depth@100ms``; symbols
are subscribed with ``SUBSCRIBE`` method messages, so they can come and go while the
connection stays up. Each symbol's book is built by :class:`~.book_builder.BookBuilder`
from a REST snapshot (:mod:`.snapshots`) and the diff stream.

What the feed guarantees its sink:

- records of one instrument arrive in the venue's order; a book starts with a batch that
  has ``is_snapshot=True`` and continues with deltas that follow on from it, or starts over
  with a new snapshot (after a gap or a reconnect);
- every hole it can see is reported to ``on_gap`` as a :class:`~.gaps.FeedGap` (trade ids,
  depth update ids, and the time the connection was down);
- a malformed event is logged, counted and skipped; it never stops the feed, and neither
  does a sink that raises.

When the connection drops (Binance also closes every connection after 24 hours) the feed
waits a delay of exponential backoff with full jitter, reconnects, subscribes everything
again and rebuilds every book from a new snapshot. The backoff starts over once a
connection has stayed up ``backoff_reset_after`` seconds, so a venue that accepts and drops
connections at once is not hammered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import httpx
from prometheus_client import Counter
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from foxtrot.common.errors import MalformedMessage
from foxtrot.core.book import OrderBook, OrderBookDeltas
from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.binance.backoff import Backoff
from foxtrot.market_data.adapters.binance.book_builder import BookBuilder, BookProgress
from foxtrot.market_data.adapters.binance.gaps import (
    FeedGap,
    GapKind,
    depth_gap,
    disconnect_gap,
    trade_gap,
)
from foxtrot.market_data.adapters.binance.messages import (
    Channel,
    MethodReply,
    StreamEvent,
    decode_message,
    parse_book_ticker,
    parse_depth_update,
    parse_trade,
    stream_name,
)
from foxtrot.market_data.adapters.binance.rest import BinanceRest
from foxtrot.market_data.adapters.binance.snapshots import BookSnapshots
from foxtrot.market_data.adapters.binance.stream_methods import MAX_STREAMS, StreamMethods

__all__ = [
    "GAPS",
    "MALFORMED",
    "RECONNECTS",
    "BinanceFeed",
    "FeedGap",
    "GapKind",
    "GapSink",
    "LiveRecord",
    "RecordSink",
]

LiveRecord = TradeTick | QuoteTick | OrderBookDeltas
RecordSink = Callable[[LiveRecord], Awaitable[None]]
GapSink = Callable[[FeedGap], Awaitable[None]]

log = logging.getLogger(__name__)
RECONNECTS = Counter(
    "foxtrot_market_data_binance_reconnects",
    "Attempts to reconnect to Binance's streams",
    ["venue"],
)
GAPS = Counter(
    "foxtrot_market_data_binance_gaps",
    "Holes in Binance market data the feed detected",
    ["venue", "symbol", "kind"],
)
MALFORMED = Counter(
    "foxtrot_market_data_binance_malformed_events",
    "Binance events the feed could not parse and skipped",
    ["venue", "symbol"],
)

_CLOSE_TIMEOUT = 2.0
_PARSERS: dict[Channel, Callable[[StreamEvent, InstrumentId, int], LiveRecord]] = {
    Channel.TRADE: parse_trade,
    Channel.BOOK_TICKER: parse_book_ticker,
    Channel.DEPTH: parse_depth_update,
}


@dataclass
class _Symbol:
    """What the feed keeps per subscribed symbol."""

    instrument_id: InstrumentId
    builder: BookBuilder
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_trade_id: int | None = None
    last_trade_ts: int = 0
    last_depth_ts: int = 0
    snapshot_task: asyncio.Task[None] | None = None


class BinanceFeed:
    """Live trades, quotes and books of Binance spot symbols, delivered to an async sink.

    ``sink(record)`` gets every TradeTick, QuoteTick and OrderBookDeltas; ``on_gap(gap)``
    every :class:`FeedGap`. They are awaited one call at a time, never two at once, and
    each instrument's records come in the venue's order. ``symbols``
    are Binance's (``BTCUSDT``); instruments are ``InstrumentId(symbol, venue)``.
    ``ws_url``/``rest_url`` point at Binance or at a stand-in such as
    :class:`~.fake.FakeBinance`. Reconnects and snapshot retries wait
    ``uniform(0, min(backoff_cap, backoff_base * 2**n))`` seconds; ``rng`` and ``sleep``
    make that reproducible in tests. ``clock`` gives ``ts_init`` in nanoseconds;
    ``http_client`` replaces the HTTP client the feed would open (and is then not closed by
    it). ``depth_limit`` levels per side come in each snapshot, at most
    ``max_concurrent_snapshots`` requests at a time.
    """

    def __init__(
        self,
        symbols: Iterable[str] = (),
        *,
        sink: RecordSink,
        on_gap: GapSink | None = None,
        venue: str = "BINANCE",
        ws_url: str = "wss://stream.binance.com:9443",
        rest_url: str = "https://api.binance.com",
        depth_limit: int = 1000,
        depth_speed_ms: int = 100,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        backoff_reset_after: float = 60.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], int] = time.time_ns,
        http_client: httpx.AsyncClient | None = None,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        max_concurrent_snapshots: int = 4,
        max_buffered_diffs: int = 10_000,
    ) -> None:
        if not ws_url.startswith(("ws://", "wss://")):
            raise ValueError(f"ws_url must start with ws:// or wss://, was {ws_url!r}")
        if depth_speed_ms not in (100, 1000):
            raise ValueError(f"depth_speed_ms must be 100 or 1000, was {depth_speed_ms}")
        Backoff(backoff_base, backoff_cap)  # refuses a bad base or cap now, not at first use
        self.venue = venue
        self._sink = sink
        self._on_gap = on_gap
        self._stream_url = f"{ws_url.rstrip('/')}/stream"
        self._depth_speed_ms = depth_speed_ms
        self._backoff = (backoff_base, backoff_cap)
        self._backoff_reset_after = backoff_reset_after
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep
        self._clock = clock
        self._open_timeout = open_timeout
        self._ping = (ping_interval, ping_timeout)
        self._max_buffered = max_buffered_diffs
        self._snapshots = BookSnapshots(
            BinanceRest(rest_url, http_client),
            venue=venue,
            depth_limit=depth_limit,
            concurrency=max_concurrent_snapshots,
            backoff=self._backoff,
            rng=self._rng,
            sleep=sleep,
            clock=clock,
        )
        self._states: dict[str, _Symbol] = {}
        self._subscriptions = asyncio.Lock()
        self._delivery = asyncio.Lock()  # the sink and on_gap never run twice at once
        self._methods: StreamMethods | None = None  # while connected and subscribed
        self._task: asyncio.Task[None] | None = None
        self._last_received = 0
        self._lost_at: int | None = None
        self._lost_symbols: set[str] = set()
        self._lost_reason = ""
        self._add_states(symbols)

    @property
    def symbols(self) -> frozenset[str]:
        """The symbols the feed subscribes to now."""
        return frozenset(self._states)

    @property
    def connected(self) -> bool:
        """True while a connection to the stream is open and subscribed."""
        return self._methods is not None

    def book(self, symbol: str) -> OrderBook | None:
        """The symbol's book as the feed built it, or None while it is being (re)built."""
        state = self._states.get(symbol.upper())
        return state.builder.book if state is not None and state.builder.is_synced else None

    async def start(self) -> None:
        """Connect in the background and stay connected until :meth:`stop`."""
        if self._task is not None:
            raise RuntimeError(f"the {self.venue} feed is already running")
        self._task = asyncio.create_task(self._run(), name=f"binance-feed-{self.venue}")

    async def stop(self) -> None:
        """Close the connection, cancel snapshot requests, close the HTTP client."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            if task is not asyncio.current_task():  # a sink may stop the feed
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._cancel_snapshots(list(self._states.values()))
        await self._snapshots.aclose()

    async def __aenter__(self) -> BinanceFeed:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def add_symbols(self, symbols: Iterable[str]) -> None:
        """Subscribe more symbols: at once on a live connection, else when it is back."""
        async with self._subscriptions:
            added = self._add_states(symbols)
            if added and self._methods is not None:
                with contextlib.suppress(ConnectionClosed):  # the reconnect subscribes them
                    await self._methods.subscribe(self._streams(added))

    async def remove_symbols(self, symbols: Iterable[str]) -> None:
        """Unsubscribe symbols and forget their books and trade ids."""
        async with self._subscriptions:
            removed = sorted({s.upper() for s in symbols} & self._states.keys())
            states = [self._states.pop(s) for s in removed]
            self._lost_symbols.difference_update(removed)
            if removed and self._methods is not None:
                with contextlib.suppress(ConnectionClosed):
                    await self._methods.unsubscribe(self._streams(removed))
        await self._cancel_snapshots(states)

    def _add_states(self, symbols: Iterable[str]) -> list[str]:
        new = sorted({s.upper() for s in symbols} - self._states.keys())
        ids = [InstrumentId(s, self.venue) for s in new]  # refuses a bad symbol before any change
        if 3 * (len(self._states) + len(new)) > MAX_STREAMS:
            raise ValueError(
                f"one connection carries at most {MAX_STREAMS // 3} symbols, "
                f"was asked for {len(self._states) + len(new)}"
            )
        for instrument_id in ids:
            builder = BookBuilder(instrument_id, self._max_buffered)
            self._states[instrument_id.symbol] = _Symbol(instrument_id, builder)
        return new

    def _streams(self, symbols: Iterable[str]) -> list[str]:
        return [
            stream_name(s, channel, self._depth_speed_ms) for s in symbols for channel in Channel
        ]

    # --- the connection -------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = Backoff(*self._backoff, self._rng)
        loop = asyncio.get_running_loop()
        while True:
            connected_at: float | None = None
            reason = "the feed stopped"
            try:
                async with connect(
                    self._stream_url,
                    open_timeout=self._open_timeout,
                    ping_interval=self._ping[0],
                    ping_timeout=self._ping[1],
                    close_timeout=_CLOSE_TIMEOUT,
                ) as ws:
                    connected_at = loop.time()
                    methods = await self._on_connected(ws)
                    await self._read(ws, methods)
                    reason = "Binance closed the connection"
            except ConnectionClosed as exc:
                reason = f"connection lost: {exc}"
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                reason = f"cannot connect: {type(exc).__name__}: {exc}"
            except Exception as exc:  # a bug, most likely: log it, reconnect, never die
                log.exception("binance %s: the connection failed", self.venue)
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                await self._on_disconnected(reason)
            if connected_at is not None and loop.time() - connected_at >= self._backoff_reset_after:
                backoff.reset()
            delay = backoff.next_delay()
            RECONNECTS.labels(self.venue).inc()
            log.warning("binance %s: %s; reconnecting in %.2f s", self.venue, reason, delay)
            await self._sleep(delay)

    async def _on_connected(self, ws: ClientConnection) -> StreamMethods:
        methods = StreamMethods(ws, self.venue)
        async with self._subscriptions:
            await methods.subscribe(self._streams(sorted(self._states)))
            self._methods = methods
            self._last_received = self._clock()
            lost_at, lost = self._lost_at, sorted(self._lost_symbols & self._states.keys())
            self._lost_at, self._lost_symbols = None, set()
        log.info("binance %s: connected, %d symbols subscribed", self.venue, len(self._states))
        if lost_at is not None:
            now = self._clock()
            for symbol in lost:
                state = self._states.get(symbol)
                if state is not None:
                    await self._report(
                        disconnect_gap(state.instrument_id, self._lost_reason, lost_at, now)
                    )
        return methods

    async def _on_disconnected(self, reason: str) -> None:
        if self._methods is not None:
            self._methods = None
            if self._lost_at is None:  # the first failure after a good connection counts
                # Data stopped with the last frame: a dead peer is noticed only later.
                self._lost_at, self._lost_reason = self._last_received, reason
            self._lost_symbols.update(self._states)
        states = list(self._states.values())
        await self._cancel_snapshots(states)
        for state in states:
            state.builder.reset()

    async def _read(self, ws: ClientConnection, methods: StreamMethods) -> None:
        async for raw in ws:
            ts_init = self._last_received = self._clock()
            try:
                message = decode_message(raw)
            except MalformedMessage as exc:
                self._malformed("", exc)
                continue
            if isinstance(message, MethodReply):
                methods.answered(message)
                continue
            state = self._states.get(message.symbol)
            if state is None:
                continue  # unsubscribed a moment ago; the venue had sent it already
            try:
                record = _PARSERS[message.channel](message, state.instrument_id, ts_init)
            except MalformedMessage as exc:
                self._malformed(message.symbol, exc)
                continue
            if isinstance(record, TradeTick):
                await self._on_trade(state, record)
            elif isinstance(record, OrderBookDeltas):
                await self._on_depth(state, record)
            else:
                await self._deliver(record)

    def _malformed(self, symbol: str, exc: MalformedMessage) -> None:
        MALFORMED.labels(self.venue, symbol).inc()
        log.warning("binance %s: skipped an event: %s", self.venue, exc)

    # --- records ----------------------------------------------------------------------------

    async def _on_trade(self, state: _Symbol, trade: TradeTick) -> None:
        trade_id, last = int(trade.trade_id), state.last_trade_id
        if last is not None:
            if trade_id <= last:
                log.debug("binance %s: trade %d again or late, skipped", self.venue, trade_id)
                return
            gap = trade_gap(last, state.last_trade_ts, trade)
            if gap is not None:
                await self._report(gap)
        state.last_trade_id, state.last_trade_ts = trade_id, trade.ts_event
        await self._deliver(trade)

    async def _on_depth(self, state: _Symbol, update: OrderBookDeltas) -> None:
        async with state.lock:
            await self._publish_book(state, state.builder.on_diff(update))
        syncing = state.snapshot_task is not None and not state.snapshot_task.done()
        current = self._states.get(state.instrument_id.symbol) is state  # not removed meanwhile
        if current and not syncing and not state.builder.is_synced:
            state.snapshot_task = asyncio.create_task(
                self._snapshots.sync(state.instrument_id, lambda s: self._apply_snapshot(state, s)),
                name=f"binance-snapshot-{state.instrument_id}",
            )

    async def _apply_snapshot(self, state: _Symbol, snapshot: OrderBookDeltas) -> BookProgress:
        async with state.lock:
            progress = state.builder.on_snapshot(snapshot)
            await self._publish_book(state, progress)
        return progress

    async def _publish_book(self, state: _Symbol, progress: BookProgress) -> None:
        for record in progress.records:
            await self._deliver(record)
            state.last_depth_ts = record.ts_event
        if progress.gap is not None:
            now = self._clock()
            since = state.last_depth_ts or now
            await self._report(depth_gap(state.instrument_id, progress.gap, since, now))

    async def _cancel_snapshots(self, states: Sequence[_Symbol]) -> None:
        tasks = [s.snapshot_task for s in states if s.snapshot_task is not None]
        for state in states:
            state.snapshot_task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            if task is not asyncio.current_task():  # a sink may remove its own symbol
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _deliver(self, record: LiveRecord) -> None:
        try:
            async with self._delivery:
                await self._sink(record)
        except Exception:  # the sink's failure is its own; the stream must go on
            what = f"{type(record).__name__} of {record.instrument_id}"
            log.exception("binance %s: the sink failed on a %s", self.venue, what)

    async def _report(self, gap: FeedGap) -> None:
        GAPS.labels(self.venue, gap.instrument_id.symbol, gap.kind.value).inc()
        log.warning(
            "binance %s: %s gap in %s: %s", self.venue, gap.kind, gap.instrument_id, gap.detail
        )
        if self._on_gap is not None:
            try:
                async with self._delivery:
                    await self._on_gap(gap)
            except Exception:
                log.exception("binance %s: on_gap failed on %s", self.venue, gap)
