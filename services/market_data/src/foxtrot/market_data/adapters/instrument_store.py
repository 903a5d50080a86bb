"""Instruments in PostgreSQL: each instrument's current trading rules, one row each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import ARRAY, BigInteger, RowMapping, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.adapters.tables import instruments

__all__ = ["InstrumentStore"]

# The columns that hold the rules; a row whose rules are unchanged is not rewritten.
_RULES: Final = (
    "base_currency",
    "quote_currency",
    "tick_size",
    "lot_size",
    "min_quantity",
    "max_quantity",
    "min_notional",
    "tradable",
)
_COLUMNS: Final = ("instrument_id", *_RULES)


class InstrumentStore:
    """Keeps each instrument's current rules and reads them back at start."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def upsert(self, batch: Iterable[Instrument], ts_updated: int) -> int:
        """Insert new instruments and update changed ones in one statement; rows whose rules
        are unchanged keep their ``ts_updated``. Returns how many rows were written."""
        latest = {instrument.instrument_id: instrument for instrument in batch}  # last wins
        if not latest:
            return 0
        # One row per array element: a batch of any size is one statement with one
        # parameter per column (unnest zips the arrays), not one per value.
        arrays = {name: [_value(i, name) for i in latest.values()] for name in _COLUMNS}
        rows = select(
            *(
                func.unnest(cast(arrays[name], ARRAY(instruments.c[name].type)))
                for name in _COLUMNS
            ),
            literal(ts_updated, BigInteger),
        )
        stmt = insert(instruments).from_select([*_COLUMNS, "ts_updated"], rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[instruments.c.instrument_id],
            set_={name: stmt.excluded[name] for name in (*_RULES, "ts_updated")},
            where=or_(
                *(instruments.c[name].is_distinct_from(stmt.excluded[name]) for name in _RULES)
            ),
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return max(result.rowcount, 0)

    async def load_all(self) -> list[Instrument]:
        """Every stored instrument, by instrument id."""
        stmt = select(instruments).order_by(instruments.c.instrument_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_instrument(row) for row in rows]

    async def get(self, instrument_id: InstrumentId) -> Instrument | None:
        """One stored instrument, or None."""
        stmt = select(instruments).where(instruments.c.instrument_id == str(instrument_id))
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).mappings().one_or_none()
        return None if row is None else _instrument(row)


def _value(instrument: Instrument, name: str) -> Any:
    if name == "instrument_id":
        return str(instrument.instrument_id)
    return getattr(instrument, name)


def _instrument(row: RowMapping) -> Instrument:
    return Instrument(
        InstrumentId.parse(row["instrument_id"]),
        row["base_currency"],
        row["quote_currency"],
        row["tick_size"],
        row["lot_size"],
        row["min_quantity"],
        row["max_quantity"],
        row["min_notional"],
        row["tradable"],
    )
