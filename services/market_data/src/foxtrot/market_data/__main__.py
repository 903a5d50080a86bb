"""``python -m foxtrot.market_data``: run the market data service."""

from __future__ import annotations

from foxtrot.common.runtime import serve
from foxtrot.market_data.app import create_app
from foxtrot.market_data.config import MarketDataSettings


def main() -> None:
    """Run until SIGTERM."""
    settings = MarketDataSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
