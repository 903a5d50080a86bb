"""Market data files: which format a file is in, and its records.

Formats (``docs/market-data-files.md`` and the reader modules say more; the real files are
described in shared/data/SOURCES.md):

=========================  ===========  =========================================================
format                     records      files
=========================  ===========  =========================================================
``bars_csv``               bars         FTX, FXCM bid/ask, CME (gzip), Yahoo daily
``tardis_trades``          trades       Tardis.dev trades CSV
``binance_trades_parquet`` trades       Binance spot trades Parquet
``histdata_quotes``        quotes       HistData.com ASCII ticks (no header, fixed UTC-05:00)
``truefx_quotes``          quotes       TrueFX ``timestamp,bid,ask``
``binance_quotes_parquet`` quotes       Binance spot quotes Parquet
``bybit_book_jsonl``       book deltas  Bybit ``ob500`` JSON Lines
``binance_depth_csv``      book deltas  Binance futures depth snapshot / update CSV
``generic_csv``            any          Foxtrot's own schema, the kind named by the header
=========================  ===========  =========================================================
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, Literal, get_args

from foxtrot.common.market_files.bars import bar_interval_ns, read_bars_csv
from foxtrot.common.market_files.books import (
    BINANCE_DEPTH_HEADER,
    read_binance_depth,
    read_bybit_book,
)
from foxtrot.common.market_files.generic import (
    MarketRecord,
    generic_kind,
    read_generic_csv,
)
from foxtrot.common.market_files.parquet import parquet_columns
from foxtrot.common.market_files.parsing import open_text
from foxtrot.common.market_files.quotes import (
    BINANCE_QUOTE_COLUMNS,
    HISTDATA_LINE,
    read_binance_quotes_parquet,
    read_histdata_quotes,
    read_truefx_quotes,
)
from foxtrot.common.market_files.trades import (
    BINANCE_TRADE_COLUMNS,
    read_binance_trades_parquet,
    read_tardis_trades,
)
from foxtrot.core.identifiers import InstrumentId

__all__ = [
    "FORMATS",
    "FileFormat",
    "MarketRecord",
    "bar_interval_ns",
    "detect_format",
    "read_bars_csv",
    "read_records",
    "read_tardis_trades",
]

FileFormat = Literal[
    "bars_csv",
    "tardis_trades",
    "binance_trades_parquet",
    "histdata_quotes",
    "truefx_quotes",
    "binance_quotes_parquet",
    "bybit_book_jsonl",
    "binance_depth_csv",
    "generic_csv",
]
FORMATS: Final[tuple[FileFormat, ...]] = get_args(FileFormat)


def detect_format(path: Path) -> FileFormat:
    """The format of a file, judged from its extension and first line; ValueError if unknown."""
    if path.name.lower().endswith(".parquet"):
        columns = set(parquet_columns(path))
        if set(BINANCE_TRADE_COLUMNS) <= columns:
            return "binance_trades_parquet"
        if set(BINANCE_QUOTE_COLUMNS) <= columns:
            return "binance_quotes_parquet"
        raise ValueError(
            f"{path}: cannot tell the format from the Parquet columns {sorted(columns)}"
        )
    try:
        with open_text(path) as handle:
            first = handle.readline(65_536).strip()
    except (UnicodeDecodeError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: cannot tell the format, the file is not text ({exc})") from exc
    found = _format_of_first_line(first)
    if found is None:
        raise ValueError(f"{path}: cannot tell the format from the header {first[:200]!r}")
    return found


def _format_of_first_line(first: str) -> FileFormat | None:
    if first.startswith("{"):
        return "bybit_book_jsonl" if _is_bybit_book(first) else None
    if HISTDATA_LINE.match(first):
        return "histdata_quotes"
    columns = [column.strip() for column in next(csv.reader([first]), [])]
    lower = [column.lower() for column in columns]
    if generic_kind(columns) is not None:
        return "generic_csv"
    if lower[:4] == ["exchange", "symbol", "timestamp", "local_timestamp"]:
        return "tardis_trades"
    if ",".join(lower) == BINANCE_DEPTH_HEADER:
        return "binance_depth_csv"
    if lower == ["timestamp", "bid", "ask"]:
        return "truefx_quotes"
    if {"open", "high", "low", "close"} <= set(lower):
        return "bars_csv"
    return None


def _is_bybit_book(line: str) -> bool:
    try:
        message = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(message, dict)
        and str(message.get("topic", "")).startswith("orderbook.")
        and isinstance(message.get("data"), dict)
    )


def read_records(
    path: Path, kind: FileFormat, instrument_id: InstrumentId, bar_spec: str
) -> Iterator[MarketRecord]:
    """The records of a file in format ``kind``.

    ``instrument_id`` names the instrument of files that do not (all but Tardis and generic
    CSV); ``bar_spec`` is the interval of a ``bars_csv`` file's bars.
    """
    readers: dict[FileFormat, Callable[[], Iterator[MarketRecord]]] = {
        "bars_csv": lambda: read_bars_csv(path, instrument_id, bar_spec),
        "tardis_trades": lambda: read_tardis_trades(path),
        "binance_trades_parquet": lambda: read_binance_trades_parquet(path, instrument_id),
        "histdata_quotes": lambda: read_histdata_quotes(path, instrument_id),
        "truefx_quotes": lambda: read_truefx_quotes(path, instrument_id),
        "binance_quotes_parquet": lambda: read_binance_quotes_parquet(path, instrument_id),
        "bybit_book_jsonl": lambda: read_bybit_book(path, instrument_id),
        "binance_depth_csv": lambda: read_binance_depth(path, instrument_id),
        "generic_csv": lambda: read_generic_csv(path),
    }
    if kind not in readers:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, was {kind!r}")
    return readers[kind]()
