"""Bars that market data builds itself from the trades and quotes it publishes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from foxtrot.core import data as core
from foxtrot.core.aggregation import BarAggregator, EmptyBarPolicy, aggregator_for
from foxtrot.core.bar_spec import BarKind, BarSpec
from foxtrot.core.identifiers import InstrumentId

__all__ = ["BarBuilder", "BarClock", "parse_specs"]

LATE = Counter(
    "foxtrot_market_data_late_inputs",
    "Inputs older than the bar being built",
    ["instrument_id", "spec"],
)


@dataclass(frozen=True, slots=True)
class BarClock:
    """When time bars of ingested input close (see foxtrot.market_data.pipeline), in seconds."""

    delay: float = 0.5
    idle_close: float = 10.0
    live_lag: float = 60.0


class BarBuilder:
    """One aggregator per instrument and configured spec, created on first input.

    The caller decides what time is: a replay drives it by the records' own timestamps,
    live input by the wall clock (see :meth:`on_time`), so the two never share a builder.
    """

    def __init__(self, specs: Sequence[BarSpec], empty: EmptyBarPolicy) -> None:
        self.specs = tuple(specs)
        self.empty = empty
        self._aggregators: dict[InstrumentId, list[BarAggregator]] = {}
        self._last_ts: dict[InstrumentId, int] = {}
        self._late_counters: dict[tuple[InstrumentId, BarSpec], Counter] = {}

    def _for(self, instrument_id: InstrumentId) -> list[BarAggregator]:
        found = self._aggregators.get(instrument_id)
        if found is None:
            found = [aggregator_for(instrument_id, spec, self.empty) for spec in self.specs]
            self._aggregators[instrument_id] = found
        return found

    def on_trade(self, tick: core.TradeTick) -> list[core.Bar]:
        """Feed a trade to every spec of its instrument; return the bars it finished."""
        self._last_ts[tick.instrument_id] = tick.ts_event
        bars: list[core.Bar] = []
        for agg in self._for(tick.instrument_id):
            late = agg.late
            bars += agg.on_trade(tick.price, tick.size, tick.ts_event)
            if agg.late != late:
                self._late(tick.instrument_id, agg.spec).inc()
        return bars

    def on_quote(self, quote: core.QuoteTick) -> list[core.Bar]:
        """Feed a quote's mid price to the time and tick specs of its instrument."""
        self._last_ts[quote.instrument_id] = quote.ts_event
        bars: list[core.Bar] = []
        for agg in self._for(quote.instrument_id):
            if agg.spec.kind in (BarKind.TIME, BarKind.TICK):
                bars += agg.on_quote(quote.bid_price, quote.ask_price, quote.ts_event)
        return bars

    def _late(self, instrument_id: InstrumentId, spec: BarSpec) -> Counter:
        key = (instrument_id, spec)
        child = self._late_counters.get(key)
        if child is None:
            child = self._late_counters[key] = LATE.labels(str(instrument_id), str(spec))
        return child

    def instruments(self) -> list[InstrumentId]:
        """The instruments that have aggregators."""
        return list(self._aggregators)

    def close(self, instrument_id: InstrumentId, now: int) -> list[core.Bar]:
        """Close one instrument's time bars that ended by ``now``."""
        bars: list[core.Bar] = []
        for agg in self._aggregators.get(instrument_id, ()):
            bars += agg.on_time(now)
        return bars

    def finish_one(self, instrument_id: InstrumentId) -> list[core.Bar]:
        """Close one instrument's open time bars, as at the end of its input."""
        last = self._last_ts.get(instrument_id)
        bars: list[core.Bar] = []
        if last is None:
            return bars
        for agg in self._aggregators[instrument_id]:
            if agg.spec.kind is BarKind.TIME:
                bars += agg.on_time(last - last % agg.spec.interval_ns + agg.spec.interval_ns)
        return bars

    def state(self) -> dict[str, object]:
        """Every aggregator's state by instrument and spec, JSON-able (see restore)."""
        return {
            str(instrument_id): {
                "last_ts": self._last_ts.get(instrument_id),
                "specs": {str(agg.spec): agg.state() for agg in aggregators},
            }
            for instrument_id, aggregators in self._aggregators.items()
        }

    def restore(self, state: dict[str, object]) -> None:
        """Go on from :meth:`state`; specs no longer configured are dropped, new ones start
        fresh."""
        for name, entry in state.items():
            instrument_id = InstrumentId.parse(name)
            aggregators = self._for(instrument_id)
            saved = entry["specs"]  # type: ignore[index]
            for agg in aggregators:
                if str(agg.spec) in saved:
                    agg.restore(saved[str(agg.spec)])
            last = entry["last_ts"]  # type: ignore[index]
            if last is not None:
                self._last_ts[instrument_id] = int(last)

    def finish(self) -> list[core.Bar]:
        """At the end of a replay: close each instrument's last time bars."""
        bars: list[core.Bar] = []
        for instrument_id in self._aggregators:
            bars += self.finish_one(instrument_id)
        return bars


def parse_specs(text: str) -> list[BarSpec]:
    """``"1m,5m,100t"`` as bar specs (empty: none)."""
    return [BarSpec.parse(part.strip()) for part in text.split(",") if part.strip()]
