"""A service's schema, dropped and migrated to head, for a test that needs it empty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.persistence import make_engine, upgrade_schema

__all__ = ["fresh_schema"]


@asynccontextmanager
async def fresh_schema(
    database_url: str, migrations: str, schema: str
) -> AsyncIterator[AsyncEngine]:
    """An engine over ``schema`` rebuilt from its migrations; disposed on exit."""
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    await asyncio.to_thread(upgrade_schema, database_url, migrations, schema)
    try:
        yield engine
    finally:
        await engine.dispose()
