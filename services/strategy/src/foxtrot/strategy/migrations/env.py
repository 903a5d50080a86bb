"""Alembic environment for strategy's schema."""

from foxtrot.common.persistence import run_alembic_env
from foxtrot.strategy.adapters.tables import metadata

run_alembic_env(metadata)
