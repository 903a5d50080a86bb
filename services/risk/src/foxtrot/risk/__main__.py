"""``python -m foxtrot.risk``: run the risk service."""

from __future__ import annotations

from foxtrot.common.runtime import serve
from foxtrot.risk.app import create_app
from foxtrot.risk.config import RiskSettings


def main() -> None:
    """Run until SIGTERM."""
    settings = RiskSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
