"""v1 position and account events, published by execution."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import DecimalStr, InstrumentIdStr, Token, UnixNanos
from foxtrot.core.accounts import CashAccount
from foxtrot.core.enums import PositionSide
from foxtrot.core.portfolio import Position, PositionChange

__all__ = [
    "POSITION_EVENT_ADAPTER",
    "AccountBalance",
    "AccountState",
    "PositionChanged",
    "PositionClosed",
    "PositionEvent",
    "PositionOpened",
    "account_balances",
    "account_state_from_core",
    "position_event_from_core",
]


class _PositionEvent(Message):
    strategy_id: Token
    instrument_id: InstrumentIdStr
    side: PositionSide
    quantity: DecimalStr = Field(description="signed net quantity: > 0 long, < 0 short")
    avg_px_open: DecimalStr = Field(description="average entry price of the open quantity")
    realized_pnl: DecimalStr
    commissions: DecimalStr
    currency: Token = Field(description="currency of PnL and commissions")
    ts_opened: UnixNanos | None = None


class PositionOpened(_PositionEvent):
    """A fill opened a position from flat."""

    type: Literal["PositionOpened"] = "PositionOpened"


class PositionChanged(_PositionEvent):
    """A fill changed an open position."""

    type: Literal["PositionChanged"] = "PositionChanged"


class PositionClosed(_PositionEvent):
    """A fill brought a position back to flat."""

    type: Literal["PositionClosed"] = "PositionClosed"


PositionEvent = Annotated[
    PositionOpened | PositionChanged | PositionClosed, Field(discriminator="type")
]
POSITION_EVENT_ADAPTER: TypeAdapter[PositionEvent] = TypeAdapter(PositionEvent)

_BY_CHANGE: dict[PositionChange, type[_PositionEvent]] = {
    PositionChange.OPENED: PositionOpened,
    PositionChange.CHANGED: PositionChanged,
    PositionChange.CLOSED: PositionClosed,
}


def position_event_from_core(
    position: Position, change: PositionChange, currency: str, **envelope: Any
) -> PositionEvent:
    """Describe a position after a fill as the event for ``change``."""
    event = _BY_CHANGE[change](
        strategy_id=position.strategy_id,
        instrument_id=str(position.instrument_id),
        side=position.side,
        quantity=position.quantity,
        avg_px_open=position.avg_px_open,
        realized_pnl=position.realized_pnl,
        commissions=position.commissions,
        currency=currency,
        ts_opened=position.ts_opened,
        **envelope,
    )
    return event  # type: ignore[return-value]


class AccountBalance(BaseModel):
    """One currency's balance in an account."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: Token
    total: DecimalStr
    locked: DecimalStr
    free: DecimalStr


class AccountState(Message):
    """An account's balances after a change. Subject: evt.v1.account.{account_id}."""

    type: Literal["AccountState"] = "AccountState"
    account_id: Token
    balances: tuple[AccountBalance, ...]


def account_balances(account: CashAccount) -> tuple[AccountBalance, ...]:
    """An account's balances as they travel, per currency."""
    return tuple(
        AccountBalance(currency=b.currency, total=b.total, locked=b.locked, free=b.free)
        for b in account.balances()
    )


def account_state_from_core(account: CashAccount, **envelope: Any) -> AccountState:
    """Describe an account's balances after a change."""
    return AccountState(
        account_id=account.account_id, balances=account_balances(account), **envelope
    )
