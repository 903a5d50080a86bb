"""``python -m foxtrot.strategy``: run the strategy service."""

from __future__ import annotations

from foxtrot.common.runtime import serve
from foxtrot.strategy.app import create_app
from foxtrot.strategy.config import StrategySettings


def main() -> None:
    """Run until SIGTERM."""
    settings = StrategySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
