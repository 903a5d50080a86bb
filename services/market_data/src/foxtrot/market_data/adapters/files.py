"""Readers for the bar and trade files market data can replay.

Formats (see shared/data/SOURCES.md for the real files):

- ``bars_csv``: a header with ``timestamp,open,high,low,close[,volume]`` (any case; ``Date``
  also accepted). Timestamps are bar *start* times, naive UTC or with an offset; the bar's
  ``ts_event`` is its close, start + interval. Gzip is read transparently. A missing volume
  column gives volume 0.
- ``tardis_trades``: Tardis.dev trades CSV; ``timestamp`` in microseconds since the epoch,
  ``side`` the aggressor's.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

from foxtrot.core.data import Bar, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

__all__ = ["bar_interval_ns", "detect_format", "read_bars_csv", "read_tardis_trades"]

_UNIT_NS = {
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}


def bar_interval_ns(spec: str) -> int:
    """Length of a time-bar spec (``1m``, ``5s``, ``1d``) in nanoseconds."""
    count, unit = spec[:-1], spec[-1:]
    if unit not in _UNIT_NS or not count.isdigit() or int(count) == 0:
        raise ValueError(f"bar spec must be a time interval such as 1m or 5s, was {spec!r}")
    return int(count) * _UNIT_NS[unit]


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return path.open(newline="")


def detect_format(path: Path) -> str:
    """``tardis_trades`` or ``bars_csv``, judged from the header line."""
    with _open(path) as handle:
        header = handle.readline().strip().lower()
    if header.startswith("exchange,symbol,timestamp,local_timestamp"):
        return "tardis_trades"
    if "open" in header and "close" in header:
        return "bars_csv"
    raise ValueError(f"{path}: cannot tell the format from the header {header!r}")


def _check_width(row: dict[str | None, str | None]) -> None:
    # csv.DictReader fills a short row with None and files a long row's extras under None.
    if None in row or None in row.values():
        fields = sum(1 for k, v in row.items() if k is not None and v is not None)
        raise ValueError(
            f"expected {len([k for k in row if k is not None])} fields as in "
            f"the header, found {fields + len(row.get(None) or [])}"
        )


def _decimal(row: dict[str, str], column: str) -> Decimal:
    text = row[column]
    if text is None:  # csv gives None for fields missing from a short row
        raise ValueError(f"the row has no {column} field")
    try:
        return Decimal(text)
    except ArithmeticError:
        raise ValueError(f"{column} must be a decimal number, was {text!r}") from None


def _parse_ns(text: str) -> int:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp())
    return seconds * 1_000_000_000 + moment.microsecond * 1_000


def read_bars_csv(path: Path, instrument_id: InstrumentId, spec: str) -> Iterator[Bar]:
    """Bars from a CSV with a timestamp,open,high,low,close[,volume] header."""
    interval = bar_interval_ns(spec)
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        columns = {name.lower().strip(): name for name in reader.fieldnames or ()}
        stamp = columns.get("timestamp") or columns.get("timestamp_utc") or columns.get("date")
        if stamp is None:
            raise ValueError(f"{path}: no timestamp/date column in {reader.fieldnames}")
        volume = columns.get("volume")
        for line, row in enumerate(reader, start=2):
            try:
                _check_width(row)
                ts = _parse_ns(row[stamp]) + interval
                yield Bar(
                    instrument_id,
                    spec,
                    _decimal(row, columns["open"]),
                    _decimal(row, columns["high"]),
                    _decimal(row, columns["low"]),
                    _decimal(row, columns["close"]),
                    _decimal(row, volume) if volume else Decimal(0),
                    ts,
                    ts,
                )
            except (KeyError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc


def read_tardis_trades(path: Path, venue: str | None = None) -> Iterator[TradeTick]:
    """Trades from a Tardis.dev trades CSV."""
    with _open(path) as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                _check_width(row)
                ts = int(row["timestamp"]) * 1_000
                instrument = InstrumentId(row["symbol"], venue or row["exchange"].upper())
                side = (
                    AggressorSide.BUYER
                    if row["side"] == "buy"
                    else (
                        AggressorSide.SELLER
                        if row["side"] == "sell"
                        else AggressorSide.NO_AGGRESSOR
                    )
                )
                yield TradeTick(
                    instrument,
                    _decimal(row, "price"),
                    _decimal(row, "amount"),
                    side,
                    TradeId(row["id"]),
                    ts,
                    ts,
                )
            except (KeyError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc
