"""A service's schema, dropped and migrated to head, for a test that needs it empty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.persistence import make_engine, upgrade_schema

__all__ = ["drop_schema", "fresh_schema"]


async def drop_schema(database_url: str, schema: str) -> None:
    """Drop a service's schema and everything in it, if it is there."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        await engine.dispose()


@asynccontextmanager
async def fresh_schema(
    database_url: str, migrations: str, schema: str
) -> AsyncIterator[AsyncEngine]:
    """An engine over ``schema`` rebuilt from its migrations; disposed on exit."""
    await drop_schema(database_url, schema)
    await asyncio.to_thread(upgrade_schema, database_url, migrations, schema)
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
