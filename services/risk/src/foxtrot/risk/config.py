"""Risk's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from foxtrot.common.settings import ServiceSettings

__all__ = ["RiskSettings"]


class RiskSettings(ServiceSettings):
    """Where risk's limits start and what it guards.

    Limits live in PostgreSQL and change through ``cmd.v1.risk.set_limits`` (or the
    gateway). The two limits here only seed an empty table on the first start, recorded
    as a change by ``settings``; ``none`` leaves one off (``FOXTROT_MAX_ORDER_NOTIONAL=none``).
    """

    http_port: int = 8082
    account_id: str = Field(
        default="SIM-001", description="the account execution books positions into"
    )
    max_order_quantity: Decimal | None = Field(default=Decimal("10"), gt=0)
    max_order_notional: Decimal | None = Field(default=Decimal("1000000"), gt=0)
    snapshot_timeout_s: float = Field(default=3.0, gt=0)
    snapshot_retry_s: float = Field(
        default=0.5, gt=0, description="how often risk asks again while execution is away"
    )
    state_wait_s: float = Field(
        default=10.0,
        ge=0,
        description="how long a command waits at start for execution's state before it is "
        "denied STATE_UNKNOWN",
    )

    def initial_limits(self) -> dict[str, str | None]:
        """The limits an empty table starts with."""
        return {
            "max_order_quantity": _text(self.max_order_quantity),
            "max_order_notional": _text(self.max_order_notional),
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
