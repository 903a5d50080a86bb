"""``/v1/accounts`` and ``/v1/portfolio``: balances per currency, PnL per strategy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, HTTPException

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    AccountsQuery,
    AccountsReply,
    AccountView,
    PositionsQuery,
    PositionsReply,
    PositionView,
)
from foxtrot.gateway.api.deps import BrokerDep, SettingsDep
from foxtrot.gateway.api.schemas import PortfolioView, StrategyPnl
from foxtrot.gateway.service import ask, validated

__all__ = ["router", "strategy_pnl"]

router = APIRouter(tags=["portfolio"])


async def _accounts(
    broker: BrokerDep, settings: SettingsDep, account_id: str | None
) -> AccountsReply:
    query = validated(AccountsQuery, account_id=account_id)
    return await ask(
        broker,
        "execution",
        subjects.QRY_EXEC_ACCOUNTS,
        query,
        AccountsReply,
        settings.query_timeout_s,
    )


@router.get("/v1/accounts", summary="Every account's balances per currency")
async def list_accounts(broker: BrokerDep, settings: SettingsDep) -> list[AccountView]:
    return list((await _accounts(broker, settings, None)).accounts)


@router.get("/v1/accounts/{account_id}", summary="One account's balances per currency")
async def get_account(account_id: str, broker: BrokerDep, settings: SettingsDep) -> AccountView:
    reply = await _accounts(broker, settings, account_id)
    if not reply.accounts:
        raise HTTPException(404, f"execution knows no account {account_id!r}")
    return reply.accounts[0]


@router.get("/v1/portfolio", summary="PnL per strategy and currency, and every account")
async def get_portfolio(broker: BrokerDep, settings: SettingsDep) -> PortfolioView:
    positions = await ask(
        broker,
        "execution",
        subjects.QRY_EXEC_POSITIONS,
        PositionsQuery(),
        PositionsReply,
        settings.query_timeout_s,
    )
    accounts = await _accounts(broker, settings, None)
    return PortfolioView(
        strategies=strategy_pnl(positions.positions), accounts=list(accounts.accounts)
    )


@dataclass(slots=True)
class _Sum:
    realized: Decimal = Decimal(0)
    unrealized: Decimal = Decimal(0)
    commissions: Decimal = Decimal(0)
    open: int = 0
    unmarked: int = 0


def strategy_pnl(positions: Iterable[PositionView]) -> list[StrategyPnl]:
    """Sum positions per strategy and currency; unmarked open positions are counted apart."""
    sums: dict[tuple[str, str], _Sum] = {}
    for p in positions:
        row = sums.setdefault((p.strategy_id, p.currency), _Sum())
        row.realized += p.realized_pnl
        row.commissions += p.commissions
        if p.quantity:
            row.open += 1
            if p.unrealized_pnl is None:
                row.unmarked += 1
            else:
                row.unrealized += p.unrealized_pnl
    return [
        StrategyPnl(
            strategy_id=strategy_id,
            currency=currency,
            realized_pnl=row.realized,
            unrealized_pnl=row.unrealized,
            commissions=row.commissions,
            open_positions=row.open,
            unmarked_positions=row.unmarked,
        )
        for (strategy_id, currency), row in sorted(sums.items())
    ]
