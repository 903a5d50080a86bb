"""``python -m foxtrot.risk``: run the risk service."""

from __future__ import annotations

from foxtrot.common.runtime import run_service
from foxtrot.risk.app import create_app
from foxtrot.risk.config import RiskSettings


def main() -> None:
    """Run until SIGTERM."""
    run_service(create_app, RiskSettings())


if __name__ == "__main__":
    main()
