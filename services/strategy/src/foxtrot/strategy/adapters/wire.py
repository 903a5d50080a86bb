"""The strategy service's edge: what a hosted strategy asks for, as v1 commands on their
subjects, and what arrives, as the domain types its runtime takes."""

from __future__ import annotations

import uuid
from typing import Any, Final

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import AccountState, Message
from foxtrot.common.messages.v1 import CancelOrder as WireCancel
from foxtrot.common.messages.v1 import ModifyOrder as WireModify
from foxtrot.common.messages.v1 import SubmitOrder as WireSubmit
from foxtrot.common.messages.v1 import SubmitOrderList as WireSubmitList
from foxtrot.common.publishing import derived_id
from foxtrot.core.accounts import Balance
from foxtrot.core.commands import (
    CancelOrder,
    ModifyOrder,
    SubmitOrder,
    SubmitOrderList,
    TradingCommand,
)
from foxtrot.core.orders import OrderSpec

__all__ = [
    "Outgoing",
    "balances_of",
    "command_messages",
    "instance_root",
    "spec_from_json",
    "spec_to_json",
]

Outgoing = tuple[str, Message]  # subject, message
# Root of the ids of messages no incoming message caused (a timer, a start or stop).
_INSTANCES: Final = uuid.UUID("9d7d8a35-2f0e-4c44-8a0b-6b6f3c5e0d21")
_ENVELOPE: Final = frozenset(
    {"message_id", "correlation_id", "causation_id", "ts_event", "ts_init", "schema_version"}
)


def instance_root(strategy_id: str) -> uuid.UUID:
    """The id the commands of an instance's timers, starts and stops derive theirs from."""
    return uuid.uuid5(_INSTANCES, strategy_id)


def command_messages(
    commands: list[TradingCommand],
    cause: Message | None,
    root: uuid.UUID,
    now: int,
) -> list[Outgoing]:
    """The commands on the wire, each on its subject (submits, lists and modifies through
    risk, cancels to execution).

    Message ids are derived from the cause (the message the strategy was handling, else the
    instance's ``root``) and the client order id, so that what a redelivered message asks
    for again carries the ids JetStream has already seen."""
    cause_id = cause.message_id if cause is not None else root

    def envelope(key: str) -> dict[str, Any]:
        message_id = derived_id(cause_id, key)
        if cause is not None:
            return cause.caused(ts_event=now, ts_init=now, message_id=message_id)
        return {"ts_event": now, "ts_init": now, "message_id": message_id, "correlation_id": root}

    out: list[Outgoing] = []
    for index, command in enumerate(commands):
        if isinstance(command, SubmitOrder):
            spec = command.spec
            out.append(
                (
                    subjects.RISK_SUBMIT_ORDER,
                    WireSubmit.from_core(spec, **envelope(spec.client_order_id)),
                )
            )
        elif isinstance(command, SubmitOrderList):
            orders = tuple(
                WireSubmit.from_core(s, **envelope(s.client_order_id)) for s in command.specs
            )
            wire_list = WireSubmitList(
                order_list_id=command.order_list_id,
                orders=orders,
                **envelope(f"list-{command.order_list_id}"),
            )
            out.append((subjects.RISK_SUBMIT_ORDER_LIST, wire_list))
        elif isinstance(command, ModifyOrder):
            modify = WireModify(
                client_order_id=command.client_order_id,
                strategy_id=command.strategy_id,
                instrument_id=str(command.instrument_id),
                quantity=command.quantity,
                price=command.price,
                trigger_price=command.trigger_price,
                **envelope(f"modify-{command.client_order_id}-{now if cause is None else index}"),
            )
            out.append((subjects.RISK_MODIFY_ORDER, modify))
        else:
            assert isinstance(command, CancelOrder)
            cancel = WireCancel(
                client_order_id=command.client_order_id,
                strategy_id=command.strategy_id,
                instrument_id=str(command.instrument_id),
                **envelope(f"cancel-{command.client_order_id}-{now if cause is None else index}"),
            )
            out.append((subjects.EXEC_CANCEL_ORDER, cancel))
    return out


def balances_of(state: AccountState) -> list[Balance]:
    """An account state's balances as the runtime takes them."""
    return [Balance(b.currency, b.total, b.locked) for b in state.balances]


def spec_to_json(spec: OrderSpec) -> dict[str, Any]:
    """An order's spec as plain JSON values (to keep an order in flight in saved state)."""
    wire = WireSubmit.from_core(spec, ts_event=0, ts_init=0)
    return wire.model_dump(mode="json", exclude=set(_ENVELOPE) | {"type"})


def spec_from_json(document: dict[str, Any]) -> OrderSpec:
    """The spec :func:`spec_to_json` gave."""
    return WireSubmit.model_validate({**document, "ts_event": 0, "ts_init": 0}).to_core()
