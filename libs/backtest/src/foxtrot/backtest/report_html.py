"""A backtest's report as one self-contained HTML page, readable offline.

The page has no scripts, stylesheets or fonts from elsewhere: its style is inline and its
charts are SVG drawn by matplotlib (equity, drawdown, trades on price). Every piece of
text that comes from the run (ids, reasons, configs, faults) is HTML-escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from html import escape
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from foxtrot.backtest.report_json import (
    balance_json,
    fill_json,
    iso_time,
    jsonable,
    order_json,
    position_json,
)
from foxtrot.backtest.report_plots import drawdown_svg, equity_svg, trades_svg
from foxtrot.core.backtest.result import BacktestResult
from foxtrot.core.backtest.statistics import Statistics, drawdown

__all__ = ["MAX_ROWS", "render_html"]

MAX_ROWS: Final = 500
_NA: Final = "n/a"

_STYLE: Final = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       margin: 2em auto; max-width: 1100px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.fault { background: #fdecea; border-left: 4px solid #c0392b; padding: 0.5em 1em; }
figure { margin: 1em 0; }
figure svg { width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.more { color: #666; font-style: italic; }
"""

# (field, label, format): every statistic the page shows, in order.
_STATISTICS: Final = (
    ("starting_equity", "Starting equity", "money"),
    ("ending_equity", "Ending equity", "money"),
    ("net_pnl", "Net PnL", "money"),
    ("total_return", "Total return", "pct"),
    ("annualised_return", "Annualised return (CAGR)", "pct"),
    ("volatility", "Volatility (annualised)", "pct"),
    ("sharpe", "Sharpe ratio", "ratio"),
    ("sortino", "Sortino ratio", "ratio"),
    ("calmar", "Calmar ratio", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_duration_ns", "Longest drawdown", "duration"),
    ("max_drawdown_start_ns", "Longest drawdown from", "time"),
    ("max_drawdown_end_ns", "Longest drawdown to", "time"),
    ("trades", "Trades (round trips)", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("average_win", "Average win", "money"),
    ("average_loss", "Average loss", "money"),
    ("exposure", "Time in the market", "pct"),
    ("turnover", "Turnover (x average equity)", "ratio"),
    ("traded_notional", "Traded notional", "money"),
    ("total_commissions", "Commissions", "money"),
    ("fills", "Fills", "int"),
    ("orders", "Orders", "int"),
    ("returns_basis", "Returns measured", "text"),
    ("return_periods", "Return periods", "int"),
)


def render_html(
    result: BacktestResult,
    statistics: Statistics,
    prices: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> str:
    """The report page; ``prices`` are the (ts, close) of the traded instrument, drawn under
    the fills (without them only the fills are drawn)."""
    curve = result.equity
    under = drawdown(curve, float(result.starting_equity))
    price_series = (
        (np.asarray(prices[0], dtype=np.int64), np.asarray(prices[1], dtype=np.float64))
        if prices is not None
        else None
    )
    names = ", ".join(s.strategy_id for s in result.strategies) or "no strategies"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Backtest: {escape(names)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Backtest report</h1>",
        f'<p class="meta">{escape(names)} &middot; {escape(_span(result))} &middot; '
        f"{result.records:,} records &middot; "
        f"settled in {escape(result.settlement_currency)}</p>",
        _faults(result),
        "<h2>Statistics</h2>",
        _statistics(statistics, result.settlement_currency),
        "<h2>Charts</h2>",
        f"<figure>{equity_svg(curve.ts, curve.equity, result.settlement_currency)}</figure>",
        f"<figure>{drawdown_svg(curve.ts, under)}</figure>",
        f"<figure>{trades_svg(price_series, result.fills)}</figure>",
        "<h2>Strategies</h2>",
        _table(
            ("strategy", "class", "state", "config"),
            (
                (s.strategy_id, s.strategy_class, s.state, json.dumps(jsonable(s.config)))
                for s in result.strategies
            ),
        ),
        "<h2>Positions at the end</h2>",
        _rows_of(
            [position_json(p) for p in result.positions],
            ("strategy_id", "instrument_id", "side", "quantity", "avg_px_open", "realized_pnl"),
        ),
        "<h2>Balances at the end</h2>",
        _rows_of(
            [balance_json(b) for b in result.balances], ("currency", "total", "locked", "free")
        ),
        f"<h2>Orders ({len(result.orders):,})</h2>",
        _capped(result.orders, order_json, _ORDER_COLUMNS, "orders"),
        f"<h2>Fills ({len(result.fills):,})</h2>",
        _capped(result.fills, fill_json, _FILL_COLUMNS, "fills"),
        "<h2>Settings</h2>",
        f"<pre>{escape(json.dumps(jsonable(result.settings), indent=2, sort_keys=True))}</pre>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


_ORDER_COLUMNS: Final = (
    "first_event",
    "client_order_id",
    "strategy_id",
    "instrument_id",
    "side",
    "type",
    "quantity",
    "price",
    "trigger_price",
    "status",
    "filled_qty",
    "avg_px",
    "reason",
)
_FILL_COLUMNS: Final = (
    "time",
    "client_order_id",
    "trade_id",
    "instrument_id",
    "side",
    "last_qty",
    "last_px",
    "commission",
    "commission_currency",
    "liquidity_side",
)


def _span(result: BacktestResult) -> str:
    if not result.records:
        return "no records"
    return f"{iso_time(result.start_ns)} to {iso_time(result.end_ns)}"


def _faults(result: BacktestResult) -> str:
    faulted = [s for s in result.strategies if s.fault]
    if not faulted:
        return ""
    items = "".join(
        f"<p><strong>{escape(s.strategy_id)}</strong> ({escape(s.state)}): "
        f"{escape(s.fault or '')}</p>"
        for s in faulted
    )
    return f'<h2>Strategy faults</h2><div class="fault">{items}</div>'


def _statistics(statistics: Statistics, currency: str) -> str:
    rows = []
    for field, label, kind in _STATISTICS:
        value = _format(getattr(statistics, field), kind, currency)
        rows.append(f'<tr><th>{escape(label)}</th><td class="num">{escape(value)}</td></tr>')
    return f'<table class="stats">{"".join(rows)}</table>'


def _format(value: Any, kind: str, currency: str) -> str:
    if value is None:
        return _NA
    if kind == "pct":
        return f"{float(value) * 100:,.2f}%"
    if kind == "money":
        return f"{Decimal(str(value)):,.2f} {currency}"
    if kind == "ratio":
        return f"{float(value):,.3f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "duration":
        return _duration(int(value))
    if kind == "time":
        return iso_time(int(value))
    return str(value)


def _duration(ns: int) -> str:
    seconds = ns // 1_000_000_000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}d {clock}" if days else clock


def _capped(
    items: Sequence[Any],
    to_json: Callable[[Any], dict[str, Any]],
    columns: Sequence[str],
    what: str,
) -> str:
    table = _rows_of([to_json(item) for item in items[:MAX_ROWS]], columns)
    if len(items) <= MAX_ROWS:
        return table
    more = len(items) - MAX_ROWS
    return f'{table}<p class="more">{more:,} more {what} (all are in result.json)</p>'


def _rows_of(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    return _table(columns, ([row.get(c) for c in columns] for row in rows))


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    body = []
    for row in rows:
        cells = "".join(f"<td>{escape(_cell(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return '<p class="more">none</p>'
    head = "".join(f"<th>{escape(h.replace('_', ' '))}</th>" for h in header)
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>'


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
