"""Order lists whose orders depend on each other: OTO, OCO and brackets.

- **OTO** (one triggers other): the parent's children wait, INITIALIZED, until it fills.
  Its first fill releases them at the quantity filled so far; later fills grow them to
  match. Children have the parent's quantity. A parent that ends without any fill cancels
  its waiting children.
- **OCO** (one cancels other): a member that fills completely cancels the others; a
  partial fill cuts the others to what the filling member has left (so a position is
  never protected twice); a member canceled, expired or rejected cancels the others.
- **Bracket**: an OTO entry whose children, a stop-loss and a take-profit, are OCO.

:func:`contingent_actions` says what an event calls for; the execution engine carries it
out and feeds the resulting events back, until nothing more follows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from foxtrot.core.enums import ContingencyType, OrderStatus
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.events import (
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from foxtrot.core.identifiers import ClientOrderId
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order

__all__ = [
    "CancelLinked",
    "ContingentAction",
    "ReleaseChild",
    "ResizeLinked",
    "bracket",
    "check_order_list",
    "contingent_actions",
]


@dataclass(frozen=True, slots=True)
class ReleaseChild:
    """Send a waiting OTO child to its venue at ``quantity``."""

    client_order_id: ClientOrderId
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class ResizeLinked:
    """Change a linked order's quantity to ``quantity``."""

    client_order_id: ClientOrderId
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class CancelLinked:
    """Cancel a linked order (waiting or working)."""

    client_order_id: ClientOrderId


ContingentAction = ReleaseChild | ResizeLinked | CancelLinked
_ENDED_UNFILLED = (OrderCanceled, OrderExpired, OrderRejected, OrderDenied)


def bracket(
    entry: OrderSpec, stop_loss: OrderSpec, take_profit: OrderSpec, order_list_id: str
) -> tuple[OrderSpec, OrderSpec, OrderSpec]:
    """Link an entry, a stop-loss and a take-profit into a bracket list."""
    sl_id, tp_id = stop_loss.client_order_id, take_profit.client_order_id
    return (
        dataclasses.replace(
            entry,
            contingency_type=ContingencyType.OTO,
            order_list_id=order_list_id,
            linked_order_ids=(sl_id, tp_id),
        ),
        *(
            dataclasses.replace(
                child,
                contingency_type=ContingencyType.OCO,
                order_list_id=order_list_id,
                linked_order_ids=(other,),
                parent_order_id=entry.client_order_id,
            )
            for child, other in ((stop_loss, tp_id), (take_profit, sl_id))
        ),
    )  # type: ignore[return-value]


def check_order_list(specs: Sequence[OrderSpec]) -> None:
    """Raise InvalidOrder unless the orders form one coherent list."""
    if not specs:
        raise InvalidOrder("an order list needs at least one order")
    by_id = {s.client_order_id: s for s in specs}
    if len(by_id) != len(specs):
        raise InvalidOrder("client order ids in a list must be unique")
    list_ids = {s.order_list_id for s in specs}
    if len(list_ids) != 1 or None in list_ids:
        raise InvalidOrder(f"every order in a list needs the same order_list_id, was {list_ids}")
    for spec in specs:
        if spec.instrument_id != specs[0].instrument_id:
            raise InvalidOrder("every order in a list must be for the same instrument")
        for linked in spec.linked_order_ids:
            if linked not in by_id:
                raise InvalidOrder(
                    f"{spec.client_order_id} links {linked}, which is not in the list"
                )
        if spec.contingency_type is ContingencyType.OTO:
            for child_id in spec.linked_order_ids:
                child = by_id[child_id]
                if child.parent_order_id != spec.client_order_id:
                    raise InvalidOrder(
                        f"OTO child {child_id} must name {spec.client_order_id} as parent"
                    )
                if child.quantity != spec.quantity:
                    raise InvalidOrder(
                        f"OTO child {child_id} must have its parent's quantity {spec.quantity}, "
                        f"was {child.quantity}"
                    )
        if spec.parent_order_id is not None:
            parent = by_id.get(spec.parent_order_id)
            if parent is None or spec.client_order_id not in parent.linked_order_ids:
                raise InvalidOrder(
                    f"{spec.client_order_id} names parent {spec.parent_order_id}, "
                    "which does not list it as a child"
                )
        if spec.contingency_type is ContingencyType.OCO:
            for other in spec.linked_order_ids:
                if spec.client_order_id not in by_id[other].linked_order_ids:
                    raise InvalidOrder(
                        f"OCO link {spec.client_order_id} -> {other} must go both ways"
                    )


def contingent_actions(
    event: OrderEvent, orders: Mapping[ClientOrderId, Order]
) -> list[ContingentAction]:
    """What the order's links call for after ``event`` was applied to it."""
    order = orders.get(event.client_order_id)
    if order is None:
        return []
    spec = order.spec
    if spec.contingency_type is ContingencyType.OTO:
        return _oto(event, order, orders)
    if spec.contingency_type is ContingencyType.OCO:
        return _oco(event, order, orders)
    return []


def _oto(
    event: OrderEvent, parent: Order, orders: Mapping[ClientOrderId, Order]
) -> list[ContingentAction]:
    actions: list[ContingentAction] = []
    for child_id in parent.spec.linked_order_ids:
        child = orders.get(child_id)
        if child is None or child.status.is_terminal:
            continue
        if isinstance(event, OrderFilled):
            if child.status is OrderStatus.INITIALIZED:
                actions.append(ReleaseChild(child_id, parent.filled_qty))
            elif child.spec.quantity < parent.filled_qty:
                actions.append(ResizeLinked(child_id, parent.filled_qty))
        elif isinstance(event, _ENDED_UNFILLED) and child.status is OrderStatus.INITIALIZED:
            actions.append(CancelLinked(child_id))
    return actions


def _oco(
    event: OrderEvent, member: Order, orders: Mapping[ClientOrderId, Order]
) -> list[ContingentAction]:
    actions: list[ContingentAction] = []
    for other_id in member.spec.linked_order_ids:
        other = orders.get(other_id)
        if other is None or other.status.is_terminal or other.status is OrderStatus.PENDING_CANCEL:
            continue
        if isinstance(event, OrderFilled):
            if other.status is OrderStatus.INITIALIZED:
                continue  # waiting children are released together; nothing to trim yet
            if member.status is OrderStatus.FILLED or member.leaves_qty <= 0:
                actions.append(CancelLinked(other_id))
            elif other.spec.quantity - other.filled_qty > member.leaves_qty:
                actions.append(ResizeLinked(other_id, other.filled_qty + member.leaves_qty))
        elif isinstance(event, _ENDED_UNFILLED):
            actions.append(CancelLinked(other_id))
    return actions
