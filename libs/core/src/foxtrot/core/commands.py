"""Trading commands as the domain sees them: what a strategy asks risk and execution to do."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from foxtrot.core.identifiers import ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.order_spec import OrderSpec

__all__ = ["CancelOrder", "ModifyOrder", "SubmitOrder", "SubmitOrderList", "TradingCommand"]


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """Ask for one new order."""

    spec: OrderSpec


@dataclass(frozen=True, slots=True)
class SubmitOrderList:
    """Ask for linked orders (OTO, OCO, bracket) that stand or fall together, parents first."""

    order_list_id: str
    specs: tuple[OrderSpec, ...]


@dataclass(frozen=True, slots=True)
class ModifyOrder:
    """Ask to change a working order's quantity or prices; None leaves a field as it is."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Ask to cancel a working order."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId


TradingCommand = SubmitOrder | SubmitOrderList | ModifyOrder | CancelOrder
