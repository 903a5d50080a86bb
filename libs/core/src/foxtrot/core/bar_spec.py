"""Bar specifications: ``1m``, ``5s``, ``1d`` (time), ``100t`` (ticks), ``10v`` (volume),
``1000000q`` (value, i.e. notional)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

__all__ = ["BarKind", "BarSpec"]


class BarKind(StrEnum):
    """What closes a bar."""

    TIME = "TIME"
    TICK = "TICK"
    VOLUME = "VOLUME"
    VALUE = "VALUE"


_UNITS: Final = {
    "s": BarKind.TIME,
    "m": BarKind.TIME,
    "h": BarKind.TIME,
    "d": BarKind.TIME,
    "t": BarKind.TICK,
    "v": BarKind.VOLUME,
    "q": BarKind.VALUE,
}
_NS: Final = {
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}
_DAY_NS: Final = _NS["d"]
_PATTERN: Final = re.compile(r"^([1-9][0-9]*)([smhdtvq])$")


@dataclass(frozen=True, slots=True)
class BarSpec:
    """A parsed bar spec. Time bars run from 1 second to 1 day and must divide a day, so
    that bars align to UTC midnight."""

    step: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> BarSpec:
        """Parse ``<step><unit>``; raise ValueError saying what is allowed."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(
                f"bar spec must be <positive integer><unit> with unit s, m, h, d (time), "
                f"t (ticks), v (volume) or q (value), was {text!r}"
            )
        spec = cls(int(match.group(1)), match.group(2))
        if spec.kind is BarKind.TIME:
            interval = spec.interval_ns
            if interval > _DAY_NS or _DAY_NS % interval:
                raise ValueError(
                    f"a time bar must last 1s to 1d and divide a day evenly, was {text!r}"
                )
        return spec

    @property
    def kind(self) -> BarKind:
        """Time, tick, volume or value bar."""
        return _UNITS[self.unit]

    @property
    def interval_ns(self) -> int:
        """Length of a time bar in nanoseconds."""
        if self.kind is not BarKind.TIME:
            raise ValueError(f"{self} is a {self.kind} bar and has no interval")
        return self.step * _NS[self.unit]

    @property
    def threshold(self) -> Decimal:
        """Trades (tick), quantity (volume) or notional (value) that close a bar."""
        return Decimal(self.step)

    def __str__(self) -> str:
        return f"{self.step}{self.unit}"
