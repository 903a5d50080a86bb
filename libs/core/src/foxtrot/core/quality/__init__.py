"""Market-data quality: streaming checks that say when a feed's data should not be trusted.

A :class:`FeedMonitor` watches one instrument; :class:`QualityMonitor` keeps one per
instrument. Give it every trade and quote as it arrives (with the venue's sequence
number when the venue has one) and call ``on_time(now)`` as the clock moves; each call
returns the :class:`QualityIssue` records it found, usually none. ``status()`` sums them
up for a gateway. The checks never drop or change data: deciding what to do with a
suspect tick is the caller's business.

An instrument's trades and its quotes are two feeds with their own sequence numbers,
timestamps and price levels, so the sequence, time and price rules run on each feed
separately. Staleness is about the instrument: any input proves it alive. Thresholds
come from :class:`QualityConfig`; "more than" below is strict, so a value exactly at a
threshold is not an issue.

The rules (severity in brackets):

- ``SEQUENCE_GAP`` [ERROR]: the feed's last sequence number was ``n`` and the next one is
  ``n + k`` with ``k > 1``; ``expected_seq = n + 1``, ``found_seq = n + k``. The
  sequence continues from ``n + k``.
- ``SEQUENCE_REGRESSION`` [WARNING]: the next number is ``<= n`` (a repeat or a step back).
  The high-water mark ``n`` is kept, so a stray old message is one issue and the
  in-order message after it none. If a venue restarts its numbering (after a
  reconnect), call ``reset_sequences()``. Inputs without a number skip both rules;
  the first number of a feed sets the baseline.
- ``TIME_GAP`` [WARNING]: an input's ``ts_event`` is more than ``max_gap_ns`` after the
  previous input's on the same feed (``gap_ns`` = the step). It is found when input
  resumes, so it records a hole in the data the same way live and in replay.
- ``STALE_FEED`` [ERROR]: ``on_time(now)`` finds no input of any feed for more than
  ``stale_after_ns``, measured on Foxtrot's clock: ``now - ts_init`` of the latest input
  (``now`` must come from the clock that stamps ``ts_init``). Reported once per
  episode; the next input reports ``FEED_RECOVERED`` [INFO] with the silence as
  ``gap_ns``, and a new episode can start. An instrument that has sent nothing yet is
  not stale: the watch starts at its first input. A long live silence therefore shows
  as STALE_FEED while it lasts, then FEED_RECOVERED and TIME_GAP when input resumes.
- ``OUT_OF_ORDER`` [WARNING]: an input's ``ts_event`` is earlier than the previous
  input's on the same feed (``gap_ns`` < 0). Equal timestamps are normal (one taker
  order filling several makers) and are not an issue. The comparison is with the
  previous input, not the latest time seen, so one wrongly stamped input is one issue,
  not one per input until the clock catches up.
- ``DUPLICATE`` [WARNING]: a trade whose ``trade_id`` is among the last
  ``dedup_capacity`` distinct trade ids of the instrument. The duplicate is not checked
  further (its sequence, time and price were checked the first time) and does not
  change any state, so a repeated trade is exactly one issue. Memory is bounded: a
  deque and a set of at most ``dedup_capacity`` ids, the oldest forgotten first.
- ``CROSSED_QUOTE`` [ERROR]: bid > ask. ``LOCKED_QUOTE`` [WARNING]: bid == ask, which
  real FX feeds show now and then (TrueFX USD/JPY has one); ``price`` is the bid and
  ``reference_price`` the ask.
- ``PRICE_SPIKE`` [WARNING]: a trade price, or a quote's mid ``(bid + ask) / 2``, more
  than ``spike_threshold_bps`` basis points from the median of the feed's previous
  ``spike_window`` prices: ``|p - m| * 10_000 > bps * m``, exact in Decimal
  (``reference_price`` = m). The first ``spike_window`` prices of a feed only fill the
  window. Every price, spikes included, then enters it: the median ignores a lone bad
  print, and a genuine jump is flagged on at most about ``spike_window / 2`` prints
  until it becomes the reference. A median in basis points rather than a z-score
  because prices move in ticks: when more than half the window sits at one price (common),
  the median absolute deviation is zero and a robust z-score is infinite on a one-tick
  move, while a standard deviation is itself pulled up by the spike it should find.

Not issues: identical consecutive quotes (most venues republish an unchanged top of
book), trades with the same price, size and timestamp but different trade ids (one
order filling several makers), equal consecutive timestamps, a wide spread, and
anything before an instrument's first input.

Cost per input: O(1) for every rule but the spike median, which keeps a sorted copy of
its window (two binary searches and a shift of at most ``spike_window`` references);
memory per instrument is bounded by ``dedup_capacity`` trade ids plus two windows of
``spike_window`` prices.
"""

from foxtrot.core.quality.config import QualityConfig
from foxtrot.core.quality.issues import (
    FeedKind,
    QualityIssue,
    QualityIssueKind,
    QualitySeverity,
    QualityStatus,
)
from foxtrot.core.quality.monitor import FeedMonitor, QualityMonitor
from foxtrot.core.quality.reference import RollingMedian

__all__ = [
    "FeedKind",
    "FeedMonitor",
    "QualityConfig",
    "QualityIssue",
    "QualityIssueKind",
    "QualityMonitor",
    "QualitySeverity",
    "QualityStatus",
    "RollingMedian",
]
