"""Bars built from trades (or from quotes' mid prices), one aggregator per instrument and spec.

Rules, the same live and in backtests:

- **Time bars** (``1s`` to ``1d``, dividing a day) cover ``[start, start + interval)``, with
  starts aligned to the interval since the epoch (so to UTC midnight). ``ts_event`` is the
  bar's end; ``ts_open`` its start. A bar closes as soon as input at or after its end
  arrives, or when :meth:`TimeBarAggregator.on_time` is told the clock has passed its end,
  so it closes on time even when no trade comes. The first bar covers only the part of its
  interval after the first input.
- **Empty intervals**: ``EmptyBarPolicy.CARRY_FORWARD`` (the default) emits a flat bar at the
  previous close with zero volume, no VWAP and zero trades, so time stays continuous;
  ``SKIP`` emits nothing. Nothing is emitted before the first input. A silence longer than
  ``max_carry`` intervals (default 1,440) is not filled: the bars resume at the next input
  and the silence is counted in ``gaps``, so a stalled feed cannot flood the bus.
- **Late input** (older than the start of the bar being built, i.e. for a bar already
  closed) is not added: closed bars never change. It is counted in ``late``.
- **Out-of-order input within the open bar** is added: ``open`` is the price of the
  earliest input by ``ts``, ``close`` of the latest (ties go to arrival order).
- **Tick, volume and value bars** are built in arrival order and close on the input that
  brings the count, the summed size or the summed notional (price x size) to the threshold
  or past it; that input belongs wholly to the closing bar (no trade is split).
- **Quotes** feed time and tick bars with the mid price, with zero volume (so no VWAP) and
  one update counted per quote. Volume and value bars need trades.
- VWAP is notional / volume, computed in Decimal.

An aggregator's whole state is a plain JSON-able value (:meth:`state`), and an aggregator
built from it (:meth:`restore`) goes on exactly as the original would have: that is how
market data hands an instrument from one replica to another without losing or double
counting a trade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from foxtrot.core.bar_spec import BarKind, BarSpec
from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "BarAggregator",
    "EmptyBarPolicy",
    "ThresholdBarAggregator",
    "TimeBarAggregator",
    "aggregator_for",
]

_ZERO = Decimal(0)
_TWO = Decimal(2)


class EmptyBarPolicy(StrEnum):
    """What a time bar aggregator emits for an interval without input."""

    CARRY_FORWARD = "CARRY_FORWARD"
    SKIP = "SKIP"


class BarAggregator(Protocol):
    """Turns trades, quotes and the passing of time into finished bars."""

    spec: BarSpec
    late: int

    def on_trade(self, price: Decimal, size: Decimal, ts: int) -> list[Bar]:
        """Take a trade; return the bars it finished."""
        ...

    def on_quote(self, bid: Decimal, ask: Decimal, ts: int) -> list[Bar]:
        """Take a quote (its mid price); return the bars it finished."""
        ...

    def on_time(self, now: int) -> list[Bar]:
        """The clock reached ``now``; return the bars that ended by then."""
        ...

    def state(self) -> dict[str, object]:
        """Everything needed to go on elsewhere, as plain JSON-able values."""
        ...

    def restore(self, state: dict[str, object]) -> None:
        """Continue from a :meth:`state` taken from an aggregator of the same spec."""
        ...


@dataclass(slots=True)
class _Accumulator:
    open: Decimal = _ZERO
    high: Decimal = _ZERO
    low: Decimal = _ZERO
    close: Decimal = _ZERO
    volume: Decimal = _ZERO
    notional: Decimal = _ZERO
    count: int = 0
    ts_first: int = 0
    ts_last: int = 0

    def add(self, price: Decimal, size: Decimal, ts: int) -> None:
        if self.count == 0:
            self.open = self.high = self.low = self.close = price
            self.ts_first = self.ts_last = ts
        else:
            if price > self.high:
                self.high = price
            elif price < self.low:
                self.low = price
            if ts < self.ts_first:
                self.open, self.ts_first = price, ts
            if ts >= self.ts_last:
                self.close, self.ts_last = price, ts
        if size:
            self.volume += size
            self.notional += price * size
        self.count += 1

    def state(self) -> list[str | int]:
        return [
            str(self.open),
            str(self.high),
            str(self.low),
            str(self.close),
            str(self.volume),
            str(self.notional),
            self.count,
            self.ts_first,
            self.ts_last,
        ]

    @classmethod
    def restored(cls, state: list[str | int]) -> _Accumulator:
        o, h, lo, c, v, n, count, first, last = state
        return cls(
            Decimal(o),
            Decimal(h),
            Decimal(lo),
            Decimal(c),
            Decimal(v),
            Decimal(n),
            int(count),
            int(first),
            int(last),
        )

    def bar(
        self, instrument_id: InstrumentId, spec: str, ts_open: int, ts_event: int, ts_init: int
    ) -> Bar:
        vwap = self.notional / self.volume if self.volume else None
        return Bar(
            instrument_id,
            spec,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            ts_event,
            ts_init,
            vwap,
            self.count,
            ts_open,
        )


@dataclass(slots=True)
class TimeBarAggregator:
    """Time bars for one instrument and spec; see the module's rules."""

    instrument_id: InstrumentId
    spec: BarSpec
    empty: EmptyBarPolicy = EmptyBarPolicy.CARRY_FORWARD
    max_carry: int = 1_440
    late: int = 0
    gaps: int = 0
    _interval: int = field(init=False)
    _label: str = field(init=False)
    _start: int | None = None
    _acc: _Accumulator = field(default_factory=_Accumulator)
    _last_close: Decimal | None = None

    def __post_init__(self) -> None:
        self._interval = self.spec.interval_ns
        self._label = str(self.spec)

    def on_trade(self, price: Decimal, size: Decimal, ts: int) -> list[Bar]:
        """Take a trade; return the bars it finished."""
        return self._on_input(price, size, ts)

    def on_quote(self, bid: Decimal, ask: Decimal, ts: int) -> list[Bar]:
        """Take a quote's mid price; return the bars it finished."""
        return self._on_input((bid + ask) / _TWO, _ZERO, ts)

    def on_time(self, now: int) -> list[Bar]:
        """Close every bar that ended at or before ``now``."""
        if self._start is None:
            return []
        return self._close_until(now)

    def state(self) -> dict[str, object]:
        """Everything needed to go on elsewhere, as plain JSON-able values."""
        last = None if self._last_close is None else str(self._last_close)
        return {
            "start": self._start,
            "acc": self._acc.state(),
            "last_close": last,
            "late": self.late,
            "gaps": self.gaps,
        }

    def restore(self, state: dict[str, object]) -> None:
        """Continue from a :meth:`state` taken from an aggregator of the same spec."""
        start, last = state["start"], state["last_close"]
        self._start = None if start is None else int(start)  # type: ignore[call-overload]
        self._acc = _Accumulator.restored(state["acc"])  # type: ignore[arg-type]
        self._last_close = None if last is None else Decimal(str(last))
        self.late = int(state["late"])  # type: ignore[call-overload]
        self.gaps = int(state["gaps"])  # type: ignore[call-overload]

    def _on_input(self, price: Decimal, size: Decimal, ts: int) -> list[Bar]:
        if self._start is None:
            self._start = ts - ts % self._interval
        elif ts < self._start:
            self.late += 1
            return []
        finished = self._close_until(ts) if ts >= self._start + self._interval else []
        self._acc.add(price, size, ts)
        return finished

    def _close_until(self, now: int) -> list[Bar]:
        assert self._start is not None
        finished: list[Bar] = []
        while now >= self._start + self._interval:
            end = self._start + self._interval
            acc = self._acc
            if acc.count:
                finished.append(acc.bar(self.instrument_id, self._label, self._start, end, now))
                self._last_close = acc.close
                self._acc = _Accumulator()
            elif (
                self.empty is EmptyBarPolicy.CARRY_FORWARD
                and self._last_close is not None
                and (now - self._start) // self._interval <= self.max_carry
            ):
                price = self._last_close
                finished.append(
                    Bar(
                        self.instrument_id,
                        self._label,
                        price,
                        price,
                        price,
                        price,
                        _ZERO,
                        end,
                        now,
                        None,
                        0,
                        self._start,
                    )
                )
            else:
                # Nothing to emit until ``now``: jump to the interval holding it.
                if self.empty is EmptyBarPolicy.CARRY_FORWARD:
                    self.gaps += 1
                self._start = max(end, now - now % self._interval)
                continue
            self._start = end
        return finished


@dataclass(slots=True)
class ThresholdBarAggregator:
    """Tick, volume or value bars for one instrument and spec; see the module's rules."""

    instrument_id: InstrumentId
    spec: BarSpec
    late: int = 0
    _threshold: Decimal = field(init=False)
    _label: str = field(init=False)
    _acc: _Accumulator = field(default_factory=_Accumulator)

    def __post_init__(self) -> None:
        if self.spec.kind is BarKind.TIME:
            raise ValueError(f"{self.spec} is a time bar; use TimeBarAggregator")
        self._threshold = self.spec.threshold
        self._label = str(self.spec)

    def on_trade(self, price: Decimal, size: Decimal, ts: int) -> list[Bar]:
        """Take a trade; return the bar it finished, if any."""
        acc = self._acc
        acc.add(price, size, ts)
        kind = self.spec.kind
        if kind is BarKind.TICK:
            reached = acc.count >= self._threshold
        elif kind is BarKind.VOLUME:
            reached = acc.volume >= self._threshold
        else:
            reached = acc.notional >= self._threshold
        return self._finish(ts) if reached else []

    def on_quote(self, bid: Decimal, ask: Decimal, ts: int) -> list[Bar]:
        """Take a quote's mid price (tick bars only)."""
        if self.spec.kind is not BarKind.TICK:
            raise ValueError(f"{self.spec.kind} bars need trades, not quotes")
        self._acc.add((bid + ask) / _TWO, _ZERO, ts)
        return self._finish(ts) if self._acc.count >= self._threshold else []

    def on_time(self, now: int) -> list[Bar]:
        """Tick, volume and value bars do not close with time."""
        return []

    def state(self) -> dict[str, object]:
        """Everything needed to go on elsewhere, as plain JSON-able values."""
        return {"acc": self._acc.state(), "late": self.late}

    def restore(self, state: dict[str, object]) -> None:
        """Continue from a :meth:`state` taken from an aggregator of the same spec."""
        self._acc = _Accumulator.restored(state["acc"])  # type: ignore[arg-type]
        self.late = int(state["late"])  # type: ignore[call-overload]

    def _finish(self, ts: int) -> list[Bar]:
        acc = self._acc
        self._acc = _Accumulator()
        return [acc.bar(self.instrument_id, self._label, acc.ts_first, acc.ts_last, ts)]


def aggregator_for(
    instrument_id: InstrumentId,
    spec: BarSpec | str,
    empty: EmptyBarPolicy = EmptyBarPolicy.CARRY_FORWARD,
) -> BarAggregator:
    """The aggregator that builds ``spec`` bars."""
    parsed = BarSpec.parse(spec) if isinstance(spec, str) else spec
    if parsed.kind is BarKind.TIME:
        return TimeBarAggregator(instrument_id, parsed, empty)
    return ThresholdBarAggregator(instrument_id, parsed)
