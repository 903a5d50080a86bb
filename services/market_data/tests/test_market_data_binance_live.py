"""market_data as a process, streaming a (fake) Binance live: the symbol's rules come from
exchangeInfo and are published, kept and served; trades, quotes and the book come out on
their md.v1 subjects, bars are built from the trades, a trade off the tick size is
dead-lettered, and a dropped connection is published as a data quality issue."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg

from foxtrot.common.local.platform import LocalPlatform
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.market_data.adapters.binance.fake import FakeBinance

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
async def binance() -> AsyncIterator[FakeBinance]:
    async with FakeBinance(("BTCUSDT",)) as fake:
        fake.seed_book(
            "BTCUSDT",
            bids=[("43000.00", "1.5"), ("42999.50", "2")],
            asks=[("43000.50", "0.7"), ("43001.00", "3")],
            last_update_id=1000,
        )
        yield fake


async def test_a_live_binance_symbol_flows_through_market_data(
    binance: FakeBinance,
    platform_factory: Callable[..., LocalPlatform],
    infrastructure: Infrastructure,
) -> None:
    platform = platform_factory(
        replay_source="",
        service_env={
            "market_data": {
                "FOXTROT_BINANCE_SYMBOLS": "BTCUSDT",
                "FOXTROT_BINANCE_WS_URL": binance.ws_url,
                "FOXTROT_BINANCE_REST_URL": binance.rest_url,
                "FOXTROT_BAR_SPECS": "2t",
                "FOXTROT_TICK_SUBJECTS": "*.BINANCE",
            }
        },
    )
    platform.start_infrastructure()
    platform.migrate()
    platform.start_service("market_data")
    await asyncio.to_thread(platform.wait_ready, 60.0, ("market_data",))

    client = await nats.connect(infrastructure.nats_url)
    seen: dict[str, list[dict[str, Any]]] = defaultdict(list)

    changed = asyncio.Event()

    async def on_message(msg: Msg) -> None:
        kind, message = msg.subject.split(".")[2], json.loads(msg.data)
        if kind == "trades":  # a batch: every trade, beside the per-tick subject asked for
            seen["batched"] += message["trades"]
        else:
            seen[kind].append(message)
        changed.set()

    async def arrived(kind: str, count: int, timeout: float = 20) -> None:
        async def wait() -> None:
            while len(seen[kind]) < count:
                changed.clear()
                await changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            counts = {k: len(v) for k, v in seen.items()}
            raise AssertionError(f"expected {count} {kind}, have {counts}") from None

    try:
        await client.subscribe("md.v1.*.BINANCE.BTCUSDT", cb=on_message)
        await client.subscribe("md.v1.bar.BINANCE.BTCUSDT.*", cb=on_message)
        dead = await client.subscribe("dlq.v1.market_data")
        await client.flush()
        # The replica that owns BTCUSDT's partition subscribes it.
        await binance.wait_until(lambda: "btcusdt@trade" in binance.subscriptions, 30)

        first = await binance.send_trade("BTCUSDT", "43000.50", "0.010", buyer_is_maker=False)
        await binance.send_trade("BTCUSDT", "43000.00", "0.020", buyer_is_maker=True)
        await binance.send_book_ticker("BTCUSDT", "43000.00", "1.5", "43000.50", "0.7")
        # The first diff makes the feed fetch a snapshot (which already holds that diff);
        # the next diff follows on from it.
        await binance.send_depth("BTCUSDT", bids=[("43000.00", "0")])
        await arrived("book", 1, 20)
        await binance.send_depth("BTCUSDT", asks=[("43000.25", "1")])

        await arrived("trade", 2, 20)
        await arrived("batched", 2, 20)
        await arrived("quote", 1, 20)
        await arrived("bar", 1, 20)
        await arrived("book", 2, 20)  # the snapshot, then the diff

        trades = seen["trade"]
        assert [t["trade_id"] for t in trades] == [str(first), str(first + 1)]
        assert [t["aggressor_side"] for t in trades] == ["BUYER", "SELLER"]
        assert trades[0]["price"] == "43000.50"
        assert [t["trade_id"] for t in seen["batched"]] == [t["trade_id"] for t in trades]
        quote = seen["quote"][0]
        assert (quote["bid_price"], quote["ask_price"]) == ("43000.00", "43000.50")
        (bar,) = seen["bar"]
        assert (bar["open"], bar["close"], bar["trade_count"]) == ("43000.50", "43000.00", 2)
        snapshot, delta = seen["book"][:2]
        assert snapshot["is_snapshot"] is True
        assert delta["is_snapshot"] is False

        # The rules came from exchangeInfo: announced, served, and enforced.
        reply = await client.request(
            "qry.v1.md.instruments", b'{"instrument_id": "BTCUSDT.BINANCE"}', timeout=10
        )
        (rules,) = json.loads(reply.data)["instruments"]
        assert (rules["tick_size"], rules["lot_size"]) == ("0.01", "0.00001")
        announced = await client.jetstream().get_last_msg(
            "FOXTROT_MARKET_DATA", "md.v1.instrument.BINANCE.BTCUSDT"
        )
        assert json.loads(announced.data or b"{}")["tick_size"] == "0.01"
        await binance.send_trade("BTCUSDT", "43000.005", "0.010")  # half a tick
        letter = await dead.next_msg(timeout=20)
        assert "tick size 0.01" in (letter.headers or {})["Foxtrot-Dead-Letter-Reason"]
        assert len(seen["trade"]) == 2

        # A dropped connection: the feed reconnects, resubscribes and reports the gap.
        connections = binance.connections_accepted
        await binance.drop_connections()
        await binance.wait_until(lambda: binance.connections_accepted > connections, 30)
        await arrived("quality", 1, 30)
        assert any("disconnect" in issue["detail"] for issue in seen["quality"])
        await binance.wait_until(lambda: "btcusdt@trade" in binance.subscriptions, 30)
        await binance.send_trade("BTCUSDT", "43001.00", "0.5")
        await arrived("trade", 3, 20)
    finally:
        await client.close()
