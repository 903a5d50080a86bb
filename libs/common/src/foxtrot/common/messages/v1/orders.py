"""v1 order commands: what strategies and people ask risk and execution to do."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, model_validator

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import (
    InstrumentIdStr,
    PositiveDecimalStr,
    Token,
    UnixNanos,
)
from foxtrot.core.enums import OrderSide, OrderType, TimeInForce
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.orders import OrderSpec

__all__ = ["CancelOrder", "ModifyOrder", "SubmitOrder"]

ClientOrderIdStr = Field(
    pattern=r"^[A-Za-z0-9_\-:]+$",
    min_length=1,
    max_length=64,
    description="id the submitter gives the order; unique per account",
)


class SubmitOrder(Message):
    """Ask for a new order. Subjects: cmd.v1.risk.submit_order, then cmd.v1.exec.submit_order."""

    type: Literal["SubmitOrder"] = "SubmitOrder"
    client_order_id: str = ClientOrderIdStr
    strategy_id: Token = Field(description="strategy (or 'manual') that owns the order")
    account_id: Token
    instrument_id: InstrumentIdStr
    side: OrderSide
    order_type: OrderType
    quantity: PositiveDecimalStr
    price: PositiveDecimalStr | None = Field(default=None, description="limit price")
    trigger_price: PositiveDecimalStr | None = Field(
        default=None, description="stop / if-touched trigger"
    )
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time_ns: UnixNanos | None = Field(default=None, description="expiry for GTD")
    reduce_only: bool = False
    post_only: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        try:
            self.to_core()
        except InvalidOrder as exc:
            raise ValueError(str(exc)) from None
        return self

    def to_core(self) -> OrderSpec:
        """The domain's view of the order asked for."""
        return OrderSpec(
            client_order_id=ClientOrderId(self.client_order_id),
            strategy_id=StrategyId(self.strategy_id),
            account_id=AccountId(self.account_id),
            instrument_id=InstrumentId.parse(self.instrument_id),
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            time_in_force=self.time_in_force,
            price=self.price,
            trigger_price=self.trigger_price,
            expire_time_ns=self.expire_time_ns,
            reduce_only=self.reduce_only,
            post_only=self.post_only,
        )

    @classmethod
    def from_core(cls, spec: OrderSpec, **envelope: Any) -> Self:
        """Wrap a domain order spec for the wire."""
        return cls(
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            account_id=spec.account_id,
            instrument_id=str(spec.instrument_id),
            side=spec.side,
            order_type=spec.order_type,
            quantity=spec.quantity,
            price=spec.price,
            trigger_price=spec.trigger_price,
            time_in_force=spec.time_in_force,
            expire_time_ns=spec.expire_time_ns,
            reduce_only=spec.reduce_only,
            post_only=spec.post_only,
            **envelope,
        )


class ModifyOrder(Message):
    """Ask to change a working order's quantity or prices. Subject: cmd.v1.risk.modify_order."""

    type: Literal["ModifyOrder"] = "ModifyOrder"
    client_order_id: str = ClientOrderIdStr
    strategy_id: Token
    instrument_id: InstrumentIdStr
    quantity: PositiveDecimalStr | None = None
    price: PositiveDecimalStr | None = None
    trigger_price: PositiveDecimalStr | None = None


class CancelOrder(Message):
    """Ask to cancel a working order. Subject: cmd.v1.exec.cancel_order."""

    type: Literal["CancelOrder"] = "CancelOrder"
    client_order_id: str = ClientOrderIdStr
    strategy_id: Token
    instrument_id: InstrumentIdStr
