"""Where the hosted instances are kept: one row each, with the state they saved.

:class:`InstanceStore` is the port the host writes through; :class:`SqlInstanceStore` keeps
the rows in PostgreSQL (``strategy.instances``), and tests use a store in memory.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.core.strategy import StrategyState
from foxtrot.strategy.adapters.documents import jsonb
from foxtrot.strategy.adapters.tables import instances

__all__ = ["InstanceRecord", "InstanceStore", "SqlInstanceStore"]


@dataclass
class InstanceRecord:
    """One hosted instance as it is stored."""

    strategy_id: str
    strategy: str
    strategy_path: str
    config: dict[str, Any]
    desired_state: str  # RUNNING or STOPPED
    state: StrategyState
    fault: str | None
    saved_state: dict[str, Any] | None
    created_at_ns: int
    started_at_ns: int | None
    updated_at_ns: int
    state_saved_at_ns: int | None = None

    def row(self) -> dict[str, Any]:
        """The record as the table's columns."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["state"] = self.state.value
        values["config"] = jsonb(self.config)
        values["saved_state"] = jsonb(self.saved_state) if self.saved_state is not None else None
        return values

    @classmethod
    def of_row(cls, row: Any) -> InstanceRecord:
        """A record from a row of the table."""
        values = {f.name: row[f.name] for f in fields(cls)}
        values["state"] = StrategyState(values["state"])
        return cls(**values)


class InstanceStore:
    """The instances, kept in memory (tests); :class:`SqlInstanceStore` keeps them in
    PostgreSQL."""

    def __init__(self) -> None:
        self.rows: dict[str, InstanceRecord] = {}

    async def load_all(self) -> list[InstanceRecord]:
        """Every instance, by id."""
        return [copy.deepcopy(self.rows[k]) for k in sorted(self.rows)]

    async def insert(self, record: InstanceRecord) -> None:
        """Store a new instance; ValueError if its id is taken."""
        if record.strategy_id in self.rows:
            raise ValueError(f"strategy instance {record.strategy_id} exists already")
        self.rows[record.strategy_id] = copy.deepcopy(record)

    async def update(self, record: InstanceRecord) -> None:
        """Write the instance as it is now, its saved state included."""
        self.rows[record.strategy_id] = copy.deepcopy(record)

    async def delete(self, strategy_id: str) -> None:
        """Forget an instance and its saved state."""
        self.rows.pop(strategy_id, None)


class SqlInstanceStore(InstanceStore):
    """The instances in ``strategy.instances``; each call is its own transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine

    async def load_all(self) -> list[InstanceRecord]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(instances).order_by(instances.c.strategy_id))
            return [InstanceRecord.of_row(row._mapping) for row in rows]

    async def insert(self, record: InstanceRecord) -> None:
        async with self.engine.begin() as conn:
            found = await conn.scalar(
                select(instances.c.strategy_id).where(instances.c.strategy_id == record.strategy_id)
            )
            if found is not None:
                raise ValueError(f"strategy instance {record.strategy_id} exists already")
            await conn.execute(insert(instances).values(record.row()))

    async def update(self, record: InstanceRecord) -> None:
        values = record.row()
        del values["strategy_id"], values["created_at_ns"]
        async with self.engine.begin() as conn:
            await conn.execute(
                update(instances)
                .where(instances.c.strategy_id == record.strategy_id)
                .values(values)
            )

    async def delete(self, strategy_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(instances).where(instances.c.strategy_id == strategy_id))
