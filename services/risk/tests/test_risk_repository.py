"""RiskRepository against real PostgreSQL, with risk's own migrations applied the way
``python -m foxtrot.risk migrate`` applies them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.messages.v1 import DecisionsQuery
from foxtrot.common.persistence import upgrade_schema
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.schemas import fresh_schema
from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.risk.adapters.repository import DecisionRow, RiskRepository
from foxtrot.risk.adapters.tables import SCHEMA, limit_changes, limits, metadata
from foxtrot.risk.migrations import MIGRATIONS

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    async with fresh_schema(infrastructure.database_url, MIGRATIONS, SCHEMA) as engine:
        yield engine


def decision(
    n: int, strategy: str = "S1", approved: bool = True, code: str | None = None
) -> DecisionRow:
    order = {"type": "SubmitOrder", "client_order_id": f"O-{n}", "quantity": "0.5"}
    rules = [{"rule": "price_collar", "code": None}, {"rule": "max_notional", "code": code}]
    return DecisionRow(
        client_order_id=f"O-{n}",
        strategy_id=strategy,
        account_id="ACC",
        instrument_id="BTCUSDT.BINANCE",
        command="SubmitOrder",
        order_json=json.dumps(order),
        approved=approved,
        code=code,
        reason=None if approved else f"order {n} denied",
        rules_json=json.dumps(rules),
        latency_ns=1000 + n,
        ts_decided=n,
        command_id=uuid4(),
    )


# --- migrations -------------------------------------------------------------------------------


async def test_the_migrations_build_exactly_the_tables_the_code_declares(
    engine: AsyncEngine,
) -> None:
    def ours(name: str | None, kind: str, _: object) -> bool:
        # Risk's schema only, less Alembic's own bookkeeping.
        if kind == "schema":
            return name == SCHEMA
        return not (kind == "table" and name == "alembic_version")

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"include_schemas": True, "include_name": ours}
        )
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_migrating_again_keeps_the_data(
    engine: AsyncEngine, infrastructure: Infrastructure
) -> None:
    async with engine.begin() as conn:
        await RiskRepository(conn).change_limits({"max_position": "5"}, {}, "ops", "init", 1)

    await asyncio.to_thread(upgrade_schema, infrastructure.database_url, MIGRATIONS, SCHEMA)

    async with engine.connect() as conn:
        assert await RiskRepository(conn).load_limits() == {"max_position": "5"}


def test_the_service_command_migrates_and_a_second_run_is_a_no_op(
    infrastructure: Infrastructure,
) -> None:
    env = {**os.environ, "DATABASE_URL": infrastructure.database_url}
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "foxtrot.risk", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-4000:]


# --- limits -------------------------------------------------------------------------------------


async def test_limits_read_back_as_stored_with_null_as_switched_off(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await RiskRepository(conn).change_limits(
            {"max_position": "10", "rule:price_collar": None}, {}, "alice", "first limits", 100
        )
    async with engine.connect() as conn:
        assert await RiskRepository(conn).load_limits() == {
            "max_position": "10",
            "rule:price_collar": None,
        }
        row = (await conn.execute(select(limits).where(limits.c.name == "max_position"))).one()
    assert (row.updated_at_ns, row.updated_by) == (100, "alice")


async def test_a_limit_change_overwrites_the_value_and_records_who_why_old_and_new(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        repo = RiskRepository(conn)
        await repo.change_limits({"max_position": "10"}, {}, "alice", "first limits", 100)
        await repo.change_limits(
            {"max_position": "20"}, {"max_position": "10"}, "bob", "more room", 200
        )
    async with engine.connect() as conn:
        repo = RiskRepository(conn)
        assert await repo.load_limits() == {"max_position": "20"}
        changes = await repo.limit_changes("max_position", 10)
    assert [(c.old_value, c.new_value, c.changed_by, c.reason, c.ts_changed) for c in changes] == [
        ("10", "20", "bob", "more room", 200),
        (None, "10", "alice", "first limits", 100),
    ]


async def test_setting_a_limit_to_its_current_value_writes_no_audit_row(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        repo = RiskRepository(conn)
        await repo.change_limits({"max_position": "10"}, {}, "alice", "first", 1)
        await repo.change_limits(
            {"max_position": "10", "max_notional": "5000", "rule:fat_finger": None},
            {"max_position": "10"},
            "bob",
            "second",
            2,
        )
    async with engine.connect() as conn:
        repo = RiskRepository(conn)
        changes = await repo.limit_changes(None, 10)
        count = (await conn.execute(select(func.count()).select_from(limit_changes))).scalar()
    # A limit that was off (missing from ``old``) and stays off is no change either.
    assert [(c.name, c.new_value) for c in changes] == [
        ("max_notional", "5000"),
        ("max_position", "10"),
    ]
    assert count == 2


async def test_switching_a_limit_off_records_null_as_the_new_value(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        repo = RiskRepository(conn)
        await repo.change_limits({"max_position": "10"}, {}, "alice", "on", 1)
        await repo.change_limits({"max_position": None}, {"max_position": "10"}, "bob", "off", 2)
    async with engine.connect() as conn:
        repo = RiskRepository(conn)
        assert await repo.load_limits() == {"max_position": None}
        [latest, _] = await repo.limit_changes("max_position", 10)
    assert (latest.old_value, latest.new_value) == ("10", None)


async def test_limit_changes_are_newest_first_filtered_by_name_and_limited(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        repo = RiskRepository(conn)
        current: dict[str, str | None] = {}
        for ts in range(1, 6):
            change = {"max_position": str(ts), "max_notional": str(ts * 100)}
            await repo.change_limits(change, current, "ops", f"step {ts}", ts)
            current = dict(change)
    async with engine.connect() as conn:
        repo = RiskRepository(conn)
        newest = await repo.limit_changes("max_position", 3)
        every = await repo.limit_changes(None, 100)
    assert [c.new_value for c in newest] == ["5", "4", "3"]
    assert {c.name for c in newest} == {"max_position"}
    assert len(every) == 10
    assert [c.ts_changed for c in every] == sorted((c.ts_changed for c in every), reverse=True)


async def test_an_aborted_transaction_leaves_no_limit_and_no_audit_row(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        await RiskRepository(conn).change_limits({"max_position": "1"}, {}, "ops", "try", 1)
        await conn.rollback()
    async with engine.connect() as conn:
        repo = RiskRepository(conn)
        assert await repo.load_limits() == {}
        assert await repo.limit_changes(None, 10) == []


# --- trading states -----------------------------------------------------------------------------


async def test_a_trading_state_switch_updates_the_scope_and_appends_history(
    engine: AsyncEngine,
) -> None:
    halted, active = TradingState.HALTED, TradingState.ACTIVE
    async with engine.begin() as conn:
        repo = RiskRepository(conn)
        await repo.set_trading_state(
            RiskScope.ACCOUNT, "ACC", active, halted, "kill switch", "alice", 10
        )
        await repo.set_trading_state(
            RiskScope.STRATEGY, "S1", active, TradingState.REDUCING, "loss limit", "risk", 20
        )
        await repo.set_trading_state(
            RiskScope.ACCOUNT, "ACC", halted, active, "all clear", "bob", 30
        )
    async with engine.connect() as conn:
        states = await RiskRepository(conn).load_trading_states()
        history = (
            await conn.exec_driver_sql(
                f"SELECT scope, key, old_state, new_state, reason, changed_by, ts_changed "
                f"FROM {SCHEMA}.trading_state_changes ORDER BY id"
            )
        ).all()
    assert [(s.scope, s.key, s.state, s.reason, s.changed_by, s.ts_changed) for s in states] == [
        (RiskScope.ACCOUNT, "ACC", active, "all clear", "bob", 30),
        (RiskScope.STRATEGY, "S1", TradingState.REDUCING, "loss limit", "risk", 20),
    ]
    assert [tuple(row) for row in history] == [
        ("ACCOUNT", "ACC", "ACTIVE", "HALTED", "kill switch", "alice", 10),
        ("STRATEGY", "S1", "ACTIVE", "REDUCING", "loss limit", "risk", 20),
        ("ACCOUNT", "ACC", "HALTED", "ACTIVE", "all clear", "bob", 30),
    ]


async def test_the_same_key_under_two_scopes_is_two_states(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        repo = RiskRepository(conn)
        for scope in (RiskScope.ACCOUNT, RiskScope.STRATEGY):
            await repo.set_trading_state(
                scope, "X", TradingState.ACTIVE, TradingState.HALTED, "why", "ops", 1
            )
    async with engine.connect() as conn:
        states = await RiskRepository(conn).load_trading_states()
    assert [(s.scope, s.key) for s in states] == [
        (RiskScope.ACCOUNT, "X"),
        (RiskScope.STRATEGY, "X"),
    ]


# --- decisions ----------------------------------------------------------------------------------


async def test_a_batch_of_decisions_is_one_statement_and_reads_back_in_order(
    engine: AsyncEngine,
) -> None:
    batch = [
        decision(n, approved=n % 3 != 0, code=None if n % 3 else "MAX_NOTIONAL")
        for n in range(1, 201)
    ]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with engine.begin() as conn:
            await RiskRepository(conn).record_decisions(batch)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1

    async with engine.connect() as conn:
        found = await RiskRepository(conn).decisions(DecisionsQuery(limit=1000))
    assert [d.client_order_id for d in found] == [f"O-{n}" for n in range(200, 0, -1)]
    assert [d.id for d in found] == sorted((d.id for d in found), reverse=True)
    third = next(d for d in found if d.client_order_id == "O-3")
    assert third.order == {"type": "SubmitOrder", "client_order_id": "O-3", "quantity": "0.5"}
    assert (third.approved, third.code, third.reason) == (False, "MAX_NOTIONAL", "order 3 denied")
    assert [(r.rule, r.code) for r in third.rules] == [
        ("price_collar", None),
        ("max_notional", "MAX_NOTIONAL"),
    ]
    assert (third.strategy_id, third.account_id, third.instrument_id, third.command) == (
        "S1",
        "ACC",
        "BTCUSDT.BINANCE",
        "SubmitOrder",
    )
    assert (third.latency_ns, third.ts_decided) == (1003, 3)


async def test_an_empty_batch_writes_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        repo = RiskRepository(conn)
        await repo.record_decisions([])
        assert await repo.decisions(DecisionsQuery()) == []


@pytest.fixture
async def recorded(engine: AsyncEngine) -> AsyncEngine:
    """Ten decisions: odd numbers by S1, even by S2; 4 and 7 denied."""
    rows = [
        decision(
            n,
            strategy="S1" if n % 2 else "S2",
            approved=n not in (4, 7),
            code=None if n not in (4, 7) else "HALTED",
        )
        for n in range(1, 11)
    ]
    async with engine.begin() as conn:
        await RiskRepository(conn).record_decisions(rows)
    return engine


async def query(engine: AsyncEngine, **fields: Any) -> list[str]:
    async with engine.connect() as conn:
        found = await RiskRepository(conn).decisions(DecisionsQuery(**fields))
    return [d.client_order_id for d in found]


async def test_decisions_filter_by_client_order_id(recorded: AsyncEngine) -> None:
    assert await query(recorded, client_order_id="O-5") == ["O-5"]
    assert await query(recorded, client_order_id="O-missing") == []


async def test_decisions_filter_by_strategy(recorded: AsyncEngine) -> None:
    assert await query(recorded, strategy_id="S2") == ["O-10", "O-8", "O-6", "O-4", "O-2"]


async def test_decisions_filter_to_denials(recorded: AsyncEngine) -> None:
    assert await query(recorded, denied_only=True) == ["O-7", "O-4"]
    assert await query(recorded, denied_only=True, strategy_id="S1") == ["O-7"]


async def test_decisions_page_backwards_by_id(recorded: AsyncEngine) -> None:
    async with recorded.connect() as conn:
        repo = RiskRepository(conn)
        first = await repo.decisions(DecisionsQuery(limit=4))
        second = await repo.decisions(DecisionsQuery(limit=4, before_id=first[-1].id))
        last = await repo.decisions(DecisionsQuery(limit=4, before_id=second[-1].id))
        beyond = await repo.decisions(DecisionsQuery(limit=4, before_id=last[-1].id))
    pages = [[d.client_order_id for d in page] for page in (first, second, last, beyond)]
    assert pages == [
        ["O-10", "O-9", "O-8", "O-7"],
        ["O-6", "O-5", "O-4", "O-3"],
        ["O-2", "O-1"],
        [],
    ]


async def test_decisions_page_with_filters_combined(recorded: AsyncEngine) -> None:
    async with recorded.connect() as conn:
        repo = RiskRepository(conn)
        [newest] = await repo.decisions(DecisionsQuery(strategy_id="S1", limit=1))
        older = await repo.decisions(DecisionsQuery(strategy_id="S1", before_id=newest.id, limit=2))
    assert newest.client_order_id == "O-9"
    assert [d.client_order_id for d in older] == ["O-7", "O-5"]
