"""``python -m foxtrot.strategy [migrate]``: run the strategy service, or apply its
migrations."""

from __future__ import annotations

from foxtrot.common.runtime import run_service
from foxtrot.strategy.adapters.tables import SCHEMA
from foxtrot.strategy.app import create_app
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.migrations import MIGRATIONS


def main() -> None:
    """Run until SIGTERM (or, with ``migrate``, bring the schema to head)."""
    run_service(create_app, StrategySettings(), (MIGRATIONS, SCHEMA))


if __name__ == "__main__":
    main()
