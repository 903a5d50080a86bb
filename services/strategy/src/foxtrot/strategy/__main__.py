"""``python -m foxtrot.strategy``: run the strategy service."""

from __future__ import annotations

from foxtrot.common.runtime import run_service
from foxtrot.strategy.app import create_app
from foxtrot.strategy.config import StrategySettings


def main() -> None:
    """Run until SIGTERM."""
    run_service(create_app, StrategySettings())


if __name__ == "__main__":
    main()
