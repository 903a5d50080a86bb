"""Binance spot market-data messages as domain records.

The feed reads the *combined* stream endpoint, where every event comes wrapped as
``{"stream": "<symbol>@<channel>", "data": {...}}`` and every answer to a method message
(``SUBSCRIBE``/``UNSUBSCRIBE``) as ``{"result": ..., "id": N}`` or
``{"error": {"code": C, "msg": "..."}, "id": N}``.

=================  ==================================================================
``@trade``         ``t`` trade id (consecutive per symbol), ``p``/``q`` price and
                   quantity as strings, ``T`` trade time in ms, ``m`` true when the
                   buyer was the maker, so the *seller* took liquidity.
``@bookTicker``    ``u`` update id, ``b``/``B`` best bid and its size, ``a``/``A`` best
                   ask and its size. Spot gives no event time: ``ts_event`` is the
                   receive time (``E`` is used when present, as on futures).
``@depth@100ms``   ``U``/``u`` first and final update id of the event, ``E`` event time
                   in ms, ``b``/``a`` lists of ``[price, quantity]``; quantity 0 deletes.
REST ``depth``     ``{"lastUpdateId": N, "bids": [[p, q]...], "asks": [...]}``.
=================  ==================================================================

A diff event becomes an :class:`~foxtrot.core.book.OrderBookDeltas` with ``sequence = u``
and ``previous_sequence = U - 1``: the core book's rule ``previous <= book.sequence <
sequence`` is then exactly Binance's ``U <= lastUpdateId + 1 <= u``. Parsing is strict:
anything that is not the documented shape raises
:class:`~foxtrot.common.errors.MalformedMessage` naming the stream and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from foxtrot.common.errors import MalformedMessage
from foxtrot.common.market_files.books import CLEAR, level_delta
from foxtrot.common.market_files.parsing import parse_decimal
from foxtrot.core.book import BookAction, BookSide, OrderBookDelta, OrderBookDeltas
from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId, TradeId

__all__ = [
    "Channel",
    "MethodReply",
    "StreamEvent",
    "decode_message",
    "parse_book_ticker",
    "parse_depth_snapshot",
    "parse_depth_update",
    "parse_trade",
    "stream_name",
]

_MS = 1_000_000


class Channel(StrEnum):
    """The kinds of stream the feed subscribes to."""

    TRADE = "TRADE"
    BOOK_TICKER = "BOOK_TICKER"
    DEPTH = "DEPTH"


_CHANNELS = {"trade": Channel.TRADE, "bookTicker": Channel.BOOK_TICKER, "depth": Channel.DEPTH}


def stream_name(symbol: str, channel: Channel, depth_speed_ms: int = 100) -> str:
    """The stream's name on Binance: ``btcusdt@trade``, ``btcusdt@depth@100ms``."""
    lower = symbol.lower()
    if channel is Channel.TRADE:
        return f"{lower}@trade"
    if channel is Channel.BOOK_TICKER:
        return f"{lower}@bookTicker"
    return f"{lower}@depth" if depth_speed_ms == 1000 else f"{lower}@depth@{depth_speed_ms}ms"


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One market-data event from the combined stream, still in Binance's fields."""

    stream: str
    symbol: str
    channel: Channel
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class MethodReply:
    """Binance's answer to a SUBSCRIBE/UNSUBSCRIBE; ``error`` is None when it succeeded."""

    request_id: int | None
    result: Any
    error: str | None


def decode_message(text: str | bytes) -> StreamEvent | MethodReply:
    """A combined-stream frame as an event or a method reply; MalformedMessage otherwise."""
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise MalformedMessage("binance", f"expected JSON, found {str(text)[:80]!r}") from exc
    if not isinstance(message, dict):
        raise MalformedMessage("binance", f"expected a JSON object, found {message!r:.80}")
    if "stream" in message:
        stream, data = message["stream"], message.get("data")
        if not isinstance(stream, str) or not isinstance(data, dict):
            raise MalformedMessage(
                "binance", f'expected "stream" text and "data" object, found {message!r:.80}'
            )
        symbol, _, channel = stream.partition("@")
        kind = _CHANNELS.get(channel.partition("@")[0])
        if not symbol or kind is None:
            raise MalformedMessage(stream, "expected <symbol>@trade, @bookTicker or @depth")
        return StreamEvent(stream, symbol.upper(), kind, data)
    if "id" in message and ("result" in message or "error" in message):
        request_id = message["id"]
        if request_id is not None and (
            not isinstance(request_id, int) or isinstance(request_id, bool)
        ):
            raise MalformedMessage("binance", f"expected an integer id, found {request_id!r}")
        error = message.get("error")
        return MethodReply(request_id, message.get("result"), None if error is None else str(error))
    raise MalformedMessage("binance", f"expected a stream event or a reply, found {message!r:.80}")


def parse_trade(event: StreamEvent, instrument_id: InstrumentId, ts_init: int) -> TradeTick:
    """A ``@trade`` event as a trade; the buyer being maker means the seller aggressed."""
    data = _checked(event, instrument_id, "trade")
    maker = data.get("m")
    if not isinstance(maker, bool):
        raise MalformedMessage(event.stream, f'expected "m" true or false, found {maker!r}')
    price = _decimal(event, data, "p")
    size = _decimal(event, data, "q")
    if price <= 0 or size <= 0:
        raise MalformedMessage(
            event.stream, f"expected a price and quantity above 0, found p={price} q={size}"
        )
    return TradeTick(
        instrument_id,
        price,
        size,
        AggressorSide.SELLER if maker else AggressorSide.BUYER,
        TradeId(str(_integer(event, data, "t"))),
        _integer(event, data, "T") * _MS,
        ts_init,
    )


def parse_book_ticker(event: StreamEvent, instrument_id: InstrumentId, ts_init: int) -> QuoteTick:
    """A ``@bookTicker`` event as a quote, stamped with the receive time (spot has no ``E``)."""
    data = _checked(event, instrument_id, None)
    _integer(event, data, "u")
    values = {key: _decimal(event, data, key) for key in ("b", "B", "a", "A")}
    negative = [key for key, value in values.items() if value < 0]
    if negative:
        raise MalformedMessage(event.stream, f"expected {negative[0]!r} of 0 or more")
    ts_event = _integer(event, data, "E") * _MS if "E" in data else ts_init
    return QuoteTick(
        instrument_id, values["b"], values["a"], values["B"], values["A"], ts_event, ts_init
    )


def parse_depth_update(
    event: StreamEvent, instrument_id: InstrumentId, ts_init: int
) -> OrderBookDeltas:
    """A ``@depth`` diff event as deltas with ``sequence = u``, ``previous_sequence = U - 1``."""
    data = _checked(event, instrument_id, "depthUpdate")
    first, final = _integer(event, data, "U"), _integer(event, data, "u")
    if first > final:
        raise MalformedMessage(
            event.stream, f"expected first update id U <= final u, found U={first} u={final}"
        )
    deltas = _levels(event.stream, data, "b", BookSide.BID, snapshot=False)
    deltas += _levels(event.stream, data, "a", BookSide.ASK, snapshot=False)
    return OrderBookDeltas(
        instrument_id,
        tuple(deltas),
        final,
        _integer(event, data, "E") * _MS,
        ts_init,
        previous_sequence=first - 1,
    )


def parse_depth_snapshot(
    body: object, instrument_id: InstrumentId, ts_init: int
) -> OrderBookDeltas:
    """A REST ``/api/v3/depth`` answer as a snapshot batch (CLEAR, then every level)."""
    where = f"GET /api/v3/depth?symbol={instrument_id.symbol}"
    if not isinstance(body, dict):
        raise MalformedMessage(where, f"expected a JSON object, found {body!r:.80}")
    last = body.get("lastUpdateId")
    if not isinstance(last, int) or isinstance(last, bool):
        raise MalformedMessage(where, f'expected an integer "lastUpdateId", found {last!r}')
    deltas = [CLEAR]
    deltas += _levels(where, body, "bids", BookSide.BID, snapshot=True)
    deltas += _levels(where, body, "asks", BookSide.ASK, snapshot=True)
    return OrderBookDeltas(instrument_id, tuple(deltas), last, ts_init, ts_init, is_snapshot=True)


def _checked(
    event: StreamEvent, instrument_id: InstrumentId, event_type: str | None
) -> Mapping[str, Any]:
    data = event.data
    if event_type is not None and data.get("e") != event_type:
        raise MalformedMessage(
            event.stream, f'expected "e" {event_type!r}, found {data.get("e")!r}'
        )
    if data.get("s") != instrument_id.symbol:
        raise MalformedMessage(
            event.stream, f'expected "s" {instrument_id.symbol!r}, found {data.get("s")!r}'
        )
    return data


def _integer(event: StreamEvent, data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedMessage(event.stream, f"expected {key!r} a whole number, found {value!r}")
    return value


def _decimal(event: StreamEvent, data: Mapping[str, Any], key: str) -> Decimal:
    value = data.get(key)
    if not isinstance(value, str):
        raise MalformedMessage(event.stream, f"expected {key!r} a decimal string, found {value!r}")
    try:
        return parse_decimal(value, key)
    except ValueError as exc:
        raise MalformedMessage(event.stream, str(exc)) from None


def _levels(
    where: str, data: Mapping[str, Any], key: str, side: BookSide, snapshot: bool
) -> list[OrderBookDelta]:
    levels = data.get(key)
    if not isinstance(levels, list):
        raise MalformedMessage(where, f"expected {key!r} a list of [price, quantity]")
    deltas = []
    for level in levels:
        if (
            not isinstance(level, list)
            or len(level) != 2
            or not all(isinstance(x, str) for x in level)
        ):
            raise MalformedMessage(
                where, f"expected {key!r} levels [price, quantity], found {level!r}"
            )
        try:
            price = parse_decimal(level[0], f"{key} price")
            delta = level_delta(side, price, parse_decimal(level[1], f"{key} quantity"), snapshot)
        except ValueError as exc:
            raise MalformedMessage(where, str(exc)) from None
        # A snapshot lists the levels that are there: a zero there is no level at all.
        if not (snapshot and delta.action is BookAction.DELETE):
            deltas.append(delta)
    return deltas
