"""Holes in a live feed, as the feed reports them: which instrument, what kind, which ids.

Three kinds, each found a different way:

- ``trade``: Binance numbers a symbol's trades consecutively, so a trade whose id is more
  than one past the last one seen shows exactly which trades never arrived.
- ``depth``: a diff event that does not start right after the book's last update id; the
  book is rebuilt from a new snapshot, and the gap names the update ids skipped.
- ``disconnect``: the time between losing the connection and subscribing again, for every
  instrument that was subscribed when it dropped. Its ids are unknown (None); trades missed
  meanwhile show up as a ``trade`` gap once the next trade arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from foxtrot.core.data import TradeTick
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.binance.book_builder import DepthGap

__all__ = ["FeedGap", "GapKind", "depth_gap", "disconnect_gap", "trade_gap"]


class GapKind(StrEnum):
    """What kind of hole a :class:`FeedGap` is."""

    TRADE = "trade"
    DEPTH = "depth"
    DISCONNECT = "disconnect"


@dataclass(frozen=True, slots=True)
class FeedGap:
    """Market data of one instrument that the feed knows it missed.

    ``from_id``/``to_id`` are the first and last missing venue ids (trade ids, or depth
    update ids) when known; ``ts_start``/``ts_end`` (ns) bracket the hole: the last moment
    the data was known complete and the moment it resumed or the hole was seen.
    """

    instrument_id: InstrumentId
    kind: GapKind
    detail: str
    from_id: int | None
    to_id: int | None
    ts_start: int
    ts_end: int


def trade_gap(last_id: int, last_ts: int, trade: TradeTick) -> FeedGap | None:
    """The trades missing between the last trade id seen and ``trade``, or None."""
    trade_id = int(trade.trade_id)
    if trade_id <= last_id + 1:
        return None
    first, last = last_id + 1, trade_id - 1
    detail = f"{last - first + 1} trade ids never arrived: {first}..{last}"
    return FeedGap(trade.instrument_id, GapKind.TRADE, detail, first, last, last_ts, trade.ts_event)


def depth_gap(instrument_id: InstrumentId, gap: DepthGap, since: int, now: int) -> FeedGap:
    """The update ids a diff event skipped."""
    detail = (
        f"depth update ids {gap.expected}..{gap.first - 1} never arrived "
        f"(the next event was {gap.first}..{gap.final}); rebuilding from a snapshot"
    )
    return FeedGap(instrument_id, GapKind.DEPTH, detail, gap.expected, gap.first - 1, since, now)


def disconnect_gap(instrument_id: InstrumentId, reason: str, lost_at: int, now: int) -> FeedGap:
    """The time a dropped connection carried nothing."""
    detail = f"{reason}; no data for {(now - lost_at) / 1e9:.3f} s until resubscribed"
    return FeedGap(instrument_id, GapKind.DISCONNECT, detail, None, None, lost_at, now)
