"""BinanceFeed against FakeBinance, a real local server: records flow, connections drop and
come back, update ids skip, REST says 429, and the feed reports each hole and heals."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from foxtrot.core.book import OrderBook, OrderBookDeltas
from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.core.identifiers import InstrumentId
from foxtrot.market_data.adapters.binance.backoff import Backoff
from foxtrot.market_data.adapters.binance.fake import FakeBinance
from foxtrot.market_data.adapters.binance.feed import BinanceFeed, FeedGap, GapKind, LiveRecord

BTC = InstrumentId("BTCUSDT", "BINANCE")
ETH = InstrumentId("ETHUSDT", "BINANCE")
BTC_STREAMS = {"btcusdt@trade", "btcusdt@bookTicker", "btcusdt@depth@100ms"}
SEED = 20240501
BASE, CAP = 0.01, 0.08


class Recorder:
    """The feed's sink and gap callback, with waiting for what arrives instead of sleeping."""

    def __init__(self) -> None:
        self.records: list[LiveRecord] = []
        self.gaps: list[FeedGap] = []
        self.sleeps: list[float] = []
        self._changed = asyncio.Condition()

    async def sink(self, record: LiveRecord) -> None:
        self.records.append(record)
        await self._notify()

    async def on_gap(self, gap: FeedGap) -> None:
        self.gaps.append(gap)
        await self._notify()

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        await asyncio.sleep(delay)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    def of(self, kind: type[Any]) -> list[Any]:
        return [r for r in self.records if isinstance(r, kind)]

    def snapshots(self, instrument_id: InstrumentId = BTC) -> list[OrderBookDeltas]:
        return [
            r
            for r in self.of(OrderBookDeltas)
            if r.is_snapshot and r.instrument_id == instrument_id
        ]

    def gaps_of(self, kind: GapKind) -> list[FeedGap]:
        return [g for g in self.gaps if g.kind is kind]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance(["BTCUSDT", "ETHUSDT"]) as server:
        server.seed_book(
            "BTCUSDT",
            bids=[("100.00", "1.5"), ("99.50", "2")],
            asks=[("100.50", "1"), ("101.00", "3")],
            last_update_id=5000,
        )
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def feed(fake: FakeBinance, recorder: Recorder) -> AsyncIterator[BinanceFeed]:
    feed = make_feed(fake, recorder)
    await feed.start()
    await fake.wait_until(lambda: fake.subscriptions >= BTC_STREAMS)
    yield feed
    await feed.stop()


def make_feed(fake: FakeBinance, recorder: Recorder, **options: Any) -> BinanceFeed:
    settings: dict[str, Any] = {
        "sink": recorder.sink,
        "on_gap": recorder.on_gap,
        "ws_url": fake.ws_url,
        "rest_url": fake.rest_url,
        "backoff_base": BASE,
        "backoff_cap": CAP,
        "rng": random.Random(SEED),
        "sleep": recorder.sleep,
    }
    return BinanceFeed(["BTCUSDT"], **(settings | options))


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"foxtrot_market_data_binance_{name}_total", labels) or 0.0


def assert_same_book(ours: OrderBook | None, venue: OrderBook) -> None:
    assert ours is not None, "the feed has no book"
    assert (ours.sequence, ours.bids(), ours.asks()) == (venue.sequence, venue.bids(), venue.asks())


def subscribed_on_connection(fake: FakeBinance, number: int) -> Callable[[], bool]:
    return lambda: fake.connections_accepted == number and fake.subscriptions >= BTC_STREAMS


def book_sequence(feed: BinanceFeed) -> int | None:
    book = feed.book("BTCUSDT")
    return None if book is None else book.sequence


async def synced(fake: FakeBinance, recorder: Recorder, count: int = 1) -> None:
    """Send a diff so the feed takes a snapshot; wait until the ``count``-th is in."""
    await fake.send_depth("BTCUSDT", bids=[("99.75", "0.5")])
    await recorder.wait_until(lambda: len(recorder.snapshots()) >= count)


async def test_trades_quotes_and_book_flow_from_the_venue_to_the_sink(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    await fake.send_trade(
        "BTCUSDT", "100.25", "0.010", buyer_is_maker=True, ts_ms=1_700_000_000_123
    )
    await fake.send_book_ticker("BTCUSDT", "100.00", "1.5", "100.50", "1")
    first, final = await fake.send_depth("BTCUSDT", bids=[("100.00", "0"), ("99.75", "4")])
    await recorder.wait_until(lambda: len(recorder.snapshots()) == 1)
    await fake.send_depth("BTCUSDT", asks=[("100.25", "2")])
    await recorder.wait_until(lambda: book_sequence(feed) == final + 1)

    [trade] = recorder.of(TradeTick)
    assert (trade.instrument_id, trade.price, trade.size) == (
        BTC,
        Decimal("100.25"),
        Decimal("0.01"),
    )
    assert trade.aggressor_side is AggressorSide.SELLER
    assert (trade.trade_id, trade.ts_event) == ("1", 1_700_000_000_123_000_000)
    [quote] = recorder.of(QuoteTick)
    assert (quote.bid_price, quote.ask_price, quote.bid_size) == (
        Decimal(100),
        Decimal("100.5"),
        Decimal("1.5"),
    )
    books = recorder.of(OrderBookDeltas)
    # The REST snapshot already holds the first diff (the fake's book moved before the
    # request), so it is dropped; the second follows on from the snapshot.
    assert [(b.is_snapshot, b.sequence) for b in books] == [(True, final), (False, final + 1)]
    assert_same_book(feed.book("BTCUSDT"), fake.book("BTCUSDT"))
    assert first == 5001
    assert recorder.gaps == []


async def test_dropped_connection_reconnects_resubscribes_resnapshots_and_reports_the_outage(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    await synced(fake, recorder)
    await fake.send_trade("BTCUSDT", "100", "1")
    await recorder.wait_until(lambda: len(recorder.of(TradeTick)) == 1)
    reconnects = metric("reconnects", venue="BINANCE")

    await fake.drop_connections()
    await fake.wait_until(subscribed_on_connection(fake, 2))
    await recorder.wait_until(lambda: len(recorder.gaps) == 1)
    [outage] = recorder.gaps
    assert (outage.kind, outage.instrument_id) == (GapKind.DISCONNECT, BTC)
    assert outage.ts_start <= outage.ts_end
    assert "no close frame" in outage.detail
    assert recorder.sleeps == [Backoff(BASE, CAP, random.Random(SEED)).next_delay()]
    assert metric("reconnects", venue="BINANCE") == reconnects + 1
    subscribes = [m for m in fake.methods if m["method"] == "SUBSCRIBE"]
    assert [set(m["params"]) for m in subscribes] == [BTC_STREAMS, BTC_STREAMS]
    assert feed.book("BTCUSDT") is None  # dropped with the connection

    await fake.send_trade("BTCUSDT", "100", "2")
    await synced(fake, recorder, count=2)
    assert len(fake.depth_requests) == 2
    assert_same_book(feed.book("BTCUSDT"), fake.book("BTCUSDT"))
    await recorder.wait_until(lambda: len(recorder.of(TradeTick)) == 2)
    assert [t.trade_id for t in recorder.of(TradeTick)] == ["1", "2"]
    assert recorder.gaps_of(GapKind.TRADE) == []


async def test_venue_closing_the_connection_politely_is_an_outage_too(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    await fake.drop_connections(abrupt=False)
    await recorder.wait_until(lambda: len(recorder.gaps) == 1)
    assert recorder.gaps[0].kind is GapKind.DISCONNECT
    assert feed.connected


async def test_failing_reconnects_back_off_exponentially_with_seeded_full_jitter(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    fake.refuse_connections(4)
    await fake.drop_connections()
    await fake.wait_until(subscribed_on_connection(fake, 2))
    expected = Backoff(BASE, CAP, random.Random(SEED))
    assert recorder.sleeps == [expected.next_delay() for _ in range(5)]
    ceilings = [min(CAP, BASE * 2**n) for n in range(5)]
    assert all(d <= c for d, c in zip(recorder.sleeps, ceilings, strict=True))
    await recorder.wait_until(lambda: len(recorder.gaps) == 1)
    # One outage, from the first drop to the resubscription, however many attempts failed.
    assert "no close frame" in recorder.gaps[0].detail


async def test_a_connection_that_stayed_up_starts_the_backoff_again(
    fake: FakeBinance, recorder: Recorder
) -> None:
    feed = make_feed(fake, recorder, backoff_reset_after=0.0)
    async with feed:
        for connections in (1, 2, 3):
            await fake.wait_until(subscribed_on_connection(fake, connections))
            if connections < 3:
                await fake.drop_connections()
    # Every drop ended a connection that counts as stable: each delay is a first one.
    rng = random.Random(SEED)
    assert recorder.sleeps == [rng.uniform(0, BASE), rng.uniform(0, BASE)]


async def test_depth_update_ids_that_skip_are_a_gap_and_the_book_is_rebuilt(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    await synced(fake, recorder)
    await fake.send_depth("BTCUSDT", bids=[("99.50", "7")])
    lost_first, lost_final = await fake.send_depth(
        "BTCUSDT", bids=[("99.25", "1")], asks=[("100.50", "0")], deliver=False
    )
    await fake.send_depth("BTCUSDT", asks=[("101.50", "2")])
    await recorder.wait_until(lambda: len(recorder.snapshots()) == 2)
    await fake.send_withheld("BTCUSDT")  # the lost event turns up late: too old to apply
    last = await fake.send_depth("BTCUSDT", bids=[("98", "9")])
    await recorder.wait_until(lambda: recorder.of(OrderBookDeltas)[-1].sequence == last[1])

    [gap] = recorder.gaps
    assert (gap.kind, gap.instrument_id) == (GapKind.DEPTH, BTC)
    assert (gap.from_id, gap.to_id) == (lost_first, lost_final)
    assert_same_book(feed.book("BTCUSDT"), fake.book("BTCUSDT"))
    # What the sink got rebuilds the venue's book too: snapshot, deltas, snapshot, deltas.
    downstream = OrderBook(BTC)
    for record in recorder.of(OrderBookDeltas):
        downstream.apply(record)
    assert_same_book(downstream, fake.book("BTCUSDT"))
    assert metric("gaps", venue="BINANCE", symbol="BTCUSDT", kind="depth") >= 1


async def test_skipped_trade_ids_are_reported_as_a_trade_gap(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    await fake.send_trade("BTCUSDT", "100", "1", ts_ms=1_000)
    fake.skip_trade_ids("BTCUSDT", 3)
    await fake.send_trade("BTCUSDT", "101", "1", ts_ms=2_000)
    await fake.send_trade("BTCUSDT", "101", "1", trade_id=5, ts_ms=2_000)  # a repeat
    await fake.send_trade("BTCUSDT", "102", "1", ts_ms=3_000)
    await recorder.wait_until(lambda: len(recorder.of(TradeTick)) == 3)
    assert [t.trade_id for t in recorder.of(TradeTick)] == ["1", "5", "6"]
    [gap] = recorder.gaps
    assert (gap.kind, gap.from_id, gap.to_id) == (GapKind.TRADE, 2, 4)
    assert (gap.ts_start, gap.ts_end) == (1_000_000_000, 2_000_000_000)
    assert "3 trade ids" in gap.detail


@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limited_snapshot_requests_back_off_then_succeed(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder, status: int
) -> None:
    failures = metric("snapshot_failures", venue="BINANCE", reason="rate_limited")
    fake.fail_rest(2, status=status, retry_after=0.05)
    await synced(fake, recorder)
    assert len(fake.depth_requests) == 3
    # Each wait is Retry-After, as the backoff's first delays are shorter: never a spin.
    assert recorder.sleeps == [0.05, 0.05]
    assert metric("snapshot_failures", venue="BINANCE", reason="rate_limited") == failures + 2
    assert_same_book(feed.book("BTCUSDT"), fake.book("BTCUSDT"))


async def test_server_errors_on_the_snapshot_back_off_exponentially(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    fake.fail_rest(3, status=500, retry_after=None)
    await synced(fake, recorder)
    assert len(fake.depth_requests) == 4
    expected = Backoff(BASE, CAP, random.Random(SEED))
    assert recorder.sleeps == [expected.next_delay() for _ in range(3)]


async def test_malformed_events_are_counted_and_skipped_and_the_feed_goes_on(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    before = metric("malformed_events", venue="BINANCE", symbol="BTCUSDT")
    unknown = metric("malformed_events", venue="BINANCE", symbol="")
    await fake.send_raw("btcusdt@trade", {"e": "trade", "s": "BTCUSDT", "t": "x"})
    await fake.send_raw("btcusdt@bookTicker", {"s": "BTCUSDT", "u": 1, "b": 1})
    await fake.send_raw("btcusdt@trade", "{not json")
    await fake.send_trade("BTCUSDT", "100", "1")
    await recorder.wait_until(lambda: len(recorder.of(TradeTick)) == 1)
    assert metric("malformed_events", venue="BINANCE", symbol="BTCUSDT") == before + 2
    assert metric("malformed_events", venue="BINANCE", symbol="") == unknown + 1
    assert feed.connected
    assert fake.connections_accepted == 1


async def test_symbols_come_and_go_while_the_connection_stays_up(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    await feed.add_symbols(["ethusdt"])
    await fake.wait_until(lambda: "ethusdt@trade" in fake.subscriptions)
    await feed.remove_symbols(["BTCUSDT"])
    await fake.wait_until(lambda: not BTC_STREAMS & fake.subscriptions)
    assert feed.symbols == {"ETHUSDT"}
    await fake.send_trade("BTCUSDT", "100", "1")
    await fake.send_trade("ETHUSDT", "2000", "1")
    await recorder.wait_until(lambda: len(recorder.of(TradeTick)) == 1)
    assert recorder.of(TradeTick)[0].instrument_id == ETH
    assert fake.connections_accepted == 1
    await fake.drop_connections()  # and the reconnect subscribes the symbols of now
    await fake.wait_until(
        lambda: fake.connections_accepted == 2 and "ethusdt@trade" in fake.subscriptions
    )
    assert not BTC_STREAMS & fake.subscriptions


async def test_stop_closes_the_connection_even_while_a_snapshot_waits_out_a_ban(
    fake: FakeBinance, recorder: Recorder
) -> None:
    feed = make_feed(fake, recorder)
    await feed.start()
    await fake.wait_until(lambda: fake.subscriptions >= BTC_STREAMS)
    fake.fail_rest(1, status=418, retry_after=600)
    await fake.send_depth("BTCUSDT", bids=[("99", "1")])
    await fake.wait_until(lambda: len(fake.depth_requests) == 1)
    async with asyncio.timeout(3):
        await feed.stop()
    await fake.wait_until(lambda: fake.clients == 0)
    assert not feed.connected


# --- real recorded data through the fake venue ---------------------------------------------

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
TRADES = DATA / "trades" / "binance_spot_BTCUSDT_trades_2021-01-08.parquet"
QUOTES = DATA / "quotes" / "binance_spot_BTCUSDT_quotes_2021-01-08.parquet"
DEPTH_SNAP = DATA / "orderbook" / "binance_futures_BTCUSDT_depth_snap_2022-11-01.csv"
DEPTH_UPDATE = DATA / "orderbook" / "binance_futures_BTCUSDT_depth_update_2022-11-01.csv"


@pytest.mark.skipif(not TRADES.exists(), reason="shared/data is not beside the repo")
async def test_recorded_binance_data_comes_through_the_feed_unchanged(
    fake: FakeBinance, feed: BinanceFeed, recorder: Recorder
) -> None:
    from foxtrot.common.market_files.books import read_binance_depth
    from foxtrot.common.market_files.quotes import read_binance_quotes_parquet
    from foxtrot.common.market_files.trades import read_binance_trades_parquet
    from foxtrot.market_data.adapters.binance.fake import book_levels

    trades = list(read_binance_trades_parquet(TRADES, BTC))[:500]
    quotes = list(read_binance_quotes_parquet(QUOTES, BTC))[:200]
    [snapshot] = read_binance_depth(DEPTH_SNAP, BTC)
    [update] = read_binance_depth(DEPTH_UPDATE, BTC)
    fake.seed_book("BTCUSDT", *book_levels(snapshot), last_update_id=snapshot.sequence)
    for trade in trades:
        await fake.send_trade_tick(trade)
    for quote in quotes:
        await fake.send_quote_tick(quote)
    await fake.send_depth("BTCUSDT", *book_levels(update))
    await recorder.wait_until(
        lambda: len(recorder.snapshots()) == 1 and len(recorder.of(QuoteTick)) == len(quotes)
    )

    received = recorder.of(TradeTick)
    assert [(t.price, t.size, t.aggressor_side, t.trade_id, t.ts_event) for t in received] == [
        (t.price, t.size, t.aggressor_side, t.trade_id, t.ts_event) for t in trades
    ]
    assert [(q.bid_price, q.ask_price, q.bid_size, q.ask_size) for q in recorder.of(QuoteTick)] == [
        (q.bid_price, q.ask_price, q.bid_size, q.ask_size) for q in quotes
    ]
    assert_same_book(feed.book("BTCUSDT"), fake.book("BTCUSDT"))
    assert len(fake.book("BTCUSDT").asks()) > 0
    assert recorder.gaps == []


async def test_a_sink_that_raises_does_not_stop_the_feed(fake: FakeBinance) -> None:
    recorder = Recorder()
    failures = 0

    async def flaky_sink(record: LiveRecord) -> None:
        nonlocal failures
        if isinstance(record, TradeTick) and record.trade_id == "1":
            failures += 1
            raise RuntimeError("the sink broke")
        await recorder.sink(record)

    async with make_feed(fake, recorder, sink=flaky_sink) as feed:
        await fake.wait_until(lambda: fake.subscriptions >= BTC_STREAMS)
        await fake.send_trade("BTCUSDT", "100", "1")
        await fake.send_trade("BTCUSDT", "100", "2")
        await recorder.wait_until(lambda: len(recorder.of(TradeTick)) == 1)
        assert recorder.of(TradeTick)[0].trade_id == "2"
        assert (failures, feed.connected, recorder.gaps) == (1, True, [])
