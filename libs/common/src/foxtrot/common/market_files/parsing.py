"""Text to numbers and times, the same way for every reader.

- Prices and sizes are ``Decimal`` from the file's own digits. A float (Parquet columns
  written by pandas) is rounded to 15 significant digits, trailing zeros dropped: a double
  holds any decimal of up to 15 significant digits faithfully (DBL_DIG), and venues' prices
  and sizes have fewer, so what lies beyond is the noise of float arithmetic:
  ``0.00031099999999999997`` reads as ``0.000311``, ``3.2909330000000003`` as ``3.290933``.
- Times are integer nanoseconds since the epoch, UTC. Text times are ISO-8601 (naive
  means UTC; up to 9 fractional digits) or a whole number of nanoseconds.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

__all__ = [
    "EPOCH",
    "check_width",
    "csv_rows",
    "decimal_field",
    "decimal_from_float",
    "open_text",
    "parse_decimal",
    "parse_iso_ns",
    "parse_time_ns",
    "utc_ns",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_FRACTION = re.compile(r"(?<=\d{2}:\d{2}:\d{2})\.(\d+)")


def open_text(path: Path) -> IO[str]:
    """The file as text, gunzipped when its name ends in ``.gz``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return path.open(newline="")


def csv_rows(path: Path, required: Iterable[str] = ()) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data row of a CSV with a header, with its line number; short or long rows raise.

    A header without every ``required`` column is refused before any row is read.
    """
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in required if name not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(
                f"{path}: expected the columns {', '.join(required)}, "
                f"found {','.join(reader.fieldnames or ())!r}"
            )
        for line, row in enumerate(reader, start=2):
            try:
                check_width(row)
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc
            yield line, row


def check_width(row: Mapping[Any, Any]) -> None:
    """Refuse a row with fewer or more fields than the header."""
    # csv.DictReader fills a short row with None and files a long row's extras under None.
    if None in row or None in row.values():
        named = [key for key in row if key is not None]
        fields = sum(1 for key, value in row.items() if key is not None and value is not None)
        extra = row.get(None) or []
        raise ValueError(
            f"expected {len(named)} fields as in the header, found {fields + len(extra)}"
        )


def parse_decimal(text: str, what: str) -> Decimal:
    """A finite decimal from text, or ValueError naming ``what``."""
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise ValueError(f"{what} must be a decimal number, was {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite decimal number, was {text!r}")
    return value


def decimal_field(row: dict[str, str], column: str) -> Decimal:
    """The decimal in ``column`` of a CSV row."""
    text = row[column]
    if text is None:  # csv gives None for fields missing from a short row
        raise ValueError(f"the row has no {column} field")
    return parse_decimal(text, column)


def decimal_from_float(value: object, what: str) -> Decimal:
    """A Parquet cell as a Decimal; floats lose their binary noise (see the module doc)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a number, was {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what} must be a finite number, was {value!r}")
        result = Decimal(format(value, ".15g"))
    elif isinstance(value, str):
        return parse_decimal(value, what)
    else:
        raise ValueError(f"{what} must be a number, was {type(value).__name__}")
    # "1E+2" is a fine Decimal but a poor price to print: keep whole numbers plain.
    exponent = result.as_tuple().exponent
    return result.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else result


def utc_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of a datetime; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _MICROSECOND * 1_000


def parse_iso_ns(text: str) -> int:
    """ISO-8601 (naive: UTC; up to 9 fractional digits) as UTC nanoseconds."""
    text = text.strip()
    extra_ns = 0
    found = _FRACTION.search(text)
    if found and len(found.group(1)) > 6:  # datetime stops at microseconds
        digits = found.group(1)[:9].ljust(9, "0")
        extra_ns = int(digits[6:])
        text = text[: found.start(1)] + digits[:6] + text[found.end(1) :]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"time must be ISO-8601 such as 2024-01-01T00:00:00Z, was {text!r}"
        ) from None
    return utc_ns(moment) + extra_ns


def parse_time_ns(text: str) -> int:
    """Integer nanoseconds since the epoch, or ISO-8601 as :func:`parse_iso_ns` reads it."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    return parse_iso_ns(stripped)
