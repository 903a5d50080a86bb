"""Typed identifiers: instruments, strategies, orders, trades."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NewType

from foxtrot.core.errors import InvalidIdentifier

__all__ = [
    "AccountId",
    "ClientOrderId",
    "InstrumentId",
    "PositionId",
    "StrategyId",
    "TradeId",
    "VenueOrderId",
]

StrategyId = NewType("StrategyId", str)
ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
TradeId = NewType("TradeId", str)
AccountId = NewType("AccountId", str)
PositionId = NewType("PositionId", str)

# A token must be usable as one NATS subject token: no dots, wildcards or whitespace.
_TOKEN = re.compile(r"^[A-Za-z0-9_\-/:]+$")


@dataclass(frozen=True, slots=True)
class InstrumentId:
    """An instrument on a venue, written ``SYMBOL.VENUE`` (``BTCUSDT.BINANCE``)."""

    symbol: str
    venue: str
    # Every tick looks its instrument up in several dicts: hash the two strings once.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, value in (("symbol", self.symbol), ("venue", self.venue)):
            if not _TOKEN.match(value):
                raise InvalidIdentifier(
                    f"instrument {name} must be letters, digits or _-/: only, was {value!r}"
                )
        object.__setattr__(self, "_hash", hash((self.symbol, self.venue)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        # Written out: dict lookups with an equal id from another message call this often,
        # and the dataclass one builds a tuple of each side's fields first.
        if not isinstance(other, InstrumentId):
            return NotImplemented
        return self.symbol == other.symbol and self.venue == other.venue

    @classmethod
    def parse(cls, value: str) -> InstrumentId:
        """Parse ``SYMBOL.VENUE``; the venue is the text after the last dot."""
        symbol, dot, venue = value.rpartition(".")
        if not dot or not symbol or not venue:
            raise InvalidIdentifier(f"instrument id must be SYMBOL.VENUE, was {value!r}")
        return cls(symbol, venue)

    def __str__(self) -> str:
        return f"{self.symbol}.{self.venue}"
