"""The report's charts, drawn by matplotlib as SVG text to inline in the page.

Only matplotlib's object-oriented API is used (``Figure``, no pyplot), so nothing global
changes and the module is safe in a server. Long series are thinned before drawing (see
:func:`thin`), so a chart of a million records stays a small SVG that keeps every peak
and trough.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from foxtrot.core.enums import OrderSide
from foxtrot.core.events import OrderFilled

__all__ = ["drawdown_svg", "equity_svg", "thin", "trades_svg"]

PLOT_POINTS: Final = 2_000
MAX_MARKERS: Final = 5_000
_SIZE: Final = (10.0, 3.2)
_LINE: Final = "#1f5fa8"
_BUY: Final = "#1a8a3a"
_SELL: Final = "#c0392b"

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def thin(length: int, max_points: int, *series: npt.NDArray[np.float64]) -> Ints:
    """Indices of at most ``max_points`` points that keep each series' extremes.

    The points are cut into buckets; each bucket keeps its first point and where every
    series is lowest and highest. The first and last points are always kept.
    """
    if length <= max_points:
        return np.arange(length, dtype=np.int64)
    per_bucket = 1 + 2 * len(series)
    buckets = max(1, (max_points - 1) // per_bucket)
    bounds = np.linspace(0, length, buckets + 1).astype(np.int64)
    keep = [bounds[:-1], np.array([length - 1], dtype=np.int64)]
    for values in series:
        for pick in (np.argmin, np.argmax):
            keep.append(
                np.array(
                    [lo + int(pick(values[lo:hi])) for lo, hi in itertools.pairwise(bounds)],
                    dtype=np.int64,
                )
            )
    return np.unique(np.concatenate(keep))


def equity_svg(ts: Ints, equity: Floats, currency: str) -> str:
    """The account's value over the run."""

    def draw(ax: Axes) -> bool:
        idx = thin(len(ts), PLOT_POINTS, equity)
        ax.plot(_times(ts[idx]), equity[idx], color=_LINE, linewidth=1.0)
        return len(ts) > 0

    return _draw(f"Equity ({currency})", draw)


def drawdown_svg(ts: Ints, drawdown: Floats) -> str:
    """The underwater curve: how far below its running peak the account is, in percent."""

    def draw(ax: Axes) -> bool:
        idx = thin(len(ts), PLOT_POINTS, drawdown)
        x, y = _times(ts[idx]), -100.0 * drawdown[idx]
        ax.fill_between(x, y, 0.0, color=_SELL, alpha=0.35, linewidth=0.0)
        ax.plot(x, y, color=_SELL, linewidth=0.8)
        return len(ts) > 0

    return _draw("Drawdown (%)", draw)


def trades_svg(
    prices: tuple[npt.ArrayLike, npt.ArrayLike] | None, fills: Sequence[OrderFilled]
) -> str:
    """The traded price with a marker at every fill: buys up, sells down."""

    def draw(ax: Axes) -> bool:
        if prices is not None:
            ts = np.asarray(prices[0], dtype=np.int64)
            close = np.asarray(prices[1], dtype=np.float64)
            idx = thin(len(ts), PLOT_POINTS, close)
            ax.plot(_times(ts[idx]), close[idx], color="#555555", linewidth=0.8, label="price")
        step = max(1, -(-len(fills) // MAX_MARKERS))  # every step-th fill, if there are many
        shown = list(fills)[::step]
        for side, marker, color in ((OrderSide.BUY, "^", _BUY), (OrderSide.SELL, "v", _SELL)):
            mine = [f for f in shown if f.side is side]
            if mine:
                ax.scatter(
                    _times(np.array([f.ts_event for f in mine], dtype=np.int64)),
                    [float(f.last_px) for f in mine],
                    marker=marker,
                    color=color,
                    s=28,
                    zorder=3,
                    label=f"{side.value.lower()} ({sum(f.side is side for f in fills):,})",
                )
        if prices is None and not shown:
            return False
        ax.legend(loc="best", frameon=False, fontsize=8)
        return True

    return _draw("Trades on price" if prices is not None else "Fills (no price series)", draw)


def _draw(title: str, draw: Callable[[Axes], bool]) -> str:
    """One chart as SVG text: ``draw`` fills the axes and says whether it drew anything."""
    with rc_context(
        {
            "svg.fonttype": "none",  # text stays text: smaller, and searchable in the page
            "svg.hashsalt": "foxtrot-report",  # the same run draws the same SVG
            "date.converter": "concise",  # short date ticks, the year only where it changes
        }
    ):
        fig = Figure(figsize=_SIZE, layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(title, loc="left", fontsize=10)
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#dddddd", linewidth=0.5)
        if not draw(ax):
            ax.text(0.5, 0.5, "nothing to show", ha="center", va="center", transform=ax.transAxes)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # the XML prolog and doctype do not belong in HTML


def _times(ts: Ints) -> npt.NDArray[np.datetime64]:
    return np.asarray(ts, dtype=np.int64).astype("datetime64[ns]")
