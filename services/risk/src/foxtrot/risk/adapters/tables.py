"""Risk's tables in its own ``risk`` schema: limits and trading states in force, the audit
trail of every change to them, and every pre-trade decision."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Identity, Index, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

SCHEMA = "risk"
metadata = MetaData(schema=SCHEMA)

limits = Table(
    "limits",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=True, comment="null: the limit is switched off"),
    Column("updated_at_ns", BigInteger, nullable=False),
    Column("updated_by", Text, nullable=False),
    comment="every limit set at run time, by name: what is in force after a restart",
)

limit_changes = Table(
    "limit_changes",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Column("changed_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("ts_changed", BigInteger, nullable=False),
    comment="audit trail: every change of a limit's value, who made it and why",
)
# One limit's audit trail, newest first, without a sort.
Index("ix_risk_limit_changes_name_id", limit_changes.c.name, limit_changes.c.id.desc())

trading_states = Table(
    "trading_states",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("ts_changed", BigInteger, nullable=False),
    comment="the state of every scope ever switched (a scope not here is ACTIVE)",
)

trading_state_changes = Table(
    "trading_state_changes",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("old_state", Text, nullable=False),
    Column("new_state", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("ts_changed", BigInteger, nullable=False),
    comment="audit trail: every trading state switch, by a person or by a breached limit",
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("client_order_id", Text, nullable=False),
    Column("strategy_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("instrument_id", Text, nullable=False),
    Column("command", Text, nullable=False, comment="SubmitOrder or ModifyOrder"),
    Column("order", JSONB, nullable=False, comment="the command as risk received it"),
    Column("approved", Boolean, nullable=False),
    Column("code", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("rules", JSONB, nullable=False, comment='[{"rule": ..., "code": ... or null}]'),
    Column("latency_ns", BigInteger, nullable=False, comment="time the checks took"),
    Column("ts_decided", BigInteger, nullable=False),
    Column(
        "command_id",
        UUID(as_uuid=True),
        nullable=False,
        comment="the id of the command risk received: a list's for its members",
    ),
    comment="every pre-trade decision: the order, the verdict and each rule's result",
)
Index("ix_risk_decisions_client_order_id", decisions.c.client_order_id)
# A strategy's decisions, newest first, paged by id.
Index("ix_risk_decisions_strategy_id_id", decisions.c.strategy_id, decisions.c.id.desc())
# Denials are few among many approvals: asking for them reads only them.
Index("ix_risk_decisions_denied", decisions.c.id, postgresql_where=~decisions.c.approved)

__all__ = [
    "SCHEMA",
    "decisions",
    "limit_changes",
    "limits",
    "metadata",
    "trading_state_changes",
    "trading_states",
]
