"""What the quality checks report: kinds, severities, issues and a per-instrument summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from foxtrot.core.identifiers import InstrumentId, TradeId

__all__ = ["FeedKind", "QualityIssue", "QualityIssueKind", "QualitySeverity", "QualityStatus"]


class FeedKind(StrEnum):
    """Which of an instrument's feeds an issue was found on."""

    TRADES = "TRADES"
    QUOTES = "QUOTES"


class QualitySeverity(StrEnum):
    """How much an issue matters: INFO is news, WARNING is suspect data, ERROR is bad data."""

    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class QualityIssueKind(StrEnum):
    """The rule that found an issue; the package docstring defines each one."""

    SEQUENCE_GAP = "SEQUENCE_GAP"
    SEQUENCE_REGRESSION = "SEQUENCE_REGRESSION"
    TIME_GAP = "TIME_GAP"
    STALE_FEED = "STALE_FEED"
    FEED_RECOVERED = "FEED_RECOVERED"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    DUPLICATE = "DUPLICATE"
    CROSSED_QUOTE = "CROSSED_QUOTE"
    LOCKED_QUOTE = "LOCKED_QUOTE"
    PRICE_SPIKE = "PRICE_SPIKE"

    @property
    def severity(self) -> QualitySeverity:
        """The severity every issue of this kind carries."""
        return _SEVERITY[self]


_SEVERITY: Mapping[QualityIssueKind, QualitySeverity] = {
    # Data was lost, the feed is dead or a quote is impossible: do not trust what follows.
    QualityIssueKind.SEQUENCE_GAP: QualitySeverity.ERROR,
    QualityIssueKind.STALE_FEED: QualitySeverity.ERROR,
    QualityIssueKind.CROSSED_QUOTE: QualitySeverity.ERROR,
    # Suspect but often explainable (a replayed message, a halt, a locked FX market).
    QualityIssueKind.SEQUENCE_REGRESSION: QualitySeverity.WARNING,
    QualityIssueKind.TIME_GAP: QualitySeverity.WARNING,
    QualityIssueKind.OUT_OF_ORDER: QualitySeverity.WARNING,
    QualityIssueKind.DUPLICATE: QualitySeverity.WARNING,
    QualityIssueKind.LOCKED_QUOTE: QualitySeverity.WARNING,
    QualityIssueKind.PRICE_SPIKE: QualitySeverity.WARNING,
    QualityIssueKind.FEED_RECOVERED: QualitySeverity.INFO,
}


@dataclass(frozen=True, slots=True)
class QualityIssue:
    """One breach of a quality rule, with what was expected and what was found.

    ``ts_event`` is the ``ts_event`` of the input that revealed the issue, or for
    ``STALE_FEED`` the ``now`` given to ``on_time``. ``gap_ns`` is the time the rule
    measured: the step in ``ts_event`` for TIME_GAP (positive) and OUT_OF_ORDER (negative),
    the silence on Foxtrot's clock (``ts_init``) for STALE_FEED and FEED_RECOVERED.
    ``feed`` is None for STALE_FEED and FEED_RECOVERED, which concern the whole instrument.
    """

    instrument_id: InstrumentId
    kind: QualityIssueKind
    severity: QualitySeverity
    ts_event: int
    detail: str
    feed: FeedKind | None = None
    expected_seq: int | None = None
    found_seq: int | None = None
    gap_ns: int | None = None
    price: Decimal | None = None
    reference_price: Decimal | None = None
    trade_id: TradeId | None = None


@dataclass(frozen=True, slots=True)
class QualityStatus:
    """One instrument's data quality at a glance, for a gateway or a health page.

    ``counts`` has every kind (zero when never seen); ``last_ts_event`` and
    ``last_ts_init`` are those of the latest input to arrive, None before the first.
    """

    instrument_id: InstrumentId
    counts: Mapping[QualityIssueKind, int]
    last_issue: QualityIssue | None
    is_stale: bool
    last_ts_event: int | None
    last_ts_init: int | None
    trades: int
    quotes: int

    @property
    def issue_count(self) -> int:
        """Issues of every kind reported so far."""
        return sum(self.counts.values())
