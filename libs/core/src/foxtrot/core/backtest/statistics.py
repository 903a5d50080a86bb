"""Performance statistics of a backtest, computed from its equity curve and its fills.

Conventions:

* **Returns** are daily: the equity curve is resampled to the last value of each UTC day
  that has records (days without records, such as weekends, are skipped rather than
  counted as zero returns), and the first day's return is measured from the starting
  equity. A run whose records span less than two days has too few days for that, so it
  falls back to per-record returns, annualised as if a year held
  ``periods_per_year x 1 day / median record spacing`` of them. ``returns_basis`` says
  which was used.
* **Annualising**: volatility, Sharpe and Sortino scale by ``sqrt(periods per year)``
  (``periods_per_year`` days: 365 for markets that never close, 252 for exchanges);
  the annualised return (CAGR) is over calendar time, a year being 365 days.
* **Drawdown** is measured against the running peak of the equity, the starting equity
  included, as a positive fraction of that peak.
* **Trades** are round trips per (strategy, instrument): one opens when the position
  leaves flat and closes when it returns to flat or flips through it; its PnL is the
  realised PnL it booked minus its commissions (a flipping fill's commission is shared
  between the trade it closes and the one it opens, by quantity). A trade still open at
  the end is not counted. PnL and commissions are taken to be in one currency (the quote
  currency of what was traded, the settlement currency in a single-currency backtest).
* **Undefined is None**: a ratio with a zero denominator (Sharpe of a flat curve, profit
  factor without a losing trade, win rate without trades) is None, never inf or NaN, so
  every value survives JSON.

Values from the fills are exact ``Decimal``; values from the (float) equity curve are floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from foxtrot.core.backtest.result import BacktestResult, EquityCurve
from foxtrot.core.enums import PositionSide
from foxtrot.core.events import OrderFilled
from foxtrot.core.identifiers import InstrumentId, StrategyId
from foxtrot.core.portfolio import Position

__all__ = ["RoundTrip", "Statistics", "compute_statistics", "drawdown", "round_trips"]

DAY_NS: Final = 86_400 * 1_000_000_000
YEAR_NS: Final = 365 * DAY_NS
_ZERO: Final = Decimal(0)
_FLAT_STD: Final = 1e-12  # a standard deviation this small is a flat curve plus rounding

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One trade: a position from leaving flat to returning to flat (or flipping)."""

    strategy_id: StrategyId
    instrument_id: InstrumentId
    side: PositionSide
    ts_opened: int
    ts_closed: int
    pnl: Decimal
    """Realised PnL booked over the trade minus its commissions."""
    commissions: Decimal


@dataclass(frozen=True, slots=True)
class Statistics:
    """How a backtest performed; every ratio that cannot be computed is None."""

    starting_equity: float
    """Account value at the run's start, in the settlement currency."""
    ending_equity: float
    """Last value of the equity curve (the starting equity when there are no records)."""
    net_pnl: float
    """ending_equity - starting_equity."""
    total_return: float | None
    """ending_equity / starting_equity - 1."""
    annualised_return: float | None
    """(ending_equity / starting_equity) ** (365 days / run span) - 1 (CAGR)."""
    volatility: float | None
    """Sample std dev of period returns x sqrt(periods per year)."""
    sharpe: float | None
    """(mean period return - risk-free per period) / std dev x sqrt(periods per year)."""
    sortino: float | None
    """(mean return - risk-free) / sqrt(mean(min(return - risk-free, 0) ** 2)) x sqrt(periods)."""
    calmar: float | None
    """annualised_return / max_drawdown."""
    max_drawdown: float
    """max over time of 1 - equity / running peak (0.25 is a 25% fall)."""
    max_drawdown_duration_ns: int
    """Longest time from a peak to regaining it (or to the run's end if never regained)."""
    max_drawdown_start_ns: int | None
    """When that longest spell below a peak started (the peak's time)."""
    max_drawdown_end_ns: int | None
    """When it ended: the peak regained, or the last record."""
    trades: int
    """Count of round trips closed during the run."""
    win_rate: float | None
    """Trades with PnL > 0 / trades."""
    profit_factor: float | None
    """gross_profit / gross_loss; None when no trade lost."""
    gross_profit: Decimal
    """Sum of the PnL of the winning trades."""
    gross_loss: Decimal
    """-(sum of the PnL of the losing trades), a positive amount."""
    average_win: Decimal | None
    """gross_profit / winning trades."""
    average_loss: Decimal | None
    """-gross_loss / losing trades (negative)."""
    exposure: float | None
    """Time with gross_exposure > 0 / run span, each record holding until the next."""
    turnover: float | None
    """traded_notional / mean of the equity curve."""
    traded_notional: Decimal
    """Sum of |quantity| x price over the fills."""
    total_commissions: Decimal
    """Sum of the fills' commissions."""
    fills: int
    """Count of fills."""
    orders: int
    """Count of orders, denied and rejected ones included."""
    return_periods: int
    """Count of period returns the ratios were computed from."""
    returns_basis: str
    """"daily", or "per_record" for runs spanning less than two days."""

    def to_dict(self) -> dict[str, Any]:
        """The statistics as JSON values: floats, ints, strings and None (for undefined)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal):
                value = float(value)
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            out[f.name] = value
        return out


def compute_statistics(
    result: BacktestResult, *, periods_per_year: int = 365, risk_free_rate: float = 0.0
) -> Statistics:
    """Statistics of a run; ``risk_free_rate`` is annual, ``periods_per_year`` in days."""
    curve = result.equity
    starting = float(result.starting_equity)
    ending = float(curve.equity[-1]) if len(curve) else starting
    span = int(curve.ts[-1] - curve.ts[0]) if len(curve) else 0
    returns, per_year, basis = _period_returns(curve, starting, periods_per_year)
    vol, sharpe, sortino = _risk_ratios(returns, per_year, risk_free_rate / per_year)
    annualised = _cagr(starting, ending, span)
    max_dd, dd_duration, dd_start, dd_end = _drawdown_spells(curve, starting)
    trips = round_trips(result.fills)
    wins = [t.pnl for t in trips if t.pnl > 0]
    losses = [t.pnl for t in trips if t.pnl < 0]
    gross_profit = sum(wins, _ZERO)
    gross_loss = -sum(losses, _ZERO)
    notional = sum((f.last_qty * f.last_px for f in result.fills), _ZERO)
    mean_equity = float(curve.equity.mean()) if len(curve) else 0.0
    return Statistics(
        starting_equity=starting,
        ending_equity=ending,
        net_pnl=ending - starting,
        total_return=ending / starting - 1 if starting > 0 else None,
        annualised_return=annualised,
        volatility=vol,
        sharpe=sharpe,
        sortino=sortino,
        calmar=annualised / max_dd if annualised is not None and max_dd > 0 else None,
        max_drawdown=max_dd,
        max_drawdown_duration_ns=dd_duration,
        max_drawdown_start_ns=dd_start,
        max_drawdown_end_ns=dd_end,
        trades=len(trips),
        win_rate=len(wins) / len(trips) if trips else None,
        profit_factor=float(gross_profit / gross_loss) if gross_loss else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        average_win=gross_profit / len(wins) if wins else None,
        average_loss=-gross_loss / len(losses) if losses else None,
        exposure=_exposure(curve),
        turnover=float(notional) / mean_equity if mean_equity > 0 else None,
        traded_notional=notional,
        total_commissions=sum((f.commission for f in result.fills), _ZERO),
        fills=len(result.fills),
        orders=len(result.orders),
        return_periods=len(returns),
        returns_basis=basis,
    )


def _period_returns(
    curve: EquityCurve, starting_equity: float, periods_per_year: int
) -> tuple[Floats, float, str]:
    """The run's period returns, how many such periods a year holds, and their basis
    ("daily" or "per_record"; see the module's docstring)."""
    ts, equity = curve.ts, curve.equity
    if len(ts) == 0:
        return np.empty(0), float(periods_per_year), "daily"
    if ts[-1] - ts[0] >= 2 * DAY_NS:
        days = np.unique(ts // DAY_NS)
        last = np.searchsorted(ts, (days + 1) * DAY_NS, side="left") - 1
        closes, per_year, basis = equity[last], float(periods_per_year), "daily"
    else:
        steps = np.diff(ts)
        steps = steps[steps > 0]
        spacing = float(np.median(steps)) if len(steps) else float(DAY_NS)
        closes, per_year, basis = equity, periods_per_year * DAY_NS / spacing, "per_record"
    values = np.concatenate(([starting_equity], closes))
    before, after = values[:-1], values[1:]
    valid = before > 0  # a return from nothing is undefined
    return after[valid] / before[valid] - 1.0, per_year, basis


def _risk_ratios(
    returns: Floats, per_year: float, risk_free: float
) -> tuple[float | None, float | None, float | None]:
    """Annualised volatility, Sharpe and Sortino of the period returns."""
    if len(returns) < 2:
        return None, None, None
    scale = math.sqrt(per_year)
    std = float(returns.std(ddof=1))
    excess = float(returns.mean()) - risk_free
    downside = float(np.sqrt(np.mean(np.minimum(returns - risk_free, 0.0) ** 2)))
    sharpe = excess / std * scale if std > _FLAT_STD else None
    sortino = excess / downside * scale if downside > _FLAT_STD else None
    return std * scale, sharpe, sortino


def _cagr(starting: float, ending: float, span_ns: int) -> float | None:
    if starting <= 0 or span_ns <= 0:
        return None
    if ending <= 0:
        return -1.0
    try:
        value = math.exp(math.log(ending / starting) * YEAR_NS / span_ns) - 1.0
    except OverflowError:  # a short run's gain compounded over a year
        return None
    return value


def drawdown(curve: EquityCurve, starting_equity: float) -> Floats:
    """1 - equity / running peak at each point of the curve (0 at a peak)."""
    if len(curve) == 0:
        return np.empty(0)
    peak = np.maximum.accumulate(np.concatenate(([starting_equity], curve.equity)))[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        under = np.where(peak > 0, 1.0 - curve.equity / peak, 0.0)
    return np.maximum(under, 0.0)


def _drawdown_spells(
    curve: EquityCurve, starting: float
) -> tuple[float, int, int | None, int | None]:
    """The deepest drawdown, and the length, start and end of the longest spell below a
    peak."""
    dd = drawdown(curve, starting)
    below = dd > 0
    if not below.any():
        return 0.0, 0, None, None
    ts = curve.ts
    edges = np.flatnonzero(np.diff(np.concatenate(([0], below.astype(np.int8), [0]))))
    first, after = edges[0::2], edges[1::2]  # each spell is curve[first:after]
    begins = np.where(first > 0, ts[np.maximum(first - 1, 0)], ts[0])
    ends = np.where(after < len(ts), ts[np.minimum(after, len(ts) - 1)], ts[-1])
    lengths = ends - begins
    longest = int(np.argmax(lengths))
    return float(dd.max()), int(lengths[longest]), int(begins[longest]), int(ends[longest])


def _exposure(curve: EquityCurve) -> float | None:
    if len(curve) < 2 or curve.ts[-1] == curve.ts[0]:
        return None
    held = np.diff(curve.ts).astype(np.float64)
    exposed = curve.gross_exposure[:-1] > 0
    return float(held[exposed].sum() / held.sum())


def round_trips(fills: list[OrderFilled]) -> list[RoundTrip]:
    """The trades the fills make, in the order they closed (see the module's docstring)."""
    positions: dict[tuple[StrategyId, InstrumentId], Position] = {}
    open_trades: dict[tuple[StrategyId, InstrumentId], _OpenTrade] = {}
    closed: list[RoundTrip] = []
    for fill in fills:
        key = (fill.strategy_id, fill.instrument_id)
        position = positions.get(key)
        if position is None:
            position = positions[key] = Position(fill.strategy_id, fill.instrument_id)
        before = position.quantity
        position.apply_fill(fill.side, fill.last_qty, fill.last_px, fill.commission, fill.ts_event)
        after = position.quantity
        trade = open_trades.get(key)
        if trade is None:  # was flat: this fill opens a trade
            open_trades[key] = _OpenTrade(
                position, fill.ts_event, position.realized_pnl, fill.commission
            )
            continue
        if after == 0 or (after > 0) != (before > 0):  # back to flat, or through it
            # Multiplied before dividing so whole shares stay exact (0.3 x 1 / 3 = 0.1).
            closing_commission = fill.commission * min(fill.last_qty, abs(before)) / fill.last_qty
            closed.append(trade.close(position, fill, closing_commission))
            del open_trades[key]
            if after != 0:
                rest = fill.commission - closing_commission
                open_trades[key] = _OpenTrade(position, fill.ts_event, position.realized_pnl, rest)
        else:
            trade.commissions += fill.commission
    return closed


class _OpenTrade:
    """A round trip under way: where its realised PnL started, and its commissions."""

    __slots__ = ("commissions", "realized_at_open", "side", "ts_opened")

    def __init__(
        self, position: Position, ts_opened: int, realized_at_open: Decimal, commission: Decimal
    ) -> None:
        self.side = position.side
        self.ts_opened = ts_opened
        self.realized_at_open = realized_at_open
        self.commissions = commission

    def close(self, position: Position, fill: OrderFilled, commission: Decimal) -> RoundTrip:
        commissions = self.commissions + commission
        return RoundTrip(
            strategy_id=fill.strategy_id,
            instrument_id=fill.instrument_id,
            side=self.side,
            ts_opened=self.ts_opened,
            ts_closed=fill.ts_event,
            pnl=position.realized_pnl - self.realized_at_open - commissions,
            commissions=commissions,
        )
