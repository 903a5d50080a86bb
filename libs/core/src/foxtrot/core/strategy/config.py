"""What every strategy's configuration carries; each strategy adds its own parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["StrategyConfig"]


class StrategyConfig(BaseModel):
    """A strategy instance's identity and account; subclasses add the parameters.

    Frozen and strict about unknown fields, so a typo in a config file is an error, not a
    silently ignored parameter.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy_id: str = Field(
        pattern=r"^[A-Za-z0-9_\-]+$",
        min_length=1,
        max_length=36,
        description="the instance's id; every order it sends carries it",
    )
    account_id: str = Field(
        default="SIM-001",
        pattern=r"^[A-Za-z0-9_\-/:]+$",
        description="the account its orders trade in",
    )

    def parameters(self) -> dict[str, Any]:
        """The strategy's own parameters, without the identity fields (for tables)."""
        return self.model_dump(mode="json", exclude={"strategy_id", "account_id"})
