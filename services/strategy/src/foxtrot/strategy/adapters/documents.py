"""Values made fit for a JSONB column: PostgreSQL refuses NaN and infinities, and JSON
knows no Decimal, tuple or set."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["jsonb"]


def jsonb(value: Any) -> Any:
    """``value`` as plain JSON values: decimals as strings, tuples and sets as lists,
    non-finite floats as null, anything else unknown as its ``str``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, Mapping):
        return {str(k): jsonb(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonb(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonb(v) for v in value), key=str)
    return str(value)
