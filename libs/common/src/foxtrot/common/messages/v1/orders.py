"""v1 order commands: what strategies and people ask risk and execution to do."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, model_validator

from foxtrot.common.messages.v1.envelope import Message
from foxtrot.common.messages.v1.types import (
    InstrumentIdStr,
    NonNegativeDecimalStr,
    PositiveDecimalStr,
    Token,
    UnixNanos,
)
from foxtrot.core.contingencies import check_order_list
from foxtrot.core.enums import (
    ContingencyType,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.orders import OrderSpec

__all__ = ["MAX_ORDER_LIST", "CancelOrder", "ModifyOrder", "SubmitOrder", "SubmitOrderList"]

MAX_ORDER_LIST: Final = 16

ClientOrderIdStr = Field(
    pattern=r"^[A-Za-z0-9_\-:]+$",
    min_length=1,
    max_length=64,
    description="id the submitter gives the order; unique per account",
)
LinkedOrderId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-:]+$", min_length=1, max_length=64)]


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
    trailing_offset: PositiveDecimalStr | None = Field(
        default=None, description="trailing stops: how far the trigger trails the market"
    )
    trailing_offset_type: TrailingOffsetType = Field(
        default=TrailingOffsetType.PRICE,
        description="unit of trailing_offset and limit_offset: PRICE or BASIS_POINTS",
    )
    limit_offset: NonNegativeDecimalStr | None = Field(
        default=None, description="trailing stop-limits: how far the limit trails the trigger"
    )
    display_qty: PositiveDecimalStr | None = Field(
        default=None, description="iceberg: the quantity shown at a time"
    )
    contingency_type: ContingencyType = Field(
        default=ContingencyType.NONE, description="OTO parent or OCO member of an order list"
    )
    order_list_id: Token | None = Field(default=None, description="the order list it belongs to")
    linked_order_ids: tuple[LinkedOrderId, ...] = Field(
        default=(), description="OTO: its children; OCO: the orders it cancels"
    )
    parent_order_id: LinkedOrderId | None = Field(
        default=None, description="the OTO parent whose fills release this order"
    )

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
            trailing_offset=self.trailing_offset,
            trailing_offset_type=self.trailing_offset_type,
            limit_offset=self.limit_offset,
            display_qty=self.display_qty,
            contingency_type=self.contingency_type,
            order_list_id=self.order_list_id,
            linked_order_ids=tuple(ClientOrderId(i) for i in self.linked_order_ids),
            parent_order_id=(
                ClientOrderId(self.parent_order_id) if self.parent_order_id is not None else None
            ),
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
            trailing_offset=spec.trailing_offset,
            trailing_offset_type=spec.trailing_offset_type,
            limit_offset=spec.limit_offset,
            display_qty=spec.display_qty,
            contingency_type=spec.contingency_type,
            order_list_id=spec.order_list_id,
            linked_order_ids=spec.linked_order_ids,
            parent_order_id=spec.parent_order_id,
            **envelope,
        )


class SubmitOrderList(Message):
    """Ask for a list of linked orders (OTO, OCO, bracket) that stand or fall together.
    Subjects: cmd.v1.risk.submit_order_list, then cmd.v1.exec.submit_order_list."""

    type: Literal["SubmitOrderList"] = "SubmitOrderList"
    order_list_id: Token = Field(description="id of the list; every order carries it")
    orders: tuple[SubmitOrder, ...] = Field(
        min_length=1, max_length=MAX_ORDER_LIST, description="the orders, parents first"
    )

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        try:
            check_order_list(self.to_core())
        except InvalidOrder as exc:
            raise ValueError(str(exc)) from None
        return self

    def to_core(self) -> list[OrderSpec]:
        """The domain's view of every order in the list."""
        return [order.to_core() for order in self.orders]


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
