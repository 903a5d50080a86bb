"""What the ``foxtrot`` command prints: a backtest's summary or JSON, a sweep's ranked table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.table import Table

from foxtrot.backtest.runner import BacktestRun
from foxtrot.backtest.sweep import SweepRow

__all__ = ["iso_minute", "print_summary", "print_sweep", "run_json"]

_SUMMARY: Final = (
    ("net_pnl", "net PnL", "money"),
    ("total_return", "total return", "pct"),
    ("annualised_return", "annualised return", "pct"),
    ("volatility", "volatility", "pct"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("calmar", "Calmar", "ratio"),
    ("max_drawdown", "max drawdown", "pct"),
    ("trades", "trades", "int"),
    ("win_rate", "win rate", "pct"),
    ("profit_factor", "profit factor", "ratio"),
    ("exposure", "exposure", "pct"),
    ("total_commissions", "commissions", "money"),
    ("orders", "orders", "int"),
    ("fills", "fills", "int"),
)
_SWEEP_COLUMNS: Final = ("total_return", "sharpe", "max_drawdown", "trades", "net_pnl")
_SHORT: Final = {"total_return": "return", "max_drawdown": "max DD", "net_pnl": "net PnL"}


def iso_minute(ts: int) -> str:
    """UTC nanoseconds as ``YYYY-MM-DD HH:MM``."""
    return datetime.fromtimestamp(ts / 1e9, UTC).strftime("%Y-%m-%d %H:%M")


def run_json(run: BacktestRun, json_path: Path, html_path: Path) -> dict[str, Any]:
    """A backtest's outcome as JSON values: its files, speed, fills and statistics."""
    return {
        "result": str(json_path),
        "report": str(html_path),
        "strategy_id": run.spec.config["strategy_id"],
        "records": run.result.records,
        "elapsed_s": run.elapsed_s,
        "records_per_s": run.records_per_s,
        "orders": len(run.result.orders),
        "fills": len(run.result.fills),
        "faults": [s.fault for s in run.result.strategies if s.fault],
        "statistics": run.statistics.to_dict(),
    }


def print_summary(out: Console, run: BacktestRun, json_path: Path, html_path: Path) -> None:
    """A backtest's main statistics as a table, its faults, and where its files are."""
    result, stats = run.result, run.statistics.to_dict()
    currency = result.settlement_currency
    title = f"{run.spec.config['strategy_id']} ({run.spec.strategy})"
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("period", f"{iso_minute(result.start_ns)} → {iso_minute(result.end_ns)} UTC")
    table.add_row("records", f"{result.records:,} in {run.elapsed_s:.2f}s")
    table.add_row("records/s", f"{run.records_per_s:,.0f}")
    table.add_row("starting equity", _format(stats.get("starting_equity"), "money", currency))
    for key, label, kind in _SUMMARY:
        if key in stats:
            table.add_row(label, _format(stats[key], kind, currency))
    out.print(table)
    for outcome in result.strategies:
        if outcome.fault:
            out.print(f"[red]strategy {outcome.strategy_id} faulted:[/red] {outcome.fault}")
    out.print(f"result: {json_path}\nreport: {html_path}", highlight=False)


def _format(value: Any, kind: str, currency: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{float(value):.2%}"
    if kind == "ratio":
        return f"{float(value):.2f}"
    if kind == "money":
        return f"{float(value):,.2f} {currency}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_sweep(
    out: Console,
    rows: Sequence[SweepRow],
    names: Sequence[str],
    metric: str,
    json_path: Path,
    csv_path: Path,
) -> None:
    """A sweep's rows ranked by ``metric`` as a table, the failed rows' errors, and where
    its files are."""
    columns = [metric, *(c for c in _SWEEP_COLUMNS if c != metric)]
    table = Table(title=f"sweep ranked by {metric}")
    table.add_column("#", justify="right")
    for name in (*names, *(_SHORT.get(c, c) for c in columns)):
        table.add_column(name, justify="right", min_width=len(name), overflow="fold")
    kinds = {key: kind for key, _, kind in _SUMMARY}
    for rank, row in enumerate(rows, 1):
        stats = row.statistics or {}
        cells = [str(rank), *(str(row.parameters.get(n)) for n in names)]
        if row.ok:
            cells += [_format(stats.get(c), kinds.get(c, "ratio"), "").strip() for c in columns]
        else:
            cells += ["[red]failed[/red]", *("" for _ in columns[1:])]
        table.add_row(*cells)
    out.print(table)
    for rank, row in enumerate(rows, 1):
        if row.error:  # below the table: an error is too long for a cell
            out.print(f"[red]#{rank} failed:[/red] {row.error}", highlight=False)
    out.print(f"sweep: {json_path}\ncsv: {csv_path}", highlight=False)
