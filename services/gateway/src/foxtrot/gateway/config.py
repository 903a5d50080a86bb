"""Gateway's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field

from foxtrot.common.settings import ServiceSettings

__all__ = ["GatewaySettings"]


class GatewaySettings(ServiceSettings):
    """The public HTTP API's settings."""

    http_port: int = 8000
    query_timeout_s: float = Field(default=3.0, gt=0)
    # Starting, reloading or resetting a strategy instance imports its code, restores or
    # saves its state and opens its feeds before the strategy service answers.
    control_timeout_s: float = Field(default=10.0, gt=0)
    default_account_id: str = "SIM-001"
