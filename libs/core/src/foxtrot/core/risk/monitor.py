"""Live limits: PnL, drawdown and exposure per account, strategy and instrument, and the
daily loss and drawdown limits that switch a scope to REDUCING or HALTED.

PnL is realised plus unrealised (marked at the last price) less commissions, from the
positions the risk book keeps. Today's PnL counts from the first value seen on the UTC day
(midnight, or risk's start if it started later that day); the peak counts from risk's start.
Each limit breaches once per scope and day: after that the scope's state holds until a
person switches it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.core.identifiers import InstrumentId, StrategyId
from foxtrot.core.portfolio import Position
from foxtrot.core.risk.book import RiskBook

__all__ = ["Breach", "LiveLimits", "ScopePnl"]

_ZERO: Final = Decimal(0)
_DAY_NS: Final = 86_400 * 1_000_000_000
Scope = tuple[RiskScope, str]


@dataclass(slots=True)
class ScopePnl:
    """One scope's PnL now, today and at its peak, and its exposure."""

    scope: RiskScope
    key: str
    realized: Decimal = _ZERO
    unrealized: Decimal = _ZERO
    total: Decimal = _ZERO
    day: int = -1
    day_start: Decimal = _ZERO
    peak: Decimal | None = None
    gross: Decimal = _ZERO
    net: Decimal = _ZERO
    breached: set[str] = field(default_factory=set)

    @property
    def day_pnl(self) -> Decimal:
        """PnL since the day's first value."""
        return self.total - self.day_start

    @property
    def drawdown(self) -> Decimal:
        return (self.peak - self.total) if self.peak is not None else _ZERO


@dataclass(frozen=True, slots=True)
class Breach:
    """A live limit crossed: the scope is to go to ``action``."""

    scope: RiskScope
    key: str
    limit: str
    threshold: Decimal
    value: Decimal
    action: TradingState


class LiveLimits:
    """Keeps each scope's PnL and says when a limit is crossed."""

    def __init__(self, book: RiskBook) -> None:
        self.book = book
        self.scopes: dict[Scope, ScopePnl] = {}

    def scopes_of_fill(self, strategy_id: StrategyId, instrument_id: InstrumentId) -> list[Scope]:
        """The scopes a fill moves."""
        return [
            (RiskScope.ACCOUNT, self.book.account_id),
            (RiskScope.STRATEGY, strategy_id),
            (RiskScope.INSTRUMENT, str(instrument_id)),
        ]

    def scopes_of_price(self, instrument_id: InstrumentId) -> list[Scope]:
        """The scopes a new price moves: those holding the instrument."""
        holders = [
            (RiskScope.STRATEGY, strategy_id)
            for (strategy_id, iid), position in self.book.positions.items()
            if iid == instrument_id and position.quantity
        ]
        if not holders:
            return []
        return [
            (RiskScope.ACCOUNT, self.book.account_id),
            (RiskScope.INSTRUMENT, str(instrument_id)),
            *holders,
        ]

    def update(self, scopes: Iterable[Scope], now_ns: int) -> list[Breach]:
        """Revalue the scopes and return the limits they newly crossed."""
        limits = self.book.limits
        breaches: list[Breach] = []
        day = now_ns // _DAY_NS
        for scope in scopes:
            pnl = self.scopes.get(scope)
            if pnl is None:
                pnl = self.scopes[scope] = ScopePnl(*scope)
            before = pnl.total if pnl.day >= 0 else None
            self._value(pnl)
            if pnl.day != day:
                # The day starts from the value at midnight, the last one seen before now,
                # so the move that brought the scope here counts to today; a scope seen
                # for the first time starts from its value now (risk's start).
                pnl.day, pnl.day_start = day, pnl.total if before is None else before
                pnl.breached.clear()
            if pnl.peak is None or pnl.total > pnl.peak:
                pnl.peak = pnl.total
            loss = -pnl.day_pnl
            for name, threshold, value in (
                ("daily_loss_limit", limits.daily_loss_limit, loss),
                ("max_drawdown", limits.max_drawdown, pnl.drawdown),
            ):
                if threshold is not None and value >= threshold and name not in pnl.breached:
                    pnl.breached.add(name)
                    breaches.append(
                        Breach(pnl.scope, pnl.key, name, threshold, value, limits.breach_action)
                    )
        return breaches

    def _value(self, pnl: ScopePnl) -> None:
        realized = unrealized = gross = net = _ZERO
        for position in self._positions(pnl.scope, pnl.key):
            realized += position.realized_pnl - position.commissions
            if position.quantity:
                mark = self.book.prices.get(position.instrument_id)
                if mark is not None:
                    unrealized += position.unrealized_pnl(mark)
                    value = position.quantity * mark
                    gross += abs(value)
                    net += value
        pnl.realized, pnl.unrealized = realized, unrealized
        pnl.total = realized + unrealized
        pnl.gross, pnl.net = gross, net

    def _positions(self, scope: RiskScope, key: str) -> Iterable[Position]:
        positions = self.book.positions
        if scope is RiskScope.ACCOUNT:
            return positions.values() if key == self.book.account_id else ()
        if scope is RiskScope.STRATEGY:
            return (p for (strategy_id, _), p in positions.items() if strategy_id == key)
        return (p for (_, iid), p in positions.items() if str(iid) == key)
