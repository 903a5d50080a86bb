"""Volume-weighted indicators: OBV, VWAP, MFI."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from foxtrot.core.data import Bar
from foxtrot.core.indicators.base import (
    BarVolumeIndicator,
    CloseVolumeIndicator,
    FloatArray,
    Indicator,
    as_series,
    check_choice,
    check_period,
    nan_series,
)
from foxtrot.core.indicators.rolling import RollingSums, rolling_sums

__all__ = ["MFI", "OBV", "VWAP", "VWAPAnchor"]

#: When VWAP starts over: at each UTC midnight, or never.
VWAPAnchor = Literal["day", "none"]

_DAY_NS = 86_400_000_000_000


class OBV(CloseVolumeIndicator):
    """On-balance volume: the first volume, then plus the volume of each bar that closes up
    and minus that of each bar that closes down (TA-Lib's start)."""

    __slots__ = ("_previous",)
    name = "obv"

    def __init__(self) -> None:
        self.warmup = 1
        self.reset()

    def reset(self) -> None:
        self._previous = 0.0
        self.count = 0
        self.value = None

    def update(self, close: float, volume: float) -> None:
        self.count += 1
        if self.value is None:
            self.value = volume
        elif close > self._previous:
            self.value += volume
        elif close < self._previous:
            self.value -= volume
        self._previous = close

    def batch(self, close: npt.ArrayLike, volume: npt.ArrayLike) -> FloatArray:
        """OBV after each bar."""
        closes, volumes = as_series(close, volume, names=self.inputs)
        if len(closes) == 0:
            return nan_series(0)
        after, before = closes[1:], closes[:-1]
        signed = np.where(after > before, volumes[1:], np.where(after < before, -volumes[1:], 0.0))
        return np.cumsum(np.concatenate((volumes[:1], signed)))


class VWAP(Indicator):
    """Volume-weighted average of typical prices (high + low + close) / 3 since the anchor:
    each UTC day (``anchor="day"``, the default) or the first bar (``"none"``).

    A bar belongs to the UTC day in which its interval ends: ``ts_event`` is the close time,
    so a bar closing at exactly 00:00 is the previous day's last. While the session has no
    volume yet, VWAP is the typical price of the latest bar.
    """

    __slots__ = ("_day", "_price_volume", "_volume", "anchor")
    name = "vwap"
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume", "ts_event")

    def __init__(self, *, anchor: VWAPAnchor = "day") -> None:
        check_choice("anchor", anchor, ("day", "none"))
        self.anchor = anchor
        self.warmup = 1
        self.reset()

    def reset(self) -> None:
        self._day: int | None = None
        self._price_volume = self._volume = 0.0
        self.count = 0
        self.value = None

    def update(self, high: float, low: float, close: float, volume: float, ts_event: int) -> None:
        """Take one bar's high, low, close, volume and close time (ns since the epoch, UTC)."""
        self.count += 1
        typical = (high + low + close) / 3.0
        if self.anchor == "day":
            day = (ts_event - 1) // _DAY_NS
            if day != self._day:
                self._day = day
                self._price_volume = self._volume = 0.0
        self._price_volume += typical * volume
        self._volume += volume
        self.value = self._price_volume / self._volume if self._volume != 0.0 else typical

    def handle_bar(self, bar: Bar) -> None:
        self.update(
            float(bar.high), float(bar.low), float(bar.close), float(bar.volume), bar.ts_event
        )

    def batch(
        self,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
        ts_event: npt.ArrayLike,
    ) -> FloatArray:
        """VWAP after each bar (cumulative sums per session; a Python loop over sessions)."""
        highs, lows, closes, volumes = as_series(high, low, close, volume, names=self.inputs[:4])
        stamps = np.asarray(ts_event, dtype=np.int64)
        if stamps.shape != closes.shape:
            raise ValueError(f"ts_event must have {len(closes)} values, had {stamps.shape}")
        typical = (highs + lows + closes) / 3.0
        weighted = typical * volumes
        starts = [0]
        if self.anchor == "day" and len(stamps):
            days = (stamps - 1) // _DAY_NS
            starts += (np.flatnonzero(days[1:] != days[:-1]) + 1).tolist()
        out = nan_series(len(closes))
        for start, end in zip(starts, [*starts[1:], len(closes)], strict=True):
            price_volume = np.cumsum(weighted[start:end])
            cumulative = np.cumsum(volumes[start:end])
            with np.errstate(divide="ignore", invalid="ignore"):
                out[start:end] = np.where(
                    cumulative != 0.0, price_volume / cumulative, typical[start:end]
                )
        return out


#: Typical prices closer than this times their magnitudes count as unchanged: (high + low +
#: close) / 3 of two bars whose decimal prices sum to the same total can differ in the last
#: bit. TA-Lib 0.8.2 draws the line at the same place (measured, not documented).
_SAME_TYPICAL_PRICE = 1e-14


class MFI(BarVolumeIndicator):
    """Money flow index: 100 * money flow of up bars / all money flow over ``period`` bars,
    money flow being typical price * volume and up (down) meaning a typical price above
    (below) the bar before's by more than 1e-14 of the two (as TA-Lib); 0 with no flow."""

    __slots__ = ("_falling", "_previous", "_rising", "period")
    name = "mfi"

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self.warmup = period + 1
        self._rising = RollingSums(period)
        self._falling = RollingSums(period)
        self.reset()

    def reset(self) -> None:
        self._rising.reset()
        self._falling.reset()
        self._previous: float | None = None
        self.count = 0
        self.value = None

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        self.count += 1
        typical = (high + low + close) / 3.0
        previous = self._previous
        self._previous = typical
        if previous is None:
            return
        flow = typical * volume
        change = typical - previous
        noise = _SAME_TYPICAL_PRICE * (abs(typical) + abs(previous))
        self._rising.update(flow if change > noise else 0.0)
        if self._falling.update(flow if change < -noise else 0.0):
            rising = self._rising.total
            both = rising + self._falling.total
            self.value = 100.0 * (rising / both) if both != 0.0 else 0.0

    def batch(
        self,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
    ) -> FloatArray:
        """MFI of each bar."""
        highs, lows, closes, volumes = as_series(high, low, close, volume, names=self.inputs)
        typical = (highs + lows + closes) / 3.0
        out = nan_series(len(typical))
        if len(typical) < 2:
            return out
        flow = typical[1:] * volumes[1:]
        change = typical[1:] - typical[:-1]
        noise = _SAME_TYPICAL_PRICE * (np.abs(typical[1:]) + np.abs(typical[:-1]))
        rising = rolling_sums(np.where(change > noise, flow, 0.0), self.period).total
        falling = rolling_sums(np.where(change < -noise, flow, 0.0), self.period).total
        both = rising + falling
        with np.errstate(divide="ignore", invalid="ignore"):
            out[1:] = np.where(both != 0.0, 100.0 * (rising / both), 0.0)
        return out
