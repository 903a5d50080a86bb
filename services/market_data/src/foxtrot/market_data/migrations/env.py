"""Alembic environment for market data's schema."""

from foxtrot.common.persistence import run_alembic_env
from foxtrot.market_data.adapters.tables import metadata

run_alembic_env(metadata)
