"""A backtest's result as JSON values, for result.json and for programs that read runs.

It holds every order, fill, trade, position and balance, the equity curve with its
drawdown, the strategies' outcomes, the statistics and the run's settings. Decimals are
strings (they stay exact), times are integer nanoseconds UTC with an ISO 8601 copy where a
person may read them, and statistics that are undefined are null. The equity curve is
thinned to at most ``max_points`` points (keeping its highs, lows and deepest drawdowns)
unless ``full=True``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from foxtrot.backtest.report_plots import thin
from foxtrot.core.accounts import Balance
from foxtrot.core.backtest.result import BacktestResult, StrategyOutcome
from foxtrot.core.backtest.statistics import RoundTrip, Statistics, drawdown, round_trips
from foxtrot.core.events import OrderDenied, OrderFilled, OrderRejected
from foxtrot.core.orders import Order
from foxtrot.core.portfolio import Position

__all__ = [
    "FORMAT",
    "balance_json",
    "equity_json",
    "fill_json",
    "iso_time",
    "jsonable",
    "order_json",
    "position_json",
    "result_to_json",
    "strategy_json",
    "trade_json",
]

FORMAT: Final = "foxtrot.backtest.result/1"
JSON_POINTS: Final = 5_000
_NS: Final = 1_000_000_000


def result_to_json(
    result: BacktestResult,
    statistics: Statistics,
    *,
    full: bool = False,
    max_points: int = JSON_POINTS,
) -> dict[str, Any]:
    """Everything the run produced, as JSON values (``json.dumps`` takes it as it is)."""
    return {
        "format": FORMAT,
        "run": {
            "settlement_currency": result.settlement_currency,
            "starting_equity": str(result.starting_equity),
            "records": result.records,
            "start_ns": result.start_ns,
            "end_ns": result.end_ns,
            "start": iso_time(result.start_ns),
            "end": iso_time(result.end_ns),
        },
        "settings": jsonable(result.settings),
        "strategies": [strategy_json(s) for s in result.strategies],
        "statistics": statistics.to_dict(),
        "orders": [order_json(o) for o in result.orders],
        "fills": [fill_json(f) for f in result.fills],
        "trades": [trade_json(t) for t in round_trips(result.fills)],
        "positions": [position_json(p) for p in result.positions],
        "balances": [balance_json(b) for b in result.balances],
        "equity": equity_json(result, full=full, max_points=max_points),
    }


def iso_time(ts_ns: int) -> str:
    """``ts_ns`` (UTC nanoseconds) as ISO 8601 to the microsecond, ``Z`` for UTC."""
    seconds, ns = divmod(int(ts_ns), _NS)
    moment = datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=ns // 1_000)
    return moment.isoformat().replace("+00:00", "Z")


def order_json(order: Order) -> dict[str, Any]:
    """An order: what was asked, where it ended, and why a refused one was refused."""
    spec = order.spec
    refusal = next((e for e in order.events if isinstance(e, OrderDenied | OrderRejected)), None)
    first = order.events[0].ts_event if order.events else None
    last = order.events[-1].ts_event if order.events else None
    return {
        "client_order_id": str(spec.client_order_id),
        "strategy_id": str(spec.strategy_id),
        "instrument_id": str(spec.instrument_id),
        "side": spec.side.value,
        "type": spec.order_type.value,
        "time_in_force": spec.time_in_force.value,
        "quantity": str(spec.quantity),
        "price": _text(spec.price),
        "trigger_price": _text(spec.trigger_price),
        "reduce_only": spec.reduce_only,
        "order_list_id": spec.order_list_id,
        "parent_order_id": _text(spec.parent_order_id),
        "status": order.status.value,
        "filled_qty": str(order.filled_qty),
        "avg_px": _text(order.avg_px),
        "venue_order_id": _text(order.venue_order_id),
        "ts_first_event": first,
        "ts_last_event": last,
        "first_event": iso_time(first) if first is not None else None,
        "last_event": iso_time(last) if last is not None else None,
        "reason_code": refusal.reason_code if refusal is not None else None,
        "reason": refusal.reason if refusal is not None else None,
    }


def fill_json(fill: OrderFilled) -> dict[str, Any]:
    """A fill, with its commission and whether it took or made liquidity."""
    return {
        "client_order_id": str(fill.client_order_id),
        "venue_order_id": _text(fill.venue_order_id),
        "trade_id": str(fill.trade_id),
        "strategy_id": str(fill.strategy_id),
        "instrument_id": str(fill.instrument_id),
        "side": fill.side.value,
        "last_qty": str(fill.last_qty),
        "last_px": str(fill.last_px),
        "commission": str(fill.commission),
        "commission_currency": fill.commission_currency,
        "liquidity_side": fill.liquidity_side.value,
        "ts_event": fill.ts_event,
        "time": iso_time(fill.ts_event),
    }


def trade_json(trade: RoundTrip) -> dict[str, Any]:
    """A round trip from flat to flat."""
    return {
        "strategy_id": str(trade.strategy_id),
        "instrument_id": str(trade.instrument_id),
        "side": trade.side.value,
        "ts_opened": trade.ts_opened,
        "ts_closed": trade.ts_closed,
        "opened": iso_time(trade.ts_opened),
        "closed": iso_time(trade.ts_closed),
        "pnl": str(trade.pnl),
        "commissions": str(trade.commissions),
    }


def position_json(position: Position) -> dict[str, Any]:
    """A strategy's position in an instrument at the end of the run."""
    return {
        "strategy_id": str(position.strategy_id),
        "instrument_id": str(position.instrument_id),
        "side": position.side.value,
        "quantity": str(position.quantity),
        "avg_px_open": str(position.avg_px_open),
        "realized_pnl": str(position.realized_pnl),
        "commissions": str(position.commissions),
        "ts_opened": position.ts_opened,
        "ts_last": position.ts_last,
    }


def balance_json(balance: Balance) -> dict[str, Any]:
    """One currency's balance at the end of the run."""
    return {
        "currency": balance.currency,
        "total": str(balance.total),
        "locked": str(balance.locked),
        "free": str(balance.free),
    }


def strategy_json(outcome: StrategyOutcome) -> dict[str, Any]:
    """How a strategy ended: its state, its fault if it raised, and the state it saved."""
    return {
        "strategy_id": outcome.strategy_id,
        "strategy_class": outcome.strategy_class,
        "config": jsonable(outcome.config),
        "state": outcome.state,
        "fault": outcome.fault,
        "saved_state": jsonable(outcome.saved_state),
    }


def equity_json(result: BacktestResult, *, full: bool, max_points: int) -> dict[str, Any]:
    """The equity curve and its drawdown, as columns, thinned unless ``full``."""
    curve = result.equity
    under = drawdown(curve, float(result.starting_equity))
    n = len(curve)
    idx = np.arange(n) if full else thin(n, max_points, curve.equity, under)
    return {
        "points": n,
        "thinned": len(idx) < n,
        "ts": curve.ts[idx].tolist(),
        "equity": _floats(curve.equity[idx]),
        "drawdown": _floats(under[idx]),
        "gross_exposure": _floats(curve.gross_exposure[idx]),
    }


def jsonable(value: Any) -> Any:
    """``value`` with Decimals as strings, enums as their values, tuples as lists, and
    non-finite floats as None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    return str(value)


def _floats(values: npt.NDArray[np.float64]) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
