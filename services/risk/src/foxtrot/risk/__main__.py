"""``python -m foxtrot.risk [migrate]``: run the risk service, or apply its migrations."""

from __future__ import annotations

from foxtrot.common.runtime import run_service
from foxtrot.risk.adapters.tables import SCHEMA
from foxtrot.risk.app import create_app
from foxtrot.risk.config import RiskSettings
from foxtrot.risk.migrations import MIGRATIONS


def main() -> None:
    """Run until SIGTERM (or, with ``migrate``, bring the schema to head)."""
    run_service(create_app, RiskSettings(), (MIGRATIONS, SCHEMA))


if __name__ == "__main__":
    main()
