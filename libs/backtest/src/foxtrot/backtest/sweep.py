"""Parameter sweeps: one backtest per combination of a grid, in parallel processes, ranked.

Each combination runs in a worker process of its own (``forkserver`` where the platform
has it, else ``spawn``, so no worker inherits a parent's threads or open files). A worker
gets the spec as JSON and reads the data itself; what comes back is one small row. A
combination that fails (a config its strategy refuses, a worker that dies) comes back as
a failed row with its error, never as an exception that loses the other rows.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from typing import Any, Final

from foxtrot.backtest.history import HistoryConnection
from foxtrot.backtest.runner import build_strategy_of, risk_limits_of, run_backtest
from foxtrot.backtest.sources import BacktestData
from foxtrot.backtest.spec import BacktestSpec, HistorySource, InvalidBacktest
from foxtrot.core.backtest.statistics import Statistics
from foxtrot.core.strategy import StrategyNotFound, resolve_strategy

__all__ = ["METRICS", "SweepRow", "combinations", "sweep"]

METRICS: Final = tuple(f.name for f in fields(Statistics))
"""What a sweep can rank by: the fields of Statistics."""
_ID_MAX: Final = 36  # StrategyConfig.strategy_id's max_length


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One combination's outcome: its parameters and statistics, or why it failed."""

    index: int
    """The combination's place in the grid (from 1); its strategy id ends ``-{index}``."""
    parameters: dict[str, Any]
    strategy_id: str
    statistics: dict[str, Any] | None = None
    error: str | None = None
    elapsed_s: float = 0.0
    records_per_s: float = 0.0
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the backtest ran to the end."""
        return self.error is None

    def metric(self, name: str) -> float | None:
        """The statistic ``name`` as a float; None when failed, undefined or NaN."""
        value = (self.statistics or {}).get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            return None
        number = float(value)
        return None if math.isnan(number) else number

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON values."""
        return {
            "index": self.index,
            "strategy_id": self.strategy_id,
            "parameters": self.parameters,
            "ok": self.ok,
            "error": self.error,
            "statistics": self.statistics,
            "elapsed_s": self.elapsed_s,
            "records_per_s": self.records_per_s,
            "faults": self.faults,
        }


def combinations(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the last parameter varying fastest."""
    for name, values in grid.items():
        if not values:
            raise InvalidBacktest(f"grid parameter {name} needs at least one value")
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def sweep(
    spec: BacktestSpec,
    grid: Mapping[str, Sequence[Any]],
    *,
    metric: str = "sharpe",
    workers: int | None = os.cpu_count(),
    descending: bool = True,
    connection: HistoryConnection | None = None,
    progress: Callable[[SweepRow], None] | None = None,
) -> list[SweepRow]:
    """Run ``spec`` once per combination of ``grid`` (parameters of the strategy's config)
    and return the rows ranked by ``metric``: best first, failed and undefined last.

    Each combination's strategy id is the spec's with ``-{index}`` appended. ``progress``
    is called with each row as it finishes.
    """
    if metric not in METRICS:
        raise InvalidBacktest(f"metric must be one of {', '.join(METRICS)}, was {metric!r}")
    if "strategy_id" in grid:
        raise InvalidBacktest("strategy_id cannot be swept: each combination gets its own")
    try:
        resolve_strategy(spec.strategy)
    except StrategyNotFound as exc:
        raise InvalidBacktest(str(exc)) from None
    risk_limits_of(spec)
    if any(isinstance(s, HistorySource) for s in spec.data):
        connection = connection or HistoryConnection.from_env()
    else:
        BacktestData(spec.data, start=spec.start, end=spec.end)  # files readable, window sane
    combos = combinations(grid)
    base = str(spec.config["strategy_id"])
    jobs = [(i, params, _with_params(spec, base, i, params)) for i, params in enumerate(combos, 1)]
    rows: list[SweepRow] = []
    workers = max(1, min(workers or 1, len(jobs)))
    if workers == 1:
        for index, params, combo in jobs:
            row = run_combination(combo.model_dump_json(), index, params, connection)
            rows.append(row)
            if progress is not None:
                progress(row)
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            futures: dict[Future[SweepRow], tuple[int, dict[str, Any], BacktestSpec]] = {
                pool.submit(run_combination, c.model_dump_json(), i, p, connection): (i, p, c)
                for i, p, c in jobs
            }
            for future in as_completed(futures):
                index, params, combo = futures[future]
                try:
                    row = future.result()
                except Exception as exc:  # the worker died or its row could not come back
                    row = SweepRow(
                        index,
                        params,
                        str(combo.config["strategy_id"]),
                        error=f"{type(exc).__name__}: {exc}",
                    )
                rows.append(row)
                if progress is not None:
                    progress(row)
    return rank(rows, metric, descending=descending)


def rank(rows: Sequence[SweepRow], metric: str, *, descending: bool = True) -> list[SweepRow]:
    """Rows ordered by ``metric`` (best first), then those without it, then failed ones;
    ties in grid order."""

    def key(row: SweepRow) -> tuple[int, float, int]:
        value = row.metric(metric)
        if value is None:
            return (1 if row.ok else 2, 0.0, row.index)
        return (0, -value if descending else value, row.index)

    return sorted(rows, key=key)


def run_combination(
    spec_json: str,
    index: int,
    parameters: dict[str, Any],
    connection: HistoryConnection | None = None,
) -> SweepRow:
    """One combination's backtest, in whichever process runs it; never raises."""
    strategy_id = "?"
    try:
        spec = BacktestSpec.model_validate_json(spec_json)
        strategy_id = str(spec.config["strategy_id"])
        build_strategy_of(spec)  # a refused config fails here, before any data is read
        run = run_backtest(spec, connection=connection)
    except Exception as exc:  # the row says what went wrong; the sweep goes on
        message = str(exc) if isinstance(exc, InvalidBacktest) else f"{type(exc).__name__}: {exc}"
        return SweepRow(index, parameters, strategy_id, error=message)
    return SweepRow(
        index,
        parameters,
        strategy_id,
        statistics=run.statistics.to_dict(),
        elapsed_s=run.elapsed_s,
        records_per_s=run.records_per_s,
        faults=[s.fault for s in run.result.strategies if s.fault],
    )


def _with_params(
    spec: BacktestSpec, base: str, index: int, params: Mapping[str, Any]
) -> BacktestSpec:
    suffix = f"-{index}"
    config = {**spec.config, **params, "strategy_id": base[: _ID_MAX - len(suffix)] + suffix}
    return spec.model_copy(update={"config": config})


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
