"""Vendor bar files: one CSV shape covers FTX, FXCM, CME and Yahoo.

``bars_csv``: a header naming ``timestamp`` (or ``timestamp_utc`` or ``Date``), ``open``,
``high``, ``low``, ``close`` and optionally ``volume``, in any case and order. Timestamps
are bar *start* times, naive UTC or with an offset; a bar's ``ts_event`` is its close,
start + interval. A file without a volume column (FXCM) gives volume 0. Yahoo's
``Adj Close`` is ignored: ``close`` is the traded (split-adjusted) close, so bars agree
with the other columns; dividend adjustment is the strategy's business, not the feed's.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from foxtrot.common.market_files.parsing import (
    check_width,
    decimal_field,
    open_text,
    parse_iso_ns,
)
from foxtrot.core.data import Bar
from foxtrot.core.identifiers import InstrumentId

__all__ = ["bar_interval_ns", "read_bars_csv"]

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


def read_bars_csv(path: Path, instrument_id: InstrumentId, spec: str) -> Iterator[Bar]:
    """Bars from a CSV with a timestamp,open,high,low,close[,volume] header."""
    interval = bar_interval_ns(spec)
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        columns = {name.lower().strip(): name for name in reader.fieldnames or ()}
        stamp = columns.get("timestamp") or columns.get("timestamp_utc") or columns.get("date")
        if stamp is None:
            raise ValueError(f"{path}: no timestamp/date column in {reader.fieldnames}")
        volume = columns.get("volume")
        for line, row in enumerate(reader, start=2):
            try:
                check_width(row)
                ts = parse_iso_ns(row[stamp]) + interval
                yield Bar(
                    instrument_id,
                    spec,
                    decimal_field(row, columns["open"]),
                    decimal_field(row, columns["high"]),
                    decimal_field(row, columns["low"]),
                    decimal_field(row, columns["close"]),
                    decimal_field(row, volume) if volume else Decimal(0),
                    ts,
                    ts,
                )
            except (KeyError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc
