"""Thresholds of the quality checks, one config per instrument (or one for all)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["QualityConfig"]

_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class QualityConfig:
    """How much silence, disorder and price movement a feed may show before it is reported.

    The defaults suit a liquid crypto or FX feed: a minute of silence is news, and a
    print 1% away from the median of the last 50 is suspect. The real files in
    shared/data stay well inside them (largest deviation about 12 bps, on BTCUSDT).
    """

    max_gap_ns: int = 60 * _SECOND
    """TIME_GAP when ``ts_event`` steps forward by more than this between two inputs."""
    stale_after_ns: int = 60 * _SECOND
    """STALE_FEED when ``on_time(now)`` finds no input for more than this (on ``ts_init``)."""
    spike_window: int = 50
    """Prices in the rolling median that PRICE_SPIKE measures against; also the warm-up."""
    spike_threshold_bps: Decimal = Decimal(100)
    """PRICE_SPIKE when a price is more than this many basis points from the median."""
    dedup_capacity: int = 10_000
    """Trade ids remembered for DUPLICATE; the oldest is forgotten first."""

    def __post_init__(self) -> None:
        for name in ("max_gap_ns", "stale_after_ns", "spike_window", "dedup_capacity"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, was {value!r}")
        if not isinstance(self.spike_threshold_bps, Decimal) or self.spike_threshold_bps <= 0:
            raise ValueError(
                f"spike_threshold_bps must be a positive Decimal, was {self.spike_threshold_bps!r}"
            )
