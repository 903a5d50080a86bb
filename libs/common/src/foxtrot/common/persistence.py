"""PostgreSQL through SQLAlchemy async + asyncpg, and each service's own Alembic migrations.

A service owns one schema and keeps its Alembic version table in it, so services migrate
independently on a shared database.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from foxtrot.common.errors import ConfigurationError

__all__ = ["async_database_url", "make_engine", "run_alembic_env", "upgrade_schema"]


def async_database_url(url: str) -> str:
    """The SQLAlchemy URL for asyncpg of a ``postgresql://`` URL (unix sockets via ?host=)."""
    for scheme in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url[len(scheme) :]
    raise ConfigurationError(
        f"DATABASE_URL must start with postgresql://, was {url.split(':')[0]}://..."
    )


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with a small pool that checks connections before use.

    Statements are prepared (asyncpg), and PostgreSQL would otherwise settle on one generic
    plan per statement after five runs: planned while a table is still small, a lookup of
    ``= ANY($1)`` becomes a sequential scan that it keeps using as the table grows (ten
    times slower at five thousand orders, and worse after). Custom plans cost a little
    planning per run and stay right."""
    options: dict[str, Any] = {
        "pool_size": 5,
        "max_overflow": 5,
        "pool_pre_ping": True,
        "connect_args": {"server_settings": {"plan_cache_mode": "force_custom_plan"}},
    }
    options.update(kwargs)
    return create_async_engine(async_database_url(url), **options)


def upgrade_schema(database_url: str, script_location: str, schema: str) -> None:
    """Apply a service's migrations up to head. Blocking: call it from a thread in async code."""
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = schema
    command.upgrade(config, "head")


def run_alembic_env(metadata: MetaData) -> None:
    """The body of a service's migrations/env.py: online migrations over asyncpg."""
    config = context.config
    schema: str = config.attributes["schema"]
    url: str = config.attributes["database_url"]

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(async_database_url(url), poolclass=pool.NullPool)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    asyncio.run(run())
