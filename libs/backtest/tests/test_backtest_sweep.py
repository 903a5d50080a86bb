"""Parameter sweeps: every combination runs in its own process, rows come back ranked, and
a combination that fails is a failed row, not a lost sweep."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from foxtrot.backtest.spec import BacktestSpec, InvalidBacktest
from foxtrot.backtest.sweep import SweepRow, combinations, rank, sweep

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FTX_BARS = SHARED_DATA / "bars" / "intraday" / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
needs_shared_data = pytest.mark.skipif(not FTX_BARS.exists(), reason="no ../shared/data")


def _spec() -> BacktestSpec:
    return BacktestSpec.model_validate(
        {
            "strategy": "sma_cross",
            "config": {"strategy_id": "sweep", "instrument_id": "BTC-PERP.FTX"},
            "data": [{"path": str(FTX_BARS), "instrument_id": "BTC-PERP.FTX"}],
            "start": "2022-01-05",
            "end": "2022-01-08",
        }
    )


@needs_shared_data
def test_a_sweep_of_four_combinations_returns_four_ranked_rows_failures_last() -> None:
    seen: list[SweepRow] = []

    rows = sweep(
        _spec(),
        {"fast_period": [5, 40], "slow_period": [30, 60]},
        metric="total_return",
        workers=2,
        progress=seen.append,
    )

    assert len(rows) == len(seen) == 4
    failed = [r for r in rows if not r.ok]
    assert [r.parameters for r in failed] == [{"fast_period": 40, "slow_period": 30}]
    assert failed[0].error is not None
    assert "need fast_period < slow_period" in failed[0].error
    assert rows[-1] is failed[0]
    returns = [r.metric("total_return") for r in rows if r.ok]
    assert all(value is not None for value in returns)
    assert returns == sorted(returns, reverse=True)  # type: ignore[type-var]
    assert {r.strategy_id for r in rows} == {"sweep-1", "sweep-2", "sweep-3", "sweep-4"}
    ok = next(r for r in rows if r.ok)
    assert ok.statistics is not None
    assert ok.statistics["fills"] > 0


@needs_shared_data
def test_sweeping_in_one_process_gives_the_same_rows_as_in_many() -> None:
    grid = {"fast_period": [5, 10], "slow_period": [30]}

    alone = sweep(_spec(), grid, workers=1)
    parallel = sweep(_spec(), grid, workers=2)

    assert [(r.parameters, r.statistics) for r in alone] == [
        (r.parameters, r.statistics) for r in parallel
    ]


def test_combinations_vary_the_last_parameter_fastest() -> None:
    assert combinations({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]


def _row(index: int, value: Any, error: str | None = None) -> SweepRow:
    statistics = None if error else {"sharpe": value}
    return SweepRow(index, {"i": index}, f"s-{index}", statistics=statistics, error=error)


def test_rank_puts_undefined_and_nan_after_numbers_and_failures_last() -> None:
    rows = [_row(1, None), _row(2, 0.5), _row(3, None, "boom"), _row(4, math.nan), _row(5, 2.0)]

    assert [r.index for r in rank(rows, "sharpe")] == [5, 2, 1, 4, 3]
    assert [r.index for r in rank(rows, "sharpe", descending=False)] == [2, 5, 1, 4, 3]


@pytest.mark.parametrize(
    ("grid", "metric", "message"),
    [
        ({"fast_period": [5]}, "happiness", "metric must be one of"),
        ({"strategy_id": ["a"]}, "sharpe", "strategy_id cannot be swept"),
        ({"fast_period": []}, "sharpe", "needs at least one value"),
    ],
)
def test_a_sweep_that_cannot_start_is_refused(
    grid: dict[str, list[Any]], metric: str, message: str
) -> None:
    with pytest.raises(InvalidBacktest, match=message):
        sweep(_spec(), grid, metric=metric, workers=1)
