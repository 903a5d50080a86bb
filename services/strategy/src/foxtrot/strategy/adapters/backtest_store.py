"""Where backtests run for the gateway are kept: the spec, the status, and once it is done
the statistics, the result document and the HTML report.

:class:`BacktestStore` is the port, in memory (tests use it as it is);
:class:`SqlBacktestStore` keeps the rows in ``strategy.backtests``.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.messages.v1 import BacktestsQuery, BacktestStatus, BacktestView
from foxtrot.strategy.adapters.documents import jsonb
from foxtrot.strategy.adapters.tables import backtests

__all__ = ["BacktestStore", "SqlBacktestStore", "view_of"]

Row = dict[str, Any]
_SUMMARY = [c for c in backtests.c if c.name not in ("result", "report_html")]


def view_of(row: Row) -> BacktestView:
    """A stored backtest as the queries show it."""
    return BacktestView(
        backtest_id=row["backtest_id"],
        strategy=row["strategy"],
        strategy_id=row["strategy_id"],
        status=BacktestStatus(row["status"]),
        error=row["error"],
        statistics=row["statistics"],
        spec=row["spec"],
        requested_by=row["requested_by"],
        created_at_ns=row["created_at_ns"],
        started_at_ns=row["started_at_ns"],
        finished_at_ns=row["finished_at_ns"],
        elapsed_s=row["elapsed_s"],
        records_per_s=row["records_per_s"],
        has_result=bool(row.get("has_result")),
        has_report=bool(row.get("has_report")),
    )


class BacktestStore:
    """The backtests, kept in memory."""

    def __init__(self) -> None:
        self.rows: dict[UUID, Row] = {}

    async def insert(self, row: Row) -> None:
        """Record a new backtest."""
        self.rows[row["backtest_id"]] = copy.deepcopy(_fit(row))

    async def change(self, backtest_id: UUID, **values: Any) -> None:
        """Change some of a backtest's columns."""
        self.rows[backtest_id].update(copy.deepcopy(_fit(values)))

    async def unfinished(self) -> list[Row]:
        """Backtests queued or running (when the service stopped), oldest first."""
        rows = [r for r in self.rows.values() if r["status"] in ("QUEUED", "RUNNING")]
        return sorted((_summary(r) for r in rows), key=lambda r: r["created_at_ns"])

    async def find(self, query: BacktestsQuery) -> list[Row]:
        """Backtests that match, newest first, without their result and report."""
        rows = sorted(self.rows.values(), key=lambda r: r["created_at_ns"], reverse=True)
        return [_summary(r) for r in rows if _matches(r, query)][: query.limit]

    async def get(self, backtest_id: UUID) -> Row | None:
        """One backtest without its result and report."""
        row = self.rows.get(backtest_id)
        return _summary(row) if row is not None else None

    async def content(self, backtest_id: UUID, column: str) -> Any:
        """A backtest's ``result`` or ``report_html`` (None if it has none)."""
        row = self.rows.get(backtest_id)
        return copy.deepcopy(row.get(column)) if row is not None else None


class SqlBacktestStore(BacktestStore):
    """The backtests in ``strategy.backtests``."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine

    async def insert(self, row: Row) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(backtests).values(_fit(row)))

    async def change(self, backtest_id: UUID, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(backtests).where(backtests.c.backtest_id == backtest_id).values(_fit(values))
            )

    async def unfinished(self) -> list[Row]:
        stmt = (
            _select_summary()
            .where(backtests.c.status.in_(("QUEUED", "RUNNING")))
            .order_by(backtests.c.created_at_ns)
        )
        return await self._rows(stmt)

    async def find(self, query: BacktestsQuery) -> list[Row]:
        stmt = _select_summary().order_by(backtests.c.created_at_ns.desc()).limit(query.limit)
        if query.status is not None:
            stmt = stmt.where(backtests.c.status == query.status.value)
        if query.strategy_id is not None:
            stmt = stmt.where(backtests.c.strategy_id == query.strategy_id)
        if query.before_ns is not None:
            stmt = stmt.where(backtests.c.created_at_ns < query.before_ns)
        return await self._rows(stmt)

    async def get(self, backtest_id: UUID) -> Row | None:
        rows = await self._rows(_select_summary().where(backtests.c.backtest_id == backtest_id))
        return rows[0] if rows else None

    async def content(self, backtest_id: UUID, column: str) -> Any:
        async with self.engine.connect() as conn:
            return await conn.scalar(
                select(backtests.c[column]).where(backtests.c.backtest_id == backtest_id)
            )

    async def _rows(self, stmt: Any) -> list[Row]:
        async with self.engine.connect() as conn:
            return [dict(row._mapping) for row in await conn.execute(stmt)]


def _select_summary() -> Any:
    return select(
        *_SUMMARY,
        backtests.c.result.is_not(None).label("has_result"),
        backtests.c.report_html.is_not(None).label("has_report"),
    )


def _fit(values: Row) -> Row:
    fitted = dict(values)
    for column in ("spec", "statistics", "result"):
        if fitted.get(column) is not None:
            fitted[column] = jsonb(fitted[column])
    return fitted


def _summary(row: Row) -> Row:
    summary = {k: v for k, v in row.items() if k not in ("result", "report_html")}
    summary["has_result"] = row.get("result") is not None
    summary["has_report"] = row.get("report_html") is not None
    return copy.deepcopy(summary)


def _matches(row: Row, query: BacktestsQuery) -> bool:
    return (
        (query.status is None or row["status"] == query.status.value)
        and (query.strategy_id is None or row["strategy_id"] == query.strategy_id)
        and (query.before_ns is None or row["created_at_ns"] < query.before_ns)
    )
