"""Risk's Prometheus metrics: live PnL, drawdown, exposure and trading state per scope, and
decisions by outcome."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge

from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.core.risk import Decision, ScopePnl

__all__ = ["count_decision", "show_pnl", "show_state"]

_LABELS: Final = ("scope", "key")
PNL = Gauge("foxtrot_risk_pnl", "Today's PnL (realised + unrealised - commissions)", _LABELS)
DRAWDOWN = Gauge("foxtrot_risk_drawdown", "PnL's fall from its peak", _LABELS)
GROSS = Gauge("foxtrot_risk_gross_exposure", "Sum of |position| x last price", _LABELS)
NET = Gauge("foxtrot_risk_net_exposure", "Sum of position x last price", _LABELS)
STATE = Gauge(
    "foxtrot_risk_trading_state", "Trading state: 0 ACTIVE, 1 REDUCING, 2 HALTED", _LABELS
)
DECISIONS = Counter("foxtrot_risk_decisions", "Orders and modifies judged", ("outcome", "code"))


def show_pnl(pnl: ScopePnl) -> None:
    labels = (pnl.scope.lower(), pnl.key)
    PNL.labels(*labels).set(float(pnl.day_pnl))
    DRAWDOWN.labels(*labels).set(float(pnl.drawdown))
    GROSS.labels(*labels).set(float(pnl.gross))
    NET.labels(*labels).set(float(pnl.net))


def show_state(scope: RiskScope, key: str, state: TradingState) -> None:
    STATE.labels(scope.lower(), key).set(state.rank)


def count_decision(decision: Decision) -> None:
    denial = decision.denial
    if denial is None:
        DECISIONS.labels("approved", "").inc()
    else:
        DECISIONS.labels("denied", denial.code).inc()
