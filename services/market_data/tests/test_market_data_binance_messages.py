"""Binance's JSON as domain records: the documented examples parse, anything else is refused
with a MalformedMessage that names the stream and the field."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from foxtrot.common.errors import MalformedMessage
from foxtrot.core.book import BookAction, BookSide, OrderBook, OrderBookDelta
from foxtrot.core.enums import AggressorSide
from foxtrot.core.errors import BookSequenceGap
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.binance.messages import (
    Channel,
    MethodReply,
    StreamEvent,
    decode_message,
    parse_book_ticker,
    parse_depth_snapshot,
    parse_depth_update,
    parse_trade,
    stream_name,
)

BNBBTC = InstrumentId("BNBBTC", "BINANCE")
BNBUSDT = InstrumentId("BNBUSDT", "BINANCE")
MS = 1_000_000
TS_INIT = 1_700_000_000_000_000_000

TRADE = {
    "e": "trade",
    "E": 1672515782136,
    "s": "BNBBTC",
    "t": 12345,
    "p": "0.001",
    "q": "100",
    "T": 1672515782136,
    "m": True,
    "M": True,
}
BOOK_TICKER = {
    "u": 400900217,
    "s": "BNBUSDT",
    "b": "25.35190000",
    "B": "31.21000000",
    "a": "25.36520000",
    "A": "40.66000000",
}
DEPTH = {
    "e": "depthUpdate",
    "E": 1672515782136,
    "s": "BNBBTC",
    "U": 157,
    "u": 160,
    "b": [["0.0024", "10"]],
    "a": [["0.0026", "100"], ["0.0027", "0"]],
}


def event(stream: str, data: dict[str, Any]) -> StreamEvent:
    decoded = decode_message(json.dumps({"stream": stream, "data": data}))
    assert isinstance(decoded, StreamEvent)
    return decoded


def test_stream_names_are_lower_case_symbol_at_channel() -> None:
    assert stream_name("BTCUSDT", Channel.TRADE) == "btcusdt@trade"
    assert stream_name("BTCUSDT", Channel.BOOK_TICKER) == "btcusdt@bookTicker"
    assert stream_name("BTCUSDT", Channel.DEPTH) == "btcusdt@depth@100ms"
    assert stream_name("BTCUSDT", Channel.DEPTH, depth_speed_ms=1000) == "btcusdt@depth"


def test_combined_stream_frame_names_its_symbol_and_channel() -> None:
    decoded = event("bnbbtc@depth@100ms", DEPTH)
    assert (decoded.symbol, decoded.channel) == ("BNBBTC", Channel.DEPTH)
    assert event("bnbusdt@bookTicker", BOOK_TICKER).channel is Channel.BOOK_TICKER
    assert event("bnbbtc@trade", TRADE).channel is Channel.TRADE


def test_method_replies_decode_with_their_request_id_and_error() -> None:
    assert decode_message('{"result": null, "id": 7}') == MethodReply(7, None, None)
    refused = decode_message('{"error": {"code": 2, "msg": "Invalid request"}, "id": 8}')
    assert isinstance(refused, MethodReply)
    assert refused.request_id == 8
    assert refused.error is not None
    assert "Invalid request" in refused.error


def test_trade_where_the_buyer_made_the_market_was_taken_by_the_seller() -> None:
    trade = parse_trade(event("bnbbtc@trade", TRADE), BNBBTC, TS_INIT)
    assert trade.price == Decimal("0.001")
    assert trade.size == Decimal(100)
    assert trade.aggressor_side is AggressorSide.SELLER
    assert trade.trade_id == "12345"
    assert trade.ts_event == 1672515782136 * MS
    assert trade.ts_init == TS_INIT
    taker_bought = parse_trade(event("bnbbtc@trade", TRADE | {"m": False}), BNBBTC, TS_INIT)
    assert taker_bought.aggressor_side is AggressorSide.BUYER


def test_spot_book_ticker_has_no_event_time_so_it_is_stamped_on_receipt() -> None:
    quote = parse_book_ticker(event("bnbusdt@bookTicker", BOOK_TICKER), BNBUSDT, TS_INIT)
    assert (quote.bid_price, quote.bid_size) == (Decimal("25.3519"), Decimal("31.21"))
    assert (quote.ask_price, quote.ask_size) == (Decimal("25.3652"), Decimal("40.66"))
    assert quote.ts_event == quote.ts_init == TS_INIT
    with_time = BOOK_TICKER | {"E": 1672515782136}
    assert parse_book_ticker(event("bnbusdt@bookTicker", with_time), BNBUSDT, TS_INIT).ts_event == (
        1672515782136 * MS
    )


def test_depth_update_carries_u_as_sequence_and_u_first_minus_one_as_previous() -> None:
    deltas = parse_depth_update(event("bnbbtc@depth@100ms", DEPTH), BNBBTC, TS_INIT)
    assert (deltas.sequence, deltas.previous_sequence) == (160, 156)
    assert not deltas.is_snapshot
    assert deltas.ts_event == 1672515782136 * MS
    assert deltas.deltas == (
        OrderBookDelta(BookAction.UPDATE, BookSide.BID, Decimal("0.0024"), Decimal(10)),
        OrderBookDelta(BookAction.UPDATE, BookSide.ASK, Decimal("0.0026"), Decimal(100)),
        OrderBookDelta(BookAction.DELETE, BookSide.ASK, Decimal("0.0027"), Decimal(0)),
    )


def test_depth_update_follows_a_snapshot_exactly_when_binance_says_it_does() -> None:
    # Binance: the first event must have U <= lastUpdateId + 1 <= u; the core book's rule is
    # previous_sequence <= sequence-of-book < sequence, the same thing.
    update = parse_depth_update(event("bnbbtc@depth@100ms", DEPTH), BNBBTC, TS_INIT)
    for last_update_id, follows in ((155, False), (156, True), (159, True), (160, False)):
        book = OrderBook(BNBBTC)
        book.apply(
            parse_depth_snapshot(
                {"lastUpdateId": last_update_id, "bids": [], "asks": []}, BNBBTC, 0
            )
        )
        if follows:
            assert book.apply(update)
        elif last_update_id >= update.sequence:
            assert not book.apply(update)
        else:
            with pytest.raises(BookSequenceGap, match="continue from 156"):
                book.apply(update)


def test_rest_snapshot_is_a_clear_then_every_level_and_skips_empty_levels() -> None:
    body = {
        "lastUpdateId": 1027024,
        "bids": [["4.00000000", "431.00000000"], ["3.9", "0"]],
        "asks": [["4.00000200", "12.00000000"]],
    }
    snapshot = parse_depth_snapshot(body, BNBBTC, TS_INIT)
    assert snapshot.is_snapshot
    assert snapshot.sequence == 1027024
    assert [d.action for d in snapshot.deltas] == [BookAction.CLEAR, BookAction.ADD, BookAction.ADD]
    assert snapshot.deltas[1] == OrderBookDelta(
        BookAction.ADD, BookSide.BID, Decimal(4), Decimal(431)
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("not json", "expected JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"stream": "bnbbtc@trade"}', '"data" object'),
        ('{"stream": "bnbbtc@kline_1m", "data": {}}', "@trade, @bookTicker or @depth"),
        ('{"stream": "@trade", "data": {}}', "@trade, @bookTicker or @depth"),
        ('{"result": null, "id": "seven"}', "integer id"),
        ('{"hello": 1}', "a stream event or a reply"),
    ],
)
def test_frames_that_are_neither_events_nor_replies_are_malformed(text: str, found: str) -> None:
    with pytest.raises(MalformedMessage, match=found):
        decode_message(text)


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({"p": 0.001}, "'p' a decimal string, found 0.001"),
        ({"p": "abc"}, "p must be a decimal number"),
        ({"p": "NaN"}, "finite"),
        ({"q": "0"}, "above 0"),
        ({"t": "12345"}, "'t' a whole number"),
        ({"t": True}, "'t' a whole number"),
        ({"T": -1}, "'T' a whole number"),
        ({"m": "true"}, '"m" true or false'),
        ({"s": "ETHBTC"}, "expected \"s\" 'BNBBTC', found 'ETHBTC'"),
        ({"e": "aggTrade"}, "expected \"e\" 'trade'"),
    ],
)
def test_malformed_trades_are_refused_naming_the_field(change: dict[str, Any], found: str) -> None:
    with pytest.raises(MalformedMessage, match="bnbbtc@trade") as refused:
        parse_trade(event("bnbbtc@trade", TRADE | change), BNBBTC, TS_INIT)
    assert found in str(refused.value)


def test_a_missing_field_is_malformed() -> None:
    data = {key: value for key, value in TRADE.items() if key != "q"}
    with pytest.raises(MalformedMessage, match="'q' a decimal string, found None"):
        parse_trade(event("bnbbtc@trade", data), BNBBTC, TS_INIT)


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({"U": 161}, "U <= final u, found U=161 u=160"),
        ({"b": "0.0024"}, "'b' a list"),
        ({"b": [["0.0024"]]}, "levels [price, quantity]"),
        ({"b": [[0.0024, 10]]}, "levels [price, quantity]"),
        ({"a": [["0.0026", "-1"]]}, "0 or more"),
        ({"a": [["0", "1"]]}, "price must be above 0"),
        ({"E": None}, "'E' a whole number"),
    ],
)
def test_malformed_depth_updates_are_refused(change: dict[str, Any], found: str) -> None:
    with pytest.raises(MalformedMessage) as refused:
        parse_depth_update(event("bnbbtc@depth@100ms", DEPTH | change), BNBBTC, TS_INIT)
    assert found in str(refused.value)


def test_malformed_book_ticker_and_snapshot_are_refused() -> None:
    with pytest.raises(MalformedMessage, match="'B' a decimal string"):
        parse_book_ticker(event("bnbusdt@bookTicker", BOOK_TICKER | {"B": None}), BNBUSDT, 0)
    with pytest.raises(MalformedMessage, match="'a' of 0 or more"):
        parse_book_ticker(event("bnbusdt@bookTicker", BOOK_TICKER | {"a": "-1"}), BNBUSDT, 0)
    with pytest.raises(MalformedMessage, match='integer "lastUpdateId"'):
        parse_depth_snapshot({"bids": [], "asks": []}, BNBBTC, 0)
    with pytest.raises(MalformedMessage, match="'asks' a list"):
        parse_depth_snapshot({"lastUpdateId": 1, "bids": []}, BNBBTC, 0)
