"""Field types shared by every v1 message: decimals as strings, nanosecond times, ids."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

__all__ = [
    "DECIMAL_PATTERN",
    "DecimalStr",
    "InstrumentIdStr",
    "NonNegativeDecimalStr",
    "PositiveDecimalStr",
    "Token",
    "UnixNanos",
]

DECIMAL_PATTERN: Final = r"^-?[0-9]+(\.[0-9]+)?$"
"""A plain decimal: no exponent, underscore, space or NaN (DecimalStr's JSON Schema)."""
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)
_DECIMAL_MATCH = _DECIMAL_RE.fullmatch


def _to_decimal(value: Any) -> Decimal:
    """Accept a decimal string, an int or a Decimal; refuse floats, which are inexact."""
    if type(value) is str and _DECIMAL_MATCH(value):
        # The wire's case, first: the pattern admits only finite plain decimals.
        return Decimal(value)
    if isinstance(value, (bool, float)):
        raise ValueError(
            f'must be a decimal string such as "101.25", not a JSON number ({value!r})'
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        # Exactly the published JSON Schema pattern: no exponent, underscore, space or NaN.
        if not _DECIMAL_RE.fullmatch(value):
            raise ValueError(f'must be a decimal string such as "101.25", was {value!r}')
        result = Decimal(value)
    else:
        raise ValueError(f'must be a decimal string such as "101.25", was {type(value).__name__}')
    if not result.is_finite():
        raise ValueError(f"must be a finite decimal, was {value!r}")
    return result


def _to_str(value: Decimal) -> str:
    return format(value, "f")


DecimalStr = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_to_str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]
"""A decimal number carried as a JSON string ("101.25"); never a float."""

PositiveDecimalStr = Annotated[DecimalStr, Field(gt=0)]
NonNegativeDecimalStr = Annotated[DecimalStr, Field(ge=0)]

UnixNanos = Annotated[
    int,
    Field(strict=True, ge=0, description="UTC time in integer nanoseconds since the Unix epoch"),
]

Token = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_\-/:]+$",
        min_length=1,
        max_length=64,
        description="one NATS subject token: letters, digits and _-/: only",
    ),
]

InstrumentIdStr = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_\-/:]+\.[A-Za-z0-9_\-/:]+$",
        max_length=129,
        description="instrument id as SYMBOL.VENUE, e.g. BTCUSDT.BINANCE",
        examples=["BTCUSDT.BINANCE"],
    ),
]
