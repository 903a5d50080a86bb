"""Replaying quotes and order books: each on its subject, with ids derived from the record,
and quotes feeding the bar builder like trades do."""

from __future__ import annotations

import dataclasses
import itertools
import time
from decimal import Decimal
from pathlib import Path

import pytest

from foxtrot.common.market_files.books import read_bybit_book
from foxtrot.common.market_files.quotes import (
    read_binance_quotes_parquet,
    read_truefx_quotes,
)
from foxtrot.common.messages.v1 import Bar, OrderBookDeltas, QuoteTick
from foxtrot.common.streams import MARKET_DATA
from foxtrot.common.testkit.recording import RecordingPublisher
from foxtrot.core import data as core
from foxtrot.core.aggregation import EmptyBarPolicy
from foxtrot.core.book import OrderBook
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.bars import BarBuilder, parse_specs
from foxtrot.market_data.outbox import Record
from foxtrot.market_data.service import Replayer

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
BINANCE_QUOTES = DATA / "quotes" / "binance_spot_BTCUSDT_quotes_2021-01-08.parquet"
TRUEFX = DATA / "quotes" / "truefx_USDJPY_ticks_2013-01.csv"
BYBIT = DATA / "orderbook" / "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"
BTC = InstrumentId("BTC/USDT", "BINANCE")
USDJPY = InstrumentId("USD/JPY", "TRUEFX")
XRP = InstrumentId("XRPUSDT", "BYBIT")


def data_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"market data file not found: {path}")
    return path


async def replay(records: list[Record], bars: BarBuilder | None = None) -> RecordingPublisher:
    publish = RecordingPublisher()
    await Replayer(publish, records, 0, None, "test", bars).run()
    return publish


# --- quotes -----------------------------------------------------------------------------


async def test_quotes_are_published_on_their_quote_subject_with_their_values() -> None:
    records: list[Record] = list(read_binance_quotes_parquet(data_file(BINANCE_QUOTES), BTC))
    started = time.time_ns()
    publish = await replay(records)

    assert len(publish.sent) == 451
    assert {s.subject for s in publish.sent} == {"md.v1.quote.BINANCE.BTC/USDT"}
    assert {s.stream for s in publish.sent} == {MARKET_DATA}
    first = publish.sent[0].message
    assert isinstance(first, QuoteTick)
    assert (first.bid_price, first.ask_price, first.bid_size, first.ask_size) == (
        Decimal("39432.99"),
        Decimal("39433.62"),
        Decimal("0.0031"),
        Decimal("0.066851"),
    )
    assert first.ts_event == records[0].ts_event
    assert first.ts_init >= started  # stamped when published
    assert first.to_core() == dataclasses.replace(records[0], ts_init=first.ts_init)


async def test_quote_ids_are_stable_and_distinct_even_within_one_millisecond() -> None:
    records: list[Record] = list(read_binance_quotes_parquet(data_file(BINANCE_QUOTES), BTC))
    same_instant = sum(a.ts_event == b.ts_event for a, b in itertools.pairwise(records))
    assert same_instant > 0  # the file has quotes 0 ms apart
    first, second = await replay(records), await replay(records)
    ids = [s.message.message_id for s in first.sent]
    assert len(set(ids)) == 451
    assert ids == [s.message.message_id for s in second.sent]


async def test_quotes_feed_the_bar_builder_with_their_mid_price() -> None:
    records: list[Record] = list(read_truefx_quotes(data_file(TRUEFX), USDJPY))
    builder = BarBuilder(parse_specs("1m"), EmptyBarPolicy.CARRY_FORWARD)
    publish = await replay(records, builder)

    quotes = [s.message for s in publish.sent if isinstance(s.message, QuoteTick)]
    bars = [s.message for s in publish.sent if isinstance(s.message, Bar)]
    assert len(quotes) == 1_000
    # Quotes run 22:00:00.295 to 22:35:13.494 UTC: the bars closing 22:01 to 22:36.
    assert len(bars) == 36
    assert {s.subject for s in publish.sent if isinstance(s.message, Bar)} == {
        "md.v1.bar.TRUEFX.USD/JPY.1m"
    }
    assert bars[0].ts_event == 1_357_077_660_000_000_000  # 2013-01-01 22:01:00 UTC
    assert bars[0].open == (Decimal("86.655") + Decimal("86.728")) / 2


# --- order books ------------------------------------------------------------------------


async def test_book_batches_are_published_on_their_book_subject_and_rebuild_the_book() -> None:
    records: list[Record] = list(read_bybit_book(data_file(BYBIT), XRP))
    builder = BarBuilder(parse_specs("1m"), EmptyBarPolicy.CARRY_FORWARD)
    publish = await replay(records, builder)  # books do not make bars

    assert len(publish.sent) == 50
    assert {s.subject for s in publish.sent} == {"md.v1.book.BYBIT.XRPUSDT"}
    messages = [s.message for s in publish.sent]
    assert all(isinstance(m, OrderBookDeltas) for m in messages)
    book = OrderBook(XRP)
    for message in messages:
        assert isinstance(message, OrderBookDeltas)
        wire = OrderBookDeltas.from_json(message.to_json())  # as a consumer receives it
        assert book.apply(wire.to_core())
    best_bid, best_ask = book.best_bid(), book.best_ask()
    assert best_bid is not None
    assert best_ask is not None
    assert (best_bid.price, best_ask.price) == (Decimal("1.9537"), Decimal("1.9538"))


async def test_book_ids_are_stable_and_tell_snapshot_from_delta_at_one_sequence() -> None:
    records: list[Record] = list(read_bybit_book(data_file(BYBIT), XRP))
    first, second = await replay(records), await replay(records)
    ids = [s.message.message_id for s in first.sent]
    assert len(set(ids)) == 50
    assert ids == [s.message.message_id for s in second.sent]

    batch = records[1]
    assert not isinstance(batch, core.QuoteTick | core.TradeTick | core.Bar)
    as_snapshot = dataclasses.replace(batch, is_snapshot=True)
    (delta_sent,), (snapshot_sent,) = (
        (await replay([batch])).sent,
        (await replay([as_snapshot])).sent,
    )
    assert delta_sent.message.message_id != snapshot_sent.message.message_id
