"""``python -m foxtrot.gateway``: run the API gateway."""

from __future__ import annotations

from foxtrot.common.runtime import serve
from foxtrot.gateway.app import create_app
from foxtrot.gateway.config import GatewaySettings


def main() -> None:
    """Run until SIGTERM."""
    settings = GatewaySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
