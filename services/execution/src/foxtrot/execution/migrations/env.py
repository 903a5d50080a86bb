"""Alembic environment for execution's schema."""

from foxtrot.common.persistence import run_alembic_env
from foxtrot.execution.adapters.tables import metadata

run_alembic_env(metadata)
