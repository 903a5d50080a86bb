"""Bar history in PostgreSQL: bulk inserts and paged range queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from prometheus_client import Counter, Histogram
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.messages.v1 import Bar, BarsQuery, BarsReply, HistoricalBar
from foxtrot.market_data.adapters.tables import bars

__all__ = ["BarStore"]

# PostgreSQL takes at most 32,767 parameters in one statement; 12 columns a row.
_ROWS_PER_STATEMENT: Final = 2_000
STORED = Counter("foxtrot_market_data_bars_stored", "Bars written to the history (new rows)")
WRITE_SECONDS = Histogram(
    "foxtrot_market_data_bar_write_seconds", "Time to write one batch of bars to the history"
)


class BarStore:
    """Writes bars in bulk, once each, and reads them back by instrument, spec and time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, batch: Sequence[Bar]) -> int:
        """Store a batch in one transaction, one multi-row INSERT per 2,000 bars; bars
        already stored are left as they are. Returns how many rows were new."""
        rows = [_row(bar) for bar in batch]
        new = 0
        with WRITE_SECONDS.time():
            async with self.engine.begin() as conn:
                for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                    chunk = rows[start : start + _ROWS_PER_STATEMENT]
                    result = await conn.execute(insert(bars).values(chunk).on_conflict_do_nothing())
                    new += max(result.rowcount, 0)
        STORED.inc(new)
        return new

    async def query(self, query: BarsQuery) -> BarsReply:
        """Bars of one instrument and spec, oldest first, one page at a time."""
        stmt = (
            select(*(bars.c[name] for name in HistoricalBar.model_fields))
            .where(bars.c.instrument_id == query.instrument_id, bars.c.spec == query.spec)
            .order_by(bars.c.ts_event)
            .limit(query.limit + 1)
        )
        if query.start_ns is not None:
            stmt = stmt.where(bars.c.ts_event >= query.start_ns)
        if query.end_ns is not None:
            stmt = stmt.where(bars.c.ts_event < query.end_ns)
        if query.after_ts is not None:
            stmt = stmt.where(bars.c.ts_event > query.after_ts)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        page = [HistoricalBar.model_validate(dict(r)) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        return BarsReply(
            instrument_id=query.instrument_id,
            spec=query.spec,
            bars=tuple(page),
            next_after_ts=page[-1].ts_event if more and page else None,
        )


def _row(bar: Bar) -> dict[str, Any]:
    return {
        "instrument_id": bar.instrument_id,
        "spec": bar.spec,
        "ts_event": bar.ts_event,
        "ts_open": bar.ts_open,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "vwap": bar.vwap,
        "trade_count": bar.trade_count,
        "ts_init": bar.ts_init,
    }
