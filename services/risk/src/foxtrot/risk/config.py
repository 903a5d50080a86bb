"""Risk's settings, read from the environment."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from foxtrot.common.settings import ServiceSettings
from foxtrot.core.risk import RiskLimits

__all__ = ["RiskSettings"]


class RiskSettings(ServiceSettings):
    """Per-order limits; ``none`` switches one off (``FOXTROT_MAX_ORDER_NOTIONAL=none``)."""

    http_port: int = 8082
    max_order_quantity: Decimal | None = Field(default=Decimal("10"), gt=0)
    max_order_notional: Decimal | None = Field(default=Decimal("1000000"), gt=0)

    def limits(self) -> RiskLimits:
        """The per-order limits as the domain's rules take them."""
        return RiskLimits(self.max_order_quantity, self.max_order_notional)
