"""Streaming quality checks over one instrument's trades and quotes; rules in the package doc."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.identifiers import InstrumentId, TradeId
from foxtrot.core.quality.config import QualityConfig
from foxtrot.core.quality.issues import (
    FeedKind,
    QualityIssue,
    QualityIssueKind,
    QualityStatus,
)
from foxtrot.core.quality.reference import RollingMedian

__all__ = ["FeedMonitor", "QualityMonitor"]

_TWO = Decimal(2)
_BPS = Decimal(10_000)
_K = QualityIssueKind


def _seconds(ns: int) -> str:
    return f"{ns / 1_000_000_000:.3f}s"


@dataclass(slots=True)
class _Feed:
    """What one feed (trades or quotes) of an instrument has shown so far."""

    kind: FeedKind
    reference: RollingMedian
    label: str
    last_sequence: int | None = None
    last_ts_event: int | None = None
    received: int = 0


class FeedMonitor:
    """Checks one instrument's trades and quotes as they arrive; returns what looks wrong."""

    __slots__ = (
        "_counts",
        "_last_issue",
        "_last_ts_event",
        "_last_ts_init",
        "_quotes",
        "_seen_ids",
        "_stale",
        "_trade_ids",
        "_trades",
        "config",
        "instrument_id",
    )

    def __init__(self, instrument_id: InstrumentId, config: QualityConfig | None = None) -> None:
        self.instrument_id = instrument_id
        self.config = config if config is not None else QualityConfig()
        window = self.config.spike_window
        self._trades = _Feed(FeedKind.TRADES, RollingMedian(window), "trade price")
        self._quotes = _Feed(FeedKind.QUOTES, RollingMedian(window), "quote mid")
        # The set answers "seen?" in O(1); the deque says which id to forget first.
        self._trade_ids: deque[TradeId] = deque()
        self._seen_ids: set[TradeId] = set()
        self._last_ts_event: int | None = None
        self._last_ts_init: int | None = None
        self._stale = False
        self._counts: dict[QualityIssueKind, int] = dict.fromkeys(QualityIssueKind, 0)
        self._last_issue: QualityIssue | None = None

    def on_trade(self, trade: TradeTick, sequence: int | None = None) -> list[QualityIssue]:
        """Check one trade (``sequence``: the venue's number for it, if it has one)."""
        if trade.instrument_id is not self.instrument_id:  # the usual case, without a call
            self._check_instrument(trade.instrument_id)
        feed = self._trades
        feed.received += 1
        issues: list[QualityIssue] = []
        ts_event = trade.ts_event
        self._arrive(ts_event, trade.ts_init, issues)
        if self._remember(trade.trade_id):
            if sequence is not None:
                self._check_sequence(feed, sequence, ts_event, issues)
            self._check_time(feed, ts_event, issues)
            self._check_price(feed, trade.price, ts_event, issues)
        else:
            # The same trade again carries nothing new: its sequence, time and price were
            # checked the first time, so it is reported once, as a duplicate, and skipped.
            issues.append(
                self._issue(
                    _K.DUPLICATE,
                    ts_event,
                    f"trade id {trade.trade_id} seen again: expected a new trade id, found one"
                    f" of the last {self.config.dedup_capacity} trades",
                    feed=FeedKind.TRADES,
                    price=trade.price,
                    trade_id=trade.trade_id,
                )
            )
        return self._record(issues) if issues else issues

    def on_quote(self, quote: QuoteTick, sequence: int | None = None) -> list[QualityIssue]:
        """Check one quote (``sequence``: the venue's number for it, if it has one)."""
        self._check_instrument(quote.instrument_id)
        feed = self._quotes
        feed.received += 1
        issues: list[QualityIssue] = []
        ts_event = quote.ts_event
        bid, ask = quote.bid_price, quote.ask_price
        self._arrive(ts_event, quote.ts_init, issues)
        self._check_sequence(feed, sequence, ts_event, issues)
        self._check_time(feed, ts_event, issues)
        if bid >= ask:
            crossed = bid > ask
            issues.append(
                self._issue(
                    _K.CROSSED_QUOTE if crossed else _K.LOCKED_QUOTE,
                    ts_event,
                    f"{'crossed' if crossed else 'locked'} quote: expected bid < ask, found"
                    f" bid {bid} {'>' if crossed else '='} ask {ask}",
                    feed=FeedKind.QUOTES,
                    price=bid,
                    reference_price=ask,
                )
            )
        self._check_price(feed, (bid + ask) / _TWO, ts_event, issues)
        return self._record(issues)

    def on_time(self, now: int) -> list[QualityIssue]:
        """The clock (the one that stamps ``ts_init``) reached ``now``: report a stale feed."""
        last = self._last_ts_init
        if self._stale or last is None or now - last <= self.config.stale_after_ns:
            return []
        self._stale = True
        silence = now - last
        return self._record(
            [
                self._issue(
                    _K.STALE_FEED,
                    now,
                    f"feed stale: expected input at least every"
                    f" {_seconds(self.config.stale_after_ns)}, found none for {_seconds(silence)}"
                    f" (last ts_init {last}, now {now})",
                    gap_ns=silence,
                )
            ]
        )

    def reset_sequences(self) -> None:
        """Forget the last sequence numbers, for when the venue restarts its numbering."""
        self._trades.last_sequence = None
        self._quotes.last_sequence = None

    def status(self) -> QualityStatus:
        """A snapshot of this instrument's quality so far."""
        return QualityStatus(
            instrument_id=self.instrument_id,
            counts=MappingProxyType(dict(self._counts)),
            last_issue=self._last_issue,
            is_stale=self._stale,
            last_ts_event=self._last_ts_event,
            last_ts_init=self._last_ts_init,
            trades=self._trades.received,
            quotes=self._quotes.received,
        )

    def _check_instrument(self, instrument_id: InstrumentId) -> None:
        if instrument_id != self.instrument_id:
            raise ValueError(
                f"monitor expected ticks of {self.instrument_id}, found one of {instrument_id}"
            )

    def _arrive(self, ts_event: int, ts_init: int, issues: list[QualityIssue]) -> None:
        last = self._last_ts_init
        if self._stale and last is not None:
            self._stale = False
            issues.append(
                self._issue(
                    _K.FEED_RECOVERED,
                    ts_event,
                    f"feed recovered: input arrived after {_seconds(ts_init - last)} of silence",
                    gap_ns=ts_init - last,
                )
            )
        self._last_ts_event = ts_event
        if last is None or ts_init > last:
            self._last_ts_init = ts_init

    def _remember(self, trade_id: TradeId) -> bool:
        """Remember ``trade_id``; False if it is already remembered."""
        seen = self._seen_ids
        if trade_id in seen:
            return False
        ids = self._trade_ids
        if len(ids) == self.config.dedup_capacity:
            seen.discard(ids.popleft())
        ids.append(trade_id)
        seen.add(trade_id)
        return True

    def _check_sequence(
        self, feed: _Feed, sequence: int | None, ts_event: int, issues: list[QualityIssue]
    ) -> None:
        if sequence is None:
            return
        last = feed.last_sequence
        if last is None or sequence == last + 1:
            feed.last_sequence = sequence
            return
        expected = last + 1
        if sequence > expected:
            feed.last_sequence = sequence
            kind = _K.SEQUENCE_GAP
            what = f"{sequence - expected} missing"
        else:
            # The high-water mark stays: the next in-order message is then not a second issue.
            kind = _K.SEQUENCE_REGRESSION
            what = f"{expected - sequence} back"
        issues.append(
            self._issue(
                kind,
                ts_event,
                f"{feed.kind.lower()} sequence: expected {expected}, found {sequence} ({what})",
                feed=feed.kind,
                expected_seq=expected,
                found_seq=sequence,
            )
        )

    def _check_time(self, feed: _Feed, ts_event: int, issues: list[QualityIssue]) -> None:
        previous = feed.last_ts_event
        feed.last_ts_event = ts_event
        if previous is None:
            return
        step = ts_event - previous
        if step > self.config.max_gap_ns:
            issues.append(
                self._issue(
                    _K.TIME_GAP,
                    ts_event,
                    f"{feed.kind.lower()} time gap: expected at most"
                    f" {_seconds(self.config.max_gap_ns)} between inputs, found {_seconds(step)}"
                    f" (ts_event {previous} to {ts_event})",
                    feed=feed.kind,
                    gap_ns=step,
                )
            )
        elif step < 0:
            issues.append(
                self._issue(
                    _K.OUT_OF_ORDER,
                    ts_event,
                    f"{feed.kind.lower()} out of order: expected ts_event >= {previous},"
                    f" found {ts_event} ({_seconds(-step)} earlier)",
                    feed=feed.kind,
                    gap_ns=step,
                )
            )

    def _check_price(
        self, feed: _Feed, price: Decimal, ts_event: int, issues: list[QualityIssue]
    ) -> None:
        reference = feed.reference
        median = reference.value
        # Compared as |p - m| * 10_000 > bps * m, so no division and no rounding.
        if (
            median is not None
            and median > 0
            and abs(price - median) * _BPS > self.config.spike_threshold_bps * median
        ):
            deviation = abs(price - median) * _BPS / median
            issues.append(
                self._issue(
                    _K.PRICE_SPIKE,
                    ts_event,
                    f"{feed.label} spike: expected within {self.config.spike_threshold_bps} bps"
                    f" of the median {median} of the last {reference.window}, found {price}"
                    f" ({deviation:.1f} bps away)",
                    feed=feed.kind,
                    price=price,
                    reference_price=median,
                )
            )
        # Spikes enter the window too: the median ignores a lone outlier, and a real jump
        # becomes the reference once it fills half the window.
        reference.update(price)

    def _issue(
        self,
        kind: QualityIssueKind,
        ts_event: int,
        detail: str,
        *,
        feed: FeedKind | None = None,
        expected_seq: int | None = None,
        found_seq: int | None = None,
        gap_ns: int | None = None,
        price: Decimal | None = None,
        reference_price: Decimal | None = None,
        trade_id: TradeId | None = None,
    ) -> QualityIssue:
        return QualityIssue(
            self.instrument_id,
            kind,
            kind.severity,
            ts_event,
            detail,
            feed,
            expected_seq,
            found_seq,
            gap_ns,
            price,
            reference_price,
            trade_id,
        )

    def _record(self, issues: list[QualityIssue]) -> list[QualityIssue]:
        if issues:
            counts = self._counts
            for issue in issues:
                counts[issue.kind] += 1
            self._last_issue = issues[-1]
        return issues


class QualityMonitor:
    """A FeedMonitor per instrument, each made at the instrument's first input."""

    __slots__ = ("_configs", "_default", "_monitors")

    def __init__(
        self,
        config: QualityConfig | None = None,
        per_instrument: Mapping[InstrumentId, QualityConfig] | None = None,
    ) -> None:
        self._default = config if config is not None else QualityConfig()
        self._configs = dict(per_instrument or {})
        self._monitors: dict[InstrumentId, FeedMonitor] = {}

    def monitor_for(self, instrument_id: InstrumentId) -> FeedMonitor:
        """The instrument's monitor, made with its config (or the default) if new."""
        monitor = self._monitors.get(instrument_id)
        if monitor is None:
            config = self._configs.get(instrument_id, self._default)
            monitor = self._monitors[instrument_id] = FeedMonitor(instrument_id, config)
        return monitor

    def on_trade(self, trade: TradeTick, sequence: int | None = None) -> list[QualityIssue]:
        """Check one trade with its instrument's monitor."""
        return self.monitor_for(trade.instrument_id).on_trade(trade, sequence)

    def on_quote(self, quote: QuoteTick, sequence: int | None = None) -> list[QualityIssue]:
        """Check one quote with its instrument's monitor."""
        return self.monitor_for(quote.instrument_id).on_quote(quote, sequence)

    def on_time(self, now: int) -> list[QualityIssue]:
        """Report every instrument whose feed went stale by ``now``."""
        issues: list[QualityIssue] = []
        for monitor in self._monitors.values():
            issues += monitor.on_time(now)
        return issues

    def statuses(self) -> list[QualityStatus]:
        """A snapshot per instrument seen so far, in order of first input."""
        return [monitor.status() for monitor in self._monitors.values()]
