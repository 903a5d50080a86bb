"""Risk in the domain: limits, pre-trade rules, what risk knows, and live PnL limits.

The live risk service and the backtester use exactly this code.
"""

from foxtrot.core.risk.book import Decision, OpenOrder, RiskBook, list_denial
from foxtrot.core.risk.limits import InstrumentLimits, InvalidLimit, RiskLimits
from foxtrot.core.risk.monitor import Breach, LiveLimits, ScopePnl
from foxtrot.core.risk.rules import (
    MODIFY_RULES,
    SAFETY,
    SUBMIT_RULES,
    SWITCHABLE,
    Denial,
    DenialCode,
    OrderCheck,
)

__all__ = [
    "MODIFY_RULES",
    "SAFETY",
    "SUBMIT_RULES",
    "SWITCHABLE",
    "Breach",
    "Decision",
    "Denial",
    "DenialCode",
    "InstrumentLimits",
    "InvalidLimit",
    "LiveLimits",
    "OpenOrder",
    "OrderCheck",
    "RiskBook",
    "RiskLimits",
    "ScopePnl",
    "list_denial",
]
