"""Alembic environment for risk's schema."""

from foxtrot.common.persistence import run_alembic_env
from foxtrot.risk.adapters.tables import metadata

run_alembic_env(metadata)
