"""Quote (top of book) files: HistData ASCII ticks, TrueFX CSV, Binance spot Parquet.

- ``histdata_quotes``: HistData.com "ASCII tick" CSV, **no header**:
  ``YYYYMMDD HHMMSSmmm,bid,ask,volume``. Times are EST *without* daylight saving, a fixed
  UTC-05:00 all year (HistData's documentation), so ``20200101 170000065`` is
  2020-01-01 22:00:00.065 UTC. The volume column is always 0 and names no side, so both
  sizes are 0 ("unknown").
- ``truefx_quotes``: ``timestamp,bid,ask`` with ISO-8601 times (naive means UTC); no sizes,
  so both are 0. Locked quotes (bid = ask) are kept: they happen.
- ``binance_quotes_parquet``: Binance spot book-ticker snapshots as pandas writes them:
  ``timestamp``, ``symbol``, ``ask_size``, ``ask``, ``bid_size``, ``bid`` (columns are found by
  name, so their order does not matter). Floats lose their binary noise (see
  :mod:`.parsing`).

None of these files names a venue, so the caller gives the instrument.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from foxtrot.common.market_files.parquet import parquet_rows
from foxtrot.common.market_files.parsing import (
    csv_rows,
    decimal_field,
    decimal_from_float,
    open_text,
    parse_decimal,
    parse_iso_ns,
    utc_ns,
)
from foxtrot.core.data import QuoteTick
from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "BINANCE_QUOTE_COLUMNS",
    "HISTDATA_LINE",
    "read_binance_quotes_parquet",
    "read_histdata_quotes",
    "read_truefx_quotes",
]

BINANCE_QUOTE_COLUMNS = ("timestamp", "bid", "ask", "bid_size", "ask_size")
HISTDATA_LINE = re.compile(r"^(\d{8}) (\d{9}),([^,]+),([^,]+),([^,]*)$")
_EST_NO_DST = timezone(timedelta(hours=-5), "EST")
_NO_SIZE = Decimal(0)


def histdata_time_ns(date: str, time: str) -> int:
    """``YYYYMMDD``, ``HHMMSSmmm`` in HistData's fixed UTC-05:00 as UTC nanoseconds."""
    moment = datetime(
        int(date[:4]),
        int(date[4:6]),
        int(date[6:]),
        int(time[:2]),
        int(time[2:4]),
        int(time[4:6]),
        tzinfo=_EST_NO_DST,
    )
    return utc_ns(moment) + int(time[6:]) * 1_000_000


def read_histdata_quotes(path: Path, instrument_id: InstrumentId) -> Iterator[QuoteTick]:
    """Quotes from a HistData.com ASCII tick file."""
    with open_text(path) as handle:
        for line, text in enumerate(handle, start=1):
            text = text.strip()
            if not text:
                continue
            try:
                found = HISTDATA_LINE.match(text)
                if found is None:
                    raise ValueError(
                        f"expected 'YYYYMMDD HHMMSSmmm,bid,ask,volume', found {text[:60]!r}"
                    )
                date, time, bid, ask, _volume = found.groups()
                ts = histdata_time_ns(date, time)
                yield QuoteTick(
                    instrument_id,
                    parse_decimal(bid, "bid"),
                    parse_decimal(ask, "ask"),
                    _NO_SIZE,
                    _NO_SIZE,
                    ts,
                    ts,
                )
            except (ValueError, ArithmeticError) as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc


def read_truefx_quotes(path: Path, instrument_id: InstrumentId) -> Iterator[QuoteTick]:
    """Quotes from a TrueFX-style ``timestamp,bid,ask`` CSV."""
    for line, row in csv_rows(path, ("timestamp", "bid", "ask")):
        try:
            ts = parse_iso_ns(row["timestamp"])
            yield QuoteTick(
                instrument_id,
                decimal_field(row, "bid"),
                decimal_field(row, "ask"),
                _NO_SIZE,
                _NO_SIZE,
                ts,
                ts,
            )
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"{path}:{line}: {exc}") from exc


def read_binance_quotes_parquet(path: Path, instrument_id: InstrumentId) -> Iterator[QuoteTick]:
    """Quotes from a Binance spot quotes Parquet file."""
    for index, row in parquet_rows(path, BINANCE_QUOTE_COLUMNS, "timestamp"):
        try:
            yield QuoteTick(
                instrument_id,
                decimal_from_float(row["bid"], "bid"),
                decimal_from_float(row["ask"], "ask"),
                decimal_from_float(row["bid_size"], "bid_size"),
                decimal_from_float(row["ask_size"], "ask_size"),
                row["timestamp"],
                row["timestamp"],
            )
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"{path}: row {index}: {exc}") from exc
