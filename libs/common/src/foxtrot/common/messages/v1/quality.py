"""v1 market data quality: issues as market_data finds them, and the per-instrument status."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import DecimalStr, InstrumentIdStr, UnixNanos
from foxtrot.core.quality import (
    FeedKind,
    QualityIssue,
    QualityIssueKind,
    QualitySeverity,
    QualityStatus,
)

__all__ = ["DataQualityIssue", "InstrumentQuality", "QualityQuery", "QualityReply"]


class DataQualityIssue(Message):
    """A feed broke a quality rule. Subject: md.v1.quality.{venue}.{symbol}.

    The rules are defined in ``foxtrot.core.quality``; the data itself is never changed.
    """

    type: Literal["DataQualityIssue"] = "DataQualityIssue"
    instrument_id: InstrumentIdStr
    kind: QualityIssueKind
    severity: QualitySeverity
    detail: str = Field(description="what was expected and what was found")
    feed: FeedKind | None = Field(default=None, description="trades or quotes; null: both")
    expected_seq: int | None = None
    found_seq: int | None = None
    gap_ns: int | None = Field(default=None, description="the time step the rule measured")
    price: DecimalStr | None = None
    reference_price: DecimalStr | None = None
    trade_id: str | None = None

    @classmethod
    def from_core(cls, issue: QualityIssue, **envelope: Any) -> Self:
        """Wrap a domain issue for the wire."""
        return cls(
            instrument_id=str(issue.instrument_id),
            kind=issue.kind,
            severity=issue.severity,
            detail=issue.detail,
            feed=issue.feed,
            expected_seq=issue.expected_seq,
            found_seq=issue.found_seq,
            gap_ns=issue.gap_ns,
            price=issue.price,
            reference_price=issue.reference_price,
            trade_id=issue.trade_id,
            ts_event=issue.ts_event,
            **envelope,
        )


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QualityQuery(_Frozen):
    """Ask market data for quality status. Subject: qry.v1.md.quality."""

    instrument_id: InstrumentIdStr | None = Field(default=None, description="null: all")


class InstrumentQuality(_Frozen):
    """One instrument's data quality at a glance."""

    instrument_id: str
    status: Literal["OK", "DEGRADED", "STALE"] = Field(
        description="STALE: no input lately; DEGRADED: an ERROR-severity issue was the last"
    )
    counts: dict[QualityIssueKind, int]
    last_issue_kind: QualityIssueKind | None
    last_issue_detail: str | None
    last_ts_event: UnixNanos | None
    trades: int
    quotes: int

    @classmethod
    def from_core(cls, status: QualityStatus) -> Self:
        """Summarise a domain status."""
        last = status.last_issue
        summary: Literal["OK", "DEGRADED", "STALE"] = "OK"
        if status.is_stale:
            summary = "STALE"
        elif last is not None and last.severity is QualitySeverity.ERROR:
            summary = "DEGRADED"
        return cls(
            instrument_id=str(status.instrument_id),
            status=summary,
            counts=dict(status.counts),
            last_issue_kind=last.kind if last else None,
            last_issue_detail=last.detail if last else None,
            last_ts_event=status.last_ts_event,
            trades=status.trades,
            quotes=status.quotes,
        )


class QualityReply(_Frozen):
    """Quality status per instrument."""

    type: Literal["QualityReply"] = "QualityReply"
    instruments: tuple[InstrumentQuality, ...]
