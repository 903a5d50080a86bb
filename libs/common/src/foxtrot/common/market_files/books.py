"""L2 order book files: Bybit ``ob500`` JSON Lines and Binance futures depth CSVs.

Each venue update becomes one :class:`~foxtrot.core.book.OrderBookDeltas`; a snapshot starts
with CLEAR and adds every level, a delta sets (UPDATE) or removes (DELETE, size 0) levels.

- ``bybit_book_jsonl``: Bybit's historical order-book download, one WebSocket
  ``orderbook.<depth>.<symbol>`` message per line. ``type`` is ``snapshot`` or ``delta``;
  ``b``/``a`` hold ``[price, size]`` strings and size ``"0"`` deletes the level. The
  sequence is the update id ``u``, which Bybit numbers contiguously (so no previous id).
  ``ts_event`` is ``cts``, the matching engine's time, which lines up with trade times;
  ``ts_init`` is ``ts``, when Bybit published the message (``ts`` for both when ``cts`` is
  missing).
- ``binance_depth_csv``: Binance USDⓈ-M futures historical depth,
  ``symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu`` with
  ``timestamp`` in milliseconds. Consecutive rows of the same update (``last_update_id``
  and ``update_type``) make one batch: ``snap`` rows a snapshot, ``set`` rows a delta whose
  previous id is ``pu`` (Binance's own link between updates), qty 0 deleting the level.

Neither file names the venue, so the caller gives the instrument.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from foxtrot.common.market_files.parsing import (
    csv_rows,
    decimal_field,
    open_text,
    parse_decimal,
)
from foxtrot.core.book import BookAction, BookSide, OrderBookDelta, OrderBookDeltas
from foxtrot.core.identifiers import InstrumentId

__all__ = ["BINANCE_DEPTH_HEADER", "read_binance_depth", "read_bybit_book"]

BINANCE_DEPTH_HEADER = (
    "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu"
)
CLEAR = OrderBookDelta(BookAction.CLEAR, None, Decimal(0), Decimal(0))
_BINANCE_SIDES = {"b": BookSide.BID, "a": BookSide.ASK}
_MS = 1_000_000


def level_delta(side: BookSide, price: Decimal, size: Decimal, snapshot: bool) -> OrderBookDelta:
    """The delta that sets a level to ``size``: ADD in a snapshot, UPDATE or DELETE after."""
    if size < 0:
        raise ValueError(f"a level's size must be 0 or more, was {size}")
    if price <= 0:
        raise ValueError(f"a level's price must be above 0, was {price}")
    if size == 0:
        return OrderBookDelta(BookAction.DELETE, side, price, size)
    return OrderBookDelta(BookAction.ADD if snapshot else BookAction.UPDATE, side, price, size)


def _bybit_levels(data: dict[str, Any], snapshot: bool) -> list[OrderBookDelta]:
    deltas = [CLEAR] if snapshot else []
    for key, side in (("b", BookSide.BID), ("a", BookSide.ASK)):
        for level in data.get(key) or ():
            price, size = level
            delta = level_delta(
                side,
                parse_decimal(price, f"{key} price"),
                parse_decimal(size, f"{key} size"),
                snapshot,
            )
            if not (snapshot and delta.action is BookAction.DELETE):
                deltas.append(delta)
    return deltas


def read_bybit_book(path: Path, instrument_id: InstrumentId) -> Iterator[OrderBookDeltas]:
    """Book updates from a Bybit order-book JSON Lines file."""
    with open_text(path) as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                message = json.loads(text)
                kind = message["type"]
                if kind not in ("snapshot", "delta"):
                    raise ValueError(f'type must be "snapshot" or "delta", was {kind!r}')
                data = message["data"]
                ts_init = int(message["ts"]) * _MS
                cts = message.get("cts")
                yield OrderBookDeltas(
                    instrument_id,
                    tuple(_bybit_levels(data, kind == "snapshot")),
                    int(data["u"]),
                    ts_init if cts is None else int(cts) * _MS,
                    ts_init,
                    is_snapshot=kind == "snapshot",
                )
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                problem = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                raise ValueError(f"{path}:{line}: {problem}") from exc


def read_binance_depth(path: Path, instrument_id: InstrumentId) -> Iterator[OrderBookDeltas]:
    """Book updates from a Binance futures depth snapshot or update CSV."""
    key: tuple[str, str] | None = None
    head: _BinanceUpdate | None = None
    batch: list[OrderBookDelta] = []
    for line, row in csv_rows(path, BINANCE_DEPTH_HEADER.split(",")):
        try:
            if (row["last_update_id"], row["update_type"]) != key:
                if head is not None:
                    yield head.deltas(instrument_id, batch)
                key, head = (row["last_update_id"], row["update_type"]), _BinanceUpdate.of(row)
                batch = [CLEAR] if head.snapshot else []
            assert head is not None  # set on the first row
            side = _BINANCE_SIDES.get(row["side"])
            if side is None:
                raise ValueError(f'side must be "b" or "a", was {row["side"]!r}')
            price, qty = decimal_field(row, "price"), decimal_field(row, "qty")
            delta = level_delta(side, price, qty, head.snapshot)
            if not (head.snapshot and delta.action is BookAction.DELETE):
                batch.append(delta)
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"{path}:{line}: {exc}") from exc
    if head is not None:
        yield head.deltas(instrument_id, batch)


@dataclass(frozen=True, slots=True)
class _BinanceUpdate:
    """What the rows of one Binance depth update share."""

    sequence: int
    previous: int | None
    ts: int
    snapshot: bool

    @classmethod
    def of(cls, row: dict[str, str]) -> _BinanceUpdate:
        kind = row["update_type"]
        if kind not in ("snap", "set"):
            raise ValueError(f'update_type must be "snap" or "set", was {kind!r}')
        previous = int(row["pu"])
        return cls(
            int(row["last_update_id"]),
            None if kind == "snap" or previous < 0 else previous,
            int(row["timestamp"]) * _MS,
            kind == "snap",
        )

    def deltas(self, instrument_id: InstrumentId, batch: list[OrderBookDelta]) -> OrderBookDeltas:
        return OrderBookDeltas(
            instrument_id,
            tuple(batch),
            self.sequence,
            self.ts,
            self.ts,
            is_snapshot=self.snapshot,
            previous_sequence=self.previous,
        )
