"""Reads and writes risk's schema: limits, trading states, their audit trails, decisions.

Every method runs on the caller's connection and none commits: a change and its audit row
go in together with whatever else the caller does in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from foxtrot.common.messages.v1 import (
    DecisionsQuery,
    DecisionView,
    LimitChangeView,
    RuleResult,
    TradingStateView,
)
from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.core.risk import Denial
from foxtrot.risk.adapters.tables import (
    SCHEMA,
    decisions,
    limit_changes,
    limits,
    trading_state_changes,
    trading_states,
)

__all__ = ["DecisionRow", "RecentDecision", "RiskRepository"]


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One pre-trade decision as it is stored; the JSON arrives already encoded, so the hot
    path encodes each command once (it has the bytes it received)."""

    client_order_id: str
    strategy_id: str
    account_id: str
    instrument_id: str
    command: str
    order_json: str
    approved: bool
    code: str | None
    reason: str | None
    rules_json: str
    latency_ns: int
    ts_decided: int
    command_id: UUID  # the command received: an order list's, for each of its orders


@dataclass(frozen=True, slots=True)
class RecentDecision:
    """A decision as a restarted risk remembers it, to answer its command alike."""

    command_id: UUID
    client_order_id: str
    in_list: bool  # one order of an order list: the list stands or falls on it
    denial: Denial | None


# One statement for a whole batch: one array parameter per column, zipped back into rows by
# unnest, so a batch of two hundred decisions costs one round trip and one parameter per
# column rather than one per value. JSON travels as text and PostgreSQL parses it; WITH
# ORDINALITY keeps ids in the batch's order. CAST rather than ``::``, which text() would
# take for the start of a bind parameter.
_RECORD_DECISIONS = text(
    f"""
    INSERT INTO {SCHEMA}.{decisions.name} (
        client_order_id, strategy_id, account_id, instrument_id, command, "order",
        approved, code, reason, rules, latency_ns, ts_decided, command_id
    )
    SELECT client_order_id, strategy_id, account_id, instrument_id, command,
        CAST(order_json AS JSONB), approved, code, reason, CAST(rules_json AS JSONB),
        latency_ns, ts_decided, command_id
    FROM unnest(
        CAST(:client_order_id AS TEXT[]), CAST(:strategy_id AS TEXT[]),
        CAST(:account_id AS TEXT[]), CAST(:instrument_id AS TEXT[]),
        CAST(:command AS TEXT[]), CAST(:order_json AS TEXT[]),
        CAST(:approved AS BOOLEAN[]), CAST(:code AS TEXT[]), CAST(:reason AS TEXT[]),
        CAST(:rules_json AS TEXT[]), CAST(:latency_ns AS BIGINT[]),
        CAST(:ts_decided AS BIGINT[]), CAST(:command_id AS UUID[])
    ) WITH ORDINALITY AS staged(
        client_order_id, strategy_id, account_id, instrument_id, command, order_json,
        approved, code, reason, rules_json, latency_ns, ts_decided, command_id, n
    )
    ORDER BY n
    """
)
_DECISION_FIELDS = tuple(field.name for field in fields(DecisionRow))
_decision_values = attrgetter(*_DECISION_FIELDS)


class RiskRepository:
    """Risk's state over one connection; the caller owns the transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- limits ---------------------------------------------------------------------------

    async def load_limits(self) -> dict[str, str | None]:
        """Every limit changed at run time, by name (None: switched off)."""
        rows = await self.conn.execute(select(limits.c.name, limits.c.value))
        return {name: value for name, value in rows}

    async def change_limits(
        self,
        changes: Mapping[str, str | None],
        old: Mapping[str, str | None],
        changed_by: str,
        reason: str,
        ts: int,
    ) -> None:
        """Store each new value and, for each that differs from ``old`` (a name missing
        there was off), one audit row with who, why, the old and the new value."""
        if not changes:
            return
        stmt = insert(limits).values(
            [
                {"name": name, "value": value, "updated_at_ns": ts, "updated_by": changed_by}
                for name, value in changes.items()
            ]
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[limits.c.name],
                set_={
                    "value": stmt.excluded.value,
                    "updated_at_ns": stmt.excluded.updated_at_ns,
                    "updated_by": stmt.excluded.updated_by,
                },
            )
        )
        audit = [
            {
                "name": name,
                "old_value": old.get(name),
                "new_value": value,
                "changed_by": changed_by,
                "reason": reason,
                "ts_changed": ts,
            }
            for name, value in changes.items()
            if old.get(name) != value
        ]
        if audit:
            await self.conn.execute(insert(limit_changes).values(audit))

    async def limit_changes(self, name: str | None, limit: int) -> list[LimitChangeView]:
        """The audit trail of every limit, or of one, newest first."""
        stmt = select(limit_changes).order_by(limit_changes.c.id.desc()).limit(limit)
        if name is not None:
            stmt = stmt.where(limit_changes.c.name == name)
        rows = (await self.conn.execute(stmt)).mappings()
        return [
            LimitChangeView(
                name=row["name"],
                old_value=row["old_value"],
                new_value=row["new_value"],
                changed_by=row["changed_by"],
                reason=row["reason"],
                ts_changed=row["ts_changed"],
            )
            for row in rows
        ]

    # --- trading states -------------------------------------------------------------------

    async def load_trading_states(self) -> list[TradingStateView]:
        """The state of every scope ever switched, ACTIVE ones included, by scope and key."""
        stmt = select(trading_states).order_by(trading_states.c.scope, trading_states.c.key)
        rows = (await self.conn.execute(stmt)).mappings()
        return [
            TradingStateView(
                scope=RiskScope(row["scope"]),
                key=row["key"],
                state=TradingState(row["state"]),
                reason=row["reason"],
                changed_by=row["changed_by"],
                ts_changed=row["ts_changed"],
            )
            for row in rows
        ]

    async def set_trading_state(
        self,
        scope: RiskScope,
        key: str,
        old: TradingState,
        new: TradingState,
        reason: str,
        changed_by: str,
        ts: int,
    ) -> None:
        """Put a scope in ``new`` and record the switch from ``old`` in its history."""
        current = {
            "scope": scope.value,
            "key": key,
            "state": new.value,
            "reason": reason,
            "changed_by": changed_by,
            "ts_changed": ts,
        }
        stmt = insert(trading_states).values(current)
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[trading_states.c.scope, trading_states.c.key],
                set_={
                    name: stmt.excluded[name]
                    for name in ("state", "reason", "changed_by", "ts_changed")
                },
            )
        )
        await self.conn.execute(
            insert(trading_state_changes).values(
                scope=scope.value,
                key=key,
                old_state=old.value,
                new_state=new.value,
                reason=reason,
                changed_by=changed_by,
                ts_changed=ts,
            )
        )

    # --- decisions ------------------------------------------------------------------------

    async def record_decisions(self, rows: Sequence[DecisionRow]) -> None:
        """Store a batch of decisions in one statement, in the batch's order."""
        if not rows:
            return
        # Rows to one tuple per column (attrgetter and zip run in C).
        columns = zip(*map(_decision_values, rows), strict=True)
        arrays = dict(zip(_DECISION_FIELDS, columns, strict=True))
        await self.conn.execute(_RECORD_DECISIONS, arrays)

    async def decisions(self, query: DecisionsQuery) -> list[DecisionView]:
        """Recorded decisions that match the query, newest first; ``before_id`` pages."""
        stmt = select(decisions).order_by(decisions.c.id.desc()).limit(query.limit)
        if query.client_order_id is not None:
            stmt = stmt.where(decisions.c.client_order_id == query.client_order_id)
        if query.strategy_id is not None:
            stmt = stmt.where(decisions.c.strategy_id == query.strategy_id)
        if query.denied_only:
            # The same predicate as the partial index, so the planner can use it.
            stmt = stmt.where(~decisions.c.approved)
        if query.before_id is not None:
            stmt = stmt.where(decisions.c.id < query.before_id)
        rows = (await self.conn.execute(stmt)).mappings()
        return [
            DecisionView(
                id=row["id"],
                client_order_id=row["client_order_id"],
                strategy_id=row["strategy_id"],
                account_id=row["account_id"],
                instrument_id=row["instrument_id"],
                command=row["command"],
                order=row["order"],
                approved=row["approved"],
                code=row["code"],
                reason=row["reason"],
                rules=tuple(RuleResult(rule=r["rule"], code=r.get("code")) for r in row["rules"]),
                latency_ns=row["latency_ns"],
                ts_decided=row["ts_decided"],
            )
            for row in rows
        ]

    async def recent_decisions(self, limit: int) -> list[RecentDecision]:
        """The last ``limit`` decisions, oldest first: what a command delivered again after
        a restart must be answered with."""
        stmt = (
            select(
                decisions.c.command_id,
                decisions.c.order["message_id"].astext,
                decisions.c.client_order_id,
                decisions.c.code,
                decisions.c.reason,
            )
            .order_by(decisions.c.id.desc())
            .limit(limit)
        )
        rows = (await self.conn.execute(stmt)).all()
        return [
            RecentDecision(
                command_id=command_id,
                client_order_id=client_order_id,
                in_list=order_id != str(command_id),
                denial=None if code is None else Denial(code, reason or ""),
            )
            for command_id, order_id, client_order_id, code, reason in reversed(rows)
        ]
