"""Trade files: Tardis.dev CSV and Binance spot Parquet.

- ``tardis_trades``: Tardis.dev's trades CSV. ``timestamp`` is the exchange time in
  microseconds since the epoch; ``side`` the aggressor's (``buy``/``sell``; anything else is
  no aggressor). The instrument is ``symbol`` on the upper-cased ``exchange``
  (``BTCUSDT.BINANCE-FUTURES``) unless a venue is given.
- ``binance_trades_parquet``: Binance spot trades as pandas writes them: ``timestamp``,
  ``trade_id``, ``price``, ``quantity``, ``buyer_maker``. ``buyer_maker`` is the *string*
  ``"True"``/``"False"`` (a boolean column is read too); a buyer who made the market means the
  seller took it, so ``"True"`` is aggressor SELLER. Float prices and quantities lose their
  binary noise as :mod:`.parsing` describes. The file names no instrument: the caller does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from foxtrot.common.market_files.parquet import parquet_rows
from foxtrot.common.market_files.parsing import csv_rows, decimal_field, decimal_from_float
from foxtrot.core.data import TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

__all__ = ["BINANCE_TRADE_COLUMNS", "read_binance_trades_parquet", "read_tardis_trades"]

BINANCE_TRADE_COLUMNS = ("timestamp", "trade_id", "price", "quantity", "buyer_maker")
_TARDIS_COLUMNS = ("exchange", "symbol", "timestamp", "id", "side", "price", "amount")
_TARDIS_SIDES = {"buy": AggressorSide.BUYER, "sell": AggressorSide.SELLER}
_BUYER_MAKER = {"True": AggressorSide.SELLER, "False": AggressorSide.BUYER}


def read_tardis_trades(path: Path, venue: str | None = None) -> Iterator[TradeTick]:
    """Trades from a Tardis.dev trades CSV."""
    for line, row in csv_rows(path, _TARDIS_COLUMNS):
        try:
            ts = int(row["timestamp"]) * 1_000
            yield TradeTick(
                InstrumentId(row["symbol"], venue or row["exchange"].upper()),
                decimal_field(row, "price"),
                decimal_field(row, "amount"),
                _TARDIS_SIDES.get(row["side"], AggressorSide.NO_AGGRESSOR),
                TradeId(row["id"]),
                ts,
                ts,
            )
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"{path}:{line}: {exc}") from exc


def read_binance_trades_parquet(path: Path, instrument_id: InstrumentId) -> Iterator[TradeTick]:
    """Trades from a Binance spot trades Parquet file."""
    for index, row in parquet_rows(path, BINANCE_TRADE_COLUMNS, "timestamp"):
        try:
            maker = row["buyer_maker"]
            side = _BUYER_MAKER.get(str(maker)) if isinstance(maker, str | bool) else None
            if side is None:
                raise ValueError(f'buyer_maker must be "True" or "False", was {maker!r}')
            yield TradeTick(
                instrument_id,
                decimal_from_float(row["price"], "price"),
                decimal_from_float(row["quantity"], "quantity"),
                side,
                TradeId(str(row["trade_id"])),
                row["timestamp"],
                row["timestamp"],
            )
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"{path}: row {index}: {exc}") from exc
