"""One backtest from its spec: strategy, instruments, simulated venue, risk limits, data.

The same spec gives the same orders and fills every time: the data is merged in a fixed
order, the venue's randomness comes from ``venue.seed``, and nothing reads the wall clock
except to time the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from foxtrot.backtest.history import BarsAsker, HistoryConnection
from foxtrot.backtest.instruments import infer_instruments
from foxtrot.backtest.sources import BacktestData
from foxtrot.backtest.spec import BacktestSpec, InstrumentSpec, InvalidBacktest
from foxtrot.core.backtest import BacktestEngine, BacktestResult
from foxtrot.core.backtest.statistics import Statistics, compute_statistics
from foxtrot.core.risk import SWITCHABLE, InvalidLimit, RiskLimits
from foxtrot.core.strategy import StrategyNotFound, build_strategy
from foxtrot.core.strategy.strategy import Strategy
from foxtrot.core.venue import SimulatedVenue

__all__ = [
    "BacktestRun",
    "Progress",
    "build_strategy_of",
    "resolve_instruments",
    "risk_limits_of",
    "run_backtest",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(records, ts_init)`` every few thousand records and at the end."""

_NS_PER_MS: Final = Decimal(1_000_000)
_PROGRESS_EVERY: Final = 5_000


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A finished backtest: what it was asked, what happened, how it did and how fast."""

    spec: BacktestSpec
    """The spec as run: every instrument's rules filled in, so it repeats exactly."""
    result: BacktestResult
    statistics: Statistics
    elapsed_s: float
    """Wall time of the replay (reading the data included)."""
    records_per_s: float
    prices: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None = None
    """(ts, last price) per record of the most traded instrument, for the report's chart."""


def build_strategy_of(spec: BacktestSpec) -> Strategy[Any]:
    """The spec's strategy instance; InvalidBacktest if it is unknown or its config wrong."""
    try:
        return build_strategy(spec.strategy, spec.config)
    except (StrategyNotFound, ValueError) as exc:
        raise InvalidBacktest(str(exc).replace("\n", "; ")) from None


def risk_limits_of(spec: BacktestSpec) -> RiskLimits:
    """The spec's risk limits; InvalidBacktest naming the first bad one."""
    try:
        return RiskLimits.from_values(dict(spec.risk_limits), SWITCHABLE)
    except InvalidLimit as exc:
        raise InvalidBacktest(f"risk limit {exc}") from None


def resolve_instruments(spec: BacktestSpec, data: BacktestData) -> list[InstrumentSpec]:
    """The spec's instruments plus rules read off the data for each one it does not list."""
    listed = [i.instrument_id for i in spec.instruments]
    return [*spec.instruments, *infer_instruments(data.sample(), known=listed)]


def run_backtest(
    spec: BacktestSpec,
    *,
    progress: Progress | None = None,
    connection: HistoryConnection | None = None,
    ask_bars: BarsAsker | None = None,
) -> BacktestRun:
    """Run the backtest ``spec`` describes and compute its statistics.

    History sources are fetched through ``ask_bars`` when given, else over NATS as
    ``connection`` says (default: from the environment). Bad input raises InvalidBacktest;
    market_data's history out of reach raises HistoryUnavailable.
    """
    strategy = build_strategy_of(spec)
    limits = risk_limits_of(spec)
    data = BacktestData.load(spec, connection=connection, ask_bars=ask_bars)
    instruments = resolve_instruments(spec, data)
    spec = spec.model_copy(update={"instruments": instruments})
    venue_spec = spec.venue
    venue = SimulatedVenue(
        venue_spec.name,
        venue_spec.settlement_currency,
        venue_spec.taker_fee,
        venue_spec.maker_fee,
        latency_ns=int(venue_spec.latency_ms * _NS_PER_MS),
        fill_model=venue_spec.fill_model(),
        seed=venue_spec.seed,
    )
    engine = BacktestEngine(
        venue=venue,
        instruments=[i.to_core() for i in instruments],
        starting_balances=spec.starting_balances,
        account_id=strategy.config.account_id,
        risk_limits=limits,
    )
    engine.add_strategy(strategy)
    started = time.perf_counter()
    result = engine.run(data.records(), progress=progress, progress_every=_PROGRESS_EVERY)
    elapsed = time.perf_counter() - started
    if result.records == 0:
        raise InvalidBacktest(f"no records in the data{_window(spec)}")
    result.settings = spec.model_dump(mode="json")
    statistics = compute_statistics(result, periods_per_year=spec.periods_per_year)
    return BacktestRun(
        spec=spec,
        result=result,
        statistics=statistics,
        elapsed_s=elapsed,
        records_per_s=result.records / elapsed if elapsed > 0 else float("inf"),
        prices=_traded_prices(engine, result),
    )


def _window(spec: BacktestSpec) -> str:
    if spec.start is None and spec.end is None:
        return ""
    return f" between {spec.start or 'the start'} and {spec.end or 'the end'}"


def _traded_prices(
    engine: BacktestEngine, result: BacktestResult
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """The last price at each record of the instrument with the most fills (else the first
    instrument seen), from the prices the engine kept for the equity curve."""
    # The engine records these for its equity curve; reading them saves a second pass.
    index: dict[Any, int] = getattr(engine, "_inst_index", {})
    ts, inst, px = (getattr(engine, name, None) for name in ("_rec_ts", "_rec_inst", "_rec_px"))
    if not index or ts is None or inst is None or px is None:
        return None
    counts: dict[Any, int] = {}
    for fill in result.fills:
        counts[fill.instrument_id] = counts.get(fill.instrument_id, 0) + 1
    traded = max(counts, key=lambda iid: counts[iid]) if counts else next(iter(index))
    if traded not in index:
        return None
    mine = np.asarray(inst, dtype=np.int64) == index[traded]
    return np.asarray(ts, dtype=np.int64)[mine], np.asarray(px, dtype=np.float64)[mine]
