"""Strategy's tables in its own ``strategy`` schema: the hosted instances with their saved
state, and the backtests it ran."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

SCHEMA = "strategy"
metadata = MetaData(schema=SCHEMA)

instances = Table(
    "instances",
    metadata,
    Column("strategy_id", Text, primary_key=True),
    Column("strategy", Text, nullable=False, comment="as it was named: entry point or path"),
    Column("strategy_path", Text, nullable=False, comment="module:Class"),
    Column("config", JSONB, nullable=False),
    Column("desired_state", Text, nullable=False, comment="RUNNING or STOPPED"),
    Column("state", Text, nullable=False, comment="READY, RUNNING, STOPPED or FAULTED"),
    Column("fault", Text, nullable=True, comment="handler and error of the last fault"),
    Column(
        "saved_state",
        JSONB,
        nullable=True,
        comment="the runtime's save(), the stream position it holds, its open orders",
    ),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("started_at_ns", BigInteger, nullable=True),
    Column("updated_at_ns", BigInteger, nullable=False),
    Column("state_saved_at_ns", BigInteger, nullable=True),
    comment="every hosted strategy instance: rebuilt, restored and restarted at start",
)

backtests = Table(
    "backtests",
    metadata,
    Column("backtest_id", UUID(as_uuid=True), primary_key=True),
    Column("spec", JSONB, nullable=False, comment="the BacktestSpec as it was asked"),
    Column("strategy", Text, nullable=False),
    Column("strategy_id", Text, nullable=False),
    Column("status", Text, nullable=False, comment="QUEUED, RUNNING, DONE or FAILED"),
    Column("error", Text, nullable=True),
    Column("statistics", JSONB, nullable=True),
    Column("result", JSONB, nullable=True, comment="foxtrot.backtest.result/1 document"),
    Column("report_html", Text, nullable=True),
    Column("requested_by", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("started_at_ns", BigInteger, nullable=True),
    Column("finished_at_ns", BigInteger, nullable=True),
    Column("elapsed_s", Float, nullable=True),
    Column("records_per_s", Float, nullable=True),
    comment="backtests run by the strategy service's worker processes, and their results",
)
# The newest backtests first, without a sort.
Index("ix_strategy_backtests_created", backtests.c.created_at_ns.desc())
