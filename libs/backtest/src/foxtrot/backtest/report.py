"""Results as files: a backtest's result.json and report.html, a sweep's sweep.json and .csv."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy.typing as npt

from foxtrot.backtest.report_html import render_html
from foxtrot.backtest.report_json import result_to_json
from foxtrot.backtest.spec import BacktestSpec
from foxtrot.backtest.sweep import SweepRow
from foxtrot.core.backtest.result import BacktestResult
from foxtrot.core.backtest.statistics import Statistics

__all__ = ["render_html", "result_to_json", "write_result", "write_sweep"]


def write_result(
    result: BacktestResult,
    statistics: Statistics,
    directory: Path,
    *,
    prices: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    full: bool = False,
) -> tuple[Path, Path]:
    """Write ``result.json`` and ``report.html`` into ``directory`` (made if missing) and
    return their paths; ``prices`` are the (ts, close) of the traded instrument."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "result.json", directory / "report.html"
    document = result_to_json(result, statistics, full=full)
    json_path.write_text(
        json.dumps(document, separators=(",", ":"), allow_nan=False), encoding="utf-8"
    )
    html_path.write_text(render_html(result, statistics, prices), encoding="utf-8")
    return json_path, html_path


def write_sweep(
    rows: Sequence[SweepRow],
    names: Sequence[str],
    metric: str,
    spec: BacktestSpec,
    directory: Path,
) -> tuple[Path, Path]:
    """Write a sweep's ranked rows as ``sweep.json`` (with its spec) and ``sweep.csv`` (one
    line per row) into ``directory`` and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = directory / "sweep.json", directory / "sweep.csv"
    document = {
        "metric": metric,
        "spec": spec.model_dump(mode="json"),
        "rows": [r.to_dict() for r in rows],
    }
    json_path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    statistics = sorted({k for r in rows for k in (r.statistics or {})})
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", "strategy_id", *names, *statistics, "error"])
        for rank, row in enumerate(rows, 1):
            stats = row.statistics or {}
            writer.writerow(
                [rank, row.strategy_id, *(row.parameters.get(n) for n in names)]
                + [stats.get(k) for k in statistics]
                + [row.error or ""]
            )
    return json_path, csv_path
