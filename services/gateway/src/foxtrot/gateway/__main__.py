"""``python -m foxtrot.gateway``: run the API gateway."""

from __future__ import annotations

from foxtrot.common.runtime import run_service
from foxtrot.gateway.app import create_app
from foxtrot.gateway.config import GatewaySettings


def main() -> None:
    """Run until SIGTERM."""
    run_service(create_app, GatewaySettings())


if __name__ == "__main__":
    main()
