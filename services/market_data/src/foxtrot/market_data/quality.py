"""Data quality for what market data publishes: issues counted, logged and published."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Final

from prometheus_client import Counter, Gauge

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    DataQualityIssue,
    InstrumentQuality,
    QualityQuery,
    QualityReply,
)
from foxtrot.common.publishing import Publisher, derived_id, now_ns
from foxtrot.common.streams import MARKET_DATA
from foxtrot.core import data as core
from foxtrot.core.quality import (
    QualityConfig,
    QualityIssue,
    QualityIssueKind,
    QualityMonitor,
    QualitySeverity,
)

__all__ = ["QualityWatch", "quality_reply"]

# Root of issue message ids: the same issue found again (a redelivery) gets the same id.
_QUALITY_IDS: Final = uuid.UUID("9f5b1f0c-2b64-4d1a-8d0c-5d3c1f6a7e21")

log = logging.getLogger(__name__)
ISSUES = Counter(
    "foxtrot_market_data_quality_issues", "Data quality issues found", ["instrument_id", "kind"]
)
STALE = Gauge(
    "foxtrot_market_data_feed_stale", "1 while an instrument's feed is stale", ["instrument_id"]
)


class QualityWatch:
    """Runs the quality rules on one stream of input (a replay, or live input).

    A replay and live input each get their own watch: a replay's staleness would be judged
    against its records' time, which the wall clock must not see.
    """

    def __init__(self, publish: Publisher, config: QualityConfig | None = None) -> None:
        self.publish = publish
        self.monitor = QualityMonitor(config)

    async def on_trade(self, trade: core.TradeTick) -> None:
        """Check a trade and report what is wrong with it."""
        await self.report(self.check_trade(trade))

    async def on_quote(self, quote: core.QuoteTick, sequence: int | None = None) -> None:
        """Check a quote and report what is wrong with it."""
        await self.report(self.check_quote(quote, sequence))

    def check_trade(self, trade: core.TradeTick) -> list[QualityIssue]:
        """What is wrong with a trade, for :meth:`report`; a numeric trade id is the venue's
        sequence (Binance and most crypto venues number trades consecutively), so a jump in
        it is a gap."""
        trade_id = trade.trade_id
        sequence = int(trade_id) if trade_id.isdigit() else None
        return self.monitor.on_trade(trade, sequence)

    def check_quote(self, quote: core.QuoteTick, sequence: int | None = None) -> list[QualityIssue]:
        """What is wrong with a quote, for :meth:`report`."""
        return self.monitor.on_quote(quote, sequence)

    async def on_time(self, now: int) -> None:
        """Check every instrument for staleness at ``now`` (the clock of ``ts_init``)."""
        await self.report(self.monitor.on_time(now))

    async def report(self, issues: Sequence[QualityIssue]) -> None:
        """Count, log and publish issues (the rules' own, or a venue feed's gaps)."""
        for issue in issues:
            instrument = str(issue.instrument_id)
            ISSUES.labels(instrument, issue.kind.value).inc()
            if issue.kind in (QualityIssueKind.STALE_FEED, QualityIssueKind.FEED_RECOVERED):
                STALE.labels(instrument).set(issue.kind is QualityIssueKind.STALE_FEED)
            level = logging.WARNING if issue.severity is not QualitySeverity.INFO else logging.INFO
            log.log(
                level,
                "%s %s: %s",
                instrument,
                issue.kind.value,
                issue.detail,
                extra={"instrument_id": instrument, "quality_issue": issue.kind.value},
            )
            key = f"quality:{instrument}:{issue.kind.value}:{issue.ts_event}:{issue.detail}"
            message = DataQualityIssue.from_core(
                issue, ts_init=now_ns(), message_id=derived_id(_QUALITY_IDS, key)
            )
            await self.publish(subjects.quality(issue.instrument_id), message, MARKET_DATA)


def quality_reply(query: QualityQuery, *watches: QualityWatch) -> QualityReply:
    """Status of every instrument the watches have seen (or of one)."""
    statuses = [
        InstrumentQuality.from_core(status)
        for watch in watches
        for status in watch.monitor.statuses()
        if query.instrument_id in (None, str(status.instrument_id))
    ]
    return QualityReply(instruments=tuple(sorted(statuses, key=lambda s: s.instrument_id)))
