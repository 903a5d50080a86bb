"""``python -m foxtrot.market_data [migrate]``: run market data, or apply its migrations."""

from __future__ import annotations

from foxtrot.common.runtime import run_service
from foxtrot.market_data.app import MIGRATIONS, SCHEMA, create_app
from foxtrot.market_data.config import MarketDataSettings


def main() -> None:
    """Run until SIGTERM (or, with ``migrate``, bring the schema to head)."""
    run_service(create_app, MarketDataSettings(), (MIGRATIONS, SCHEMA))


if __name__ == "__main__":
    main()
