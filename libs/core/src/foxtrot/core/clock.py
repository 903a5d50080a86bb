"""Time as its host says it is, and the timers and alerts set against it.

The domain never reads a clock: the live host moves a :class:`Clock` to the wall time and
the backtester to the simulated time, and each asks :meth:`Clock.due` for the timers that
have come due, oldest first, so a strategy sees the same timer events in both.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Clock", "TimeEvent"]


@dataclass(frozen=True, slots=True)
class TimeEvent:
    """A timer or alert named ``name`` came due at ``ts_event``."""

    name: str
    ts_event: int


@dataclass(frozen=True, slots=True)
class _Timer:
    interval_ns: int  # 0 for a one-off alert
    stop_ns: int | None
    generation: int


class Clock:
    """A clock moved by its host, with named repeating timers and one-off alerts."""

    __slots__ = ("_generation", "_heap", "_now", "_seq", "_timers")

    def __init__(self, now_ns: int = 0) -> None:
        self._now = now_ns
        self._timers: dict[str, _Timer] = {}
        self._heap: list[tuple[int, int, str, int]] = []  # (due, seq, name, generation)
        self._seq = 0
        self._generation = 0

    @property
    def now_ns(self) -> int:
        """The current time in nanoseconds since the epoch, UTC."""
        return self._now

    def set_time(self, ts_ns: int) -> None:
        """Move the clock forward to ``ts_ns``; an earlier time leaves it where it is."""
        if ts_ns > self._now:
            self._now = ts_ns

    @property
    def timer_names(self) -> list[str]:
        """The timers and alerts still set, by name."""
        return sorted(self._timers)

    @property
    def next_due_ns(self) -> int | None:
        """When the next timer or alert comes due, or None when none is set."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def set_timer(
        self,
        name: str,
        interval_ns: int,
        *,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        """Fire ``name`` every ``interval_ns`` from ``start_ns`` (now) on, until ``stop_ns``;
        the first event is one interval after the start. A timer of that name is replaced."""
        if interval_ns <= 0:
            raise ValueError(f"timer interval must be positive, was {interval_ns} ns")
        start = self._now if start_ns is None else start_ns
        self._schedule(name, start + interval_ns, interval_ns, stop_ns)

    def set_time_alert(self, name: str, at_ns: int) -> None:
        """Fire ``name`` once at ``at_ns`` (at once, at the next call of :meth:`due`, if that
        has passed). An alert or timer of that name is replaced."""
        self._schedule(name, at_ns, 0, None)

    def cancel_timer(self, name: str) -> None:
        """Stop a timer or alert; an unknown name is ignored."""
        self._timers.pop(name, None)

    def cancel_all(self) -> None:
        """Stop every timer and alert."""
        self._timers.clear()
        self._heap.clear()

    def due(self, until_ns: int) -> Iterator[TimeEvent]:
        """Yield every timer event due at or before ``until_ns``, oldest first, moving the
        clock to each event's time; then move it to ``until_ns``."""
        heap = self._heap
        while heap and heap[0][0] <= until_ns:
            at, _, name, generation = heapq.heappop(heap)
            timer = self._timers.get(name)
            if timer is None or timer.generation != generation:
                continue
            self.set_time(at)
            nxt = at + timer.interval_ns
            if timer.interval_ns and (timer.stop_ns is None or nxt <= timer.stop_ns):
                self._push(nxt, name, generation)
            else:
                del self._timers[name]
            yield TimeEvent(name, at)
        self.set_time(until_ns)

    def _schedule(self, name: str, at: int, interval_ns: int, stop_ns: int | None) -> None:
        self._generation += 1
        self._timers[name] = _Timer(interval_ns, stop_ns, self._generation)
        if stop_ns is not None and at > stop_ns:
            del self._timers[name]
            return
        self._push(at, name, self._generation)

    def _push(self, at: int, name: str, generation: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, name, generation))

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap:
            _, _, name, generation = heap[0]
            timer = self._timers.get(name)
            if timer is not None and timer.generation == generation:
                return
            heapq.heappop(heap)
