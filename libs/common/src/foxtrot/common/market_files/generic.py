"""Foxtrot's own CSV schema for anyone's data: one kind of record per file, named by its header.

``docs/market-data-files.md`` is the reference. The header's columns (any order) say the kind:

=======  ====================================================================================
trades   ``ts_event,instrument_id,price,size,aggressor_side[,trade_id]``
quotes   ``ts_event,instrument_id,bid_price,ask_price,bid_size,ask_size``
bars     ``ts_event,instrument_id,spec,open,high,low,close,volume`` (``ts_event`` = bar close)
book     ``ts_event,instrument_id,sequence,action,side,price,size[,previous_sequence]``
=======  ====================================================================================

``ts_event`` is integer nanoseconds since the epoch or ISO-8601 (naive means UTC); the
writer uses nanoseconds. Numbers are plain decimals. A trade without ``trade_id`` gets
``<ts_event>-<n>``, n counting that instrument's trades at the same ``ts_event`` in the file
from 0. Consecutive book rows with the same instrument and sequence are one batch; a batch
whose first row is CLEAR (side, price and size empty) is a snapshot.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Final

from foxtrot.common.market_files.parsing import (
    csv_rows,
    decimal_field,
    open_text,
    parse_time_ns,
)
from foxtrot.core.bar_spec import BarSpec
from foxtrot.core.book import BookAction, BookSide, OrderBookDelta, OrderBookDeltas
from foxtrot.core.data import Bar, QuoteTick, TradeTick, ohlc_inconsistency
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

__all__ = [
    "GENERIC_COLUMNS",
    "MarketRecord",
    "generic_kind",
    "read_generic_csv",
    "write_generic_csv",
]

MarketRecord = Bar | TradeTick | QuoteTick | OrderBookDeltas

# kind: (required columns, optional columns), each in the order the writer uses.
GENERIC_COLUMNS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "trades": (("ts_event", "instrument_id", "price", "size", "aggressor_side"), ("trade_id",)),
    "quotes": (("ts_event", "instrument_id", "bid_price", "ask_price", "bid_size", "ask_size"), ()),
    "bars": (("ts_event", "instrument_id", "spec", "open", "high", "low", "close", "volume"), ()),
    "book": (
        ("ts_event", "instrument_id", "sequence", "action", "side", "price", "size"),
        ("previous_sequence",),
    ),
}
_KIND_OF: Final = {Bar: "bars", TradeTick: "trades", QuoteTick: "quotes", OrderBookDeltas: "book"}
_ZERO = Decimal(0)


def generic_kind(columns: Iterable[str]) -> str | None:
    """The kind a generic CSV header names, or None if it is no generic header."""
    names = {column.strip() for column in columns}
    for kind, (required, optional) in GENERIC_COLUMNS.items():
        if set(required) <= names <= set(required) | set(optional):
            return kind
    return None


def read_generic_csv(path: Path) -> Iterator[MarketRecord]:
    """Records from a CSV in Foxtrot's generic schema."""
    with open_text(path) as handle:
        header = next(csv.reader(handle), [])
    kind = generic_kind(header)
    if kind is None:
        raise ValueError(f"{path}: the header {','.join(header)!r} names no generic record kind")
    if kind == "book":
        yield from _read_book(path)
        return
    same_time: dict[InstrumentId, tuple[int, int]] = {}
    for line, raw in csv_rows(path):
        row = {key.strip(): value.strip() for key, value in raw.items()}
        try:
            ts = parse_time_ns(row["ts_event"])
            instrument = InstrumentId.parse(row["instrument_id"])
            if kind == "trades":
                last, count = same_time.get(instrument, (ts, -1))
                count = count + 1 if last == ts else 0
                same_time[instrument] = (ts, count)
                yield _trade(row, instrument, ts, row.get("trade_id") or f"{ts}-{count}")
            elif kind == "quotes":
                yield QuoteTick(
                    instrument,
                    _positive(row, "bid_price"),
                    _positive(row, "ask_price"),
                    _non_negative(row, "bid_size"),
                    _non_negative(row, "ask_size"),
                    ts,
                    ts,
                )
            else:
                yield _bar(row, instrument, ts)
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"{path}:{line}: {exc}") from exc


def _trade(row: dict[str, str], instrument: InstrumentId, ts: int, trade_id: str) -> TradeTick:
    side = row["aggressor_side"].upper()
    if side not in AggressorSide.__members__:
        raise ValueError(f"aggressor_side must be BUYER, SELLER or NO_AGGRESSOR, was {side!r}")
    return TradeTick(
        instrument,
        _positive(row, "price"),
        _positive(row, "size"),
        AggressorSide(side),
        TradeId(trade_id),
        ts,
        ts,
    )


def _bar(row: dict[str, str], instrument: InstrumentId, ts: int) -> Bar:
    open_, high, low, close = (_positive(row, name) for name in ("open", "high", "low", "close"))
    problem = ohlc_inconsistency(open_, high, low, close)
    if problem:
        raise ValueError(problem)
    spec = str(BarSpec.parse(row["spec"]))
    return Bar(instrument, spec, open_, high, low, close, _non_negative(row, "volume"), ts, ts)


def _positive(row: dict[str, str], column: str) -> Decimal:
    value = decimal_field(row, column)
    if value <= 0:
        raise ValueError(f"{column} must be above 0, was {value}")
    return value


def _non_negative(row: dict[str, str], column: str) -> Decimal:
    value = decimal_field(row, column)
    if value < 0:
        raise ValueError(f"{column} must be 0 or more, was {value}")
    return value


def _read_book(path: Path) -> Iterator[OrderBookDeltas]:
    key: tuple[InstrumentId, int] | None = None
    head: OrderBookDeltas | None = None  # the batch's shared fields; deltas gathered apart
    batch: list[OrderBookDelta] = []
    for line, raw in csv_rows(path):
        row = {name.strip(): value.strip() for name, value in raw.items()}
        try:
            instrument = InstrumentId.parse(row["instrument_id"])
            sequence = int(row["sequence"])
            if sequence < 0:
                raise ValueError(f"sequence must be 0 or more, was {sequence}")
            delta = _book_delta(row)
            if (instrument, sequence) != key:
                if head is not None:
                    yield _with_deltas(head, batch)
                key, batch = (instrument, sequence), []
                previous = row.get("previous_sequence")
                ts = parse_time_ns(row["ts_event"])
                head = OrderBookDeltas(
                    instrument,
                    (),
                    sequence,
                    ts,
                    ts,
                    is_snapshot=delta.action is BookAction.CLEAR,
                    previous_sequence=int(previous) if previous else None,
                )
            batch.append(delta)
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"{path}:{line}: {exc}") from exc
    if head is not None:
        yield _with_deltas(head, batch)


def _with_deltas(head: OrderBookDeltas, batch: list[OrderBookDelta]) -> OrderBookDeltas:
    return dataclasses.replace(head, deltas=tuple(batch))


def _book_delta(row: dict[str, str]) -> OrderBookDelta:
    action = row["action"].upper()
    if action not in BookAction.__members__:
        raise ValueError(f"action must be ADD, UPDATE, DELETE or CLEAR, was {row['action']!r}")
    if action == BookAction.CLEAR:
        if row["side"] or row["price"] or row["size"]:
            raise ValueError("a CLEAR row has side, price and size empty")
        return OrderBookDelta(BookAction.CLEAR, None, _ZERO, _ZERO)
    side = row["side"].upper()
    if side not in BookSide.__members__:
        raise ValueError(f"side must be BID or ASK, was {row['side']!r}")
    price = decimal_field(row, "price")
    size = decimal_field(row, "size") if row["size"] or action != BookAction.DELETE else _ZERO
    if price <= 0 or size < 0 or (size == 0 and action != BookAction.DELETE):
        raise ValueError(
            f"a {action} row needs a price above 0 and a size above 0 (0 only for DELETE), "
            f"was price {price} size {size}"
        )
    return OrderBookDelta(BookAction(action), BookSide(side), price, size)


def write_generic_csv(path: Path, records: Iterable[MarketRecord]) -> int:
    """Write records of one kind in the generic schema; returns how many were written."""
    written = 0
    kind: str | None = None
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for record in records:
            record_kind = _KIND_OF[type(record)]
            if kind is None:
                kind = record_kind
                required, optional = GENERIC_COLUMNS[kind]
                writer.writerow(required + optional)
            elif record_kind != kind:
                raise ValueError(
                    f"a generic CSV holds one kind of record: {kind}, not {record_kind}"
                )
            writer.writerows(_rows(record))
            written += 1
    return written


def _rows(record: MarketRecord) -> list[list[str]]:
    head = [str(record.ts_event), str(record.instrument_id)]
    if isinstance(record, TradeTick):
        side = record.aggressor_side.value
        return [[*head, _plain(record.price), _plain(record.size), side, record.trade_id]]
    if isinstance(record, QuoteTick):
        sizes = (record.bid_price, record.ask_price, record.bid_size, record.ask_size)
        return [head + [_plain(value) for value in sizes]]
    if isinstance(record, Bar):
        prices = (record.open, record.high, record.low, record.close, record.volume)
        return [head + [record.spec] + [_plain(value) for value in prices]]
    previous = "" if record.previous_sequence is None else str(record.previous_sequence)
    rows = []
    for delta in record.deltas:
        level = ["", "", ""]
        if delta.action is not BookAction.CLEAR and delta.side is not None:
            level = [delta.side.value, _plain(delta.price), _plain(delta.size)]
        rows.append([*head, str(record.sequence), delta.action.value, *level, previous])
    return rows


def _plain(value: Decimal) -> str:
    return format(value, "f")  # never exponent notation such as 1E-7
