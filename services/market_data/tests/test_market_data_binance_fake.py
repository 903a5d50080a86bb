"""FakeBinance speaks Binance's formats: REST answers have Binance's shapes and status codes,
the WebSocket side takes method messages and wraps events as the combined stream does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from websockets.asyncio.client import connect

from foxtrot.market_data.adapters.binance.fake import FakeBinance, FakeSymbol


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    eth = FakeSymbol(
        "ETHBTC",
        "ETH",
        "BTC",
        tick_size=Decimal("0.000001"),
        step_size=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        max_qty=Decimal("100000"),
        min_notional=Decimal("0.0001"),
        notional_filter="MIN_NOTIONAL",
    )
    async with FakeBinance(["BTCUSDT", eth]) as server:
        yield server


async def get(fake: FakeBinance, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=fake.rest_url) as client:
        return await client.get(path, params=params)


async def test_exchange_info_lists_each_symbols_price_lot_and_notional_filters(
    fake: FakeBinance,
) -> None:
    response = await get(fake, "/api/v3/exchangeInfo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert {"timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"} <= body.keys()
    btc, eth = body["symbols"]
    assert (btc["symbol"], btc["status"], btc["baseAsset"], btc["quoteAsset"]) == (
        "BTCUSDT",
        "TRADING",
        "BTC",
        "USDT",
    )
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"] == {
        "filterType": "LOT_SIZE",
        "minQty": "0.00001000",
        "maxQty": "9000.00000000",
        "stepSize": "0.00001000",
    }
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    eth_filters = {f["filterType"]: f for f in eth["filters"]}
    assert eth_filters["MIN_NOTIONAL"] == {
        "filterType": "MIN_NOTIONAL",
        "minNotional": "0.00010000",
        "applyToMarket": True,
        "avgPriceMins": 5,
    }
    assert eth_filters["PRICE_FILTER"]["tickSize"] == "0.00000100"


async def test_exchange_info_answers_for_one_or_several_symbols_and_refuses_unknown_ones(
    fake: FakeBinance,
) -> None:
    one = (await get(fake, "/api/v3/exchangeInfo", symbol="ETHBTC")).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHBTC"]
    several = await get(fake, "/api/v3/exchangeInfo", symbols='["ETHBTC","BTCUSDT"]')
    assert [s["symbol"] for s in several.json()["symbols"]] == ["ETHBTC", "BTCUSDT"]
    unknown = await get(fake, "/api/v3/exchangeInfo", symbol="DOGEUSDT")
    assert (unknown.status_code, unknown.json()["code"]) == (400, -1121)


async def test_depth_snapshot_is_the_fake_book_best_levels_first_at_its_update_id(
    fake: FakeBinance,
) -> None:
    fake.seed_book("BTCUSDT", [("99", "1"), ("100", "2")], [("102", "3"), ("101", "4")], 77)
    await fake.send_depth("BTCUSDT", bids=[("99", "0")], asks=[("103", "1")])
    body = (await get(fake, "/api/v3/depth", symbol="BTCUSDT", limit="2")).json()
    assert body == {
        "lastUpdateId": 79,
        "bids": [["100", "2"]],
        "asks": [["101", "4"], ["102", "3"]],
    }
    assert fake.depth_requests == ["BTCUSDT"]


async def test_rest_failures_come_with_retry_after_then_stop(fake: FakeBinance) -> None:
    fake.fail_rest(2, status=429, retry_after=3)
    first = await get(fake, "/api/v3/depth", symbol="BTCUSDT")
    assert (first.status_code, first.headers["retry-after"], first.json()["code"]) == (
        429,
        "3",
        -1003,
    )
    assert (await get(fake, "/api/v3/depth", symbol="BTCUSDT")).status_code == 429
    assert (await get(fake, "/api/v3/depth", symbol="BTCUSDT")).status_code == 200
    assert (await get(fake, "/api/v3/depth", symbol="NOPE")).status_code == 400
    assert (await get(fake, "/api/v3/depth", symbol="BTCUSDT", limit="0")).status_code == 400
    assert (await get(fake, "/api/v3/nothing")).status_code == 404


async def test_websocket_methods_are_answered_and_events_wrapped_per_stream(
    fake: FakeBinance,
) -> None:
    async with connect(f"{fake.ws_url}/stream?streams=btcusdt@trade") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth"], "id": 1}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 1}
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
        assert json.loads(await ws.recv()) == {
            "result": ["btcusdt@depth", "btcusdt@trade"],
            "id": 2,
        }
        await ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 3}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 3}
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": "btcusdt@trade", "id": 4}))
        assert json.loads(await ws.recv())["error"]["code"] == 1
        await ws.send("{oops")
        assert json.loads(await ws.recv())["error"]["code"] == 3

        await fake.send_trade("BTCUSDT", "1", "1")  # unsubscribed: not sent
        first, final = await fake.send_depth("BTCUSDT", bids=[("1", "2")])
        frame = json.loads(await ws.recv())
        assert frame["stream"] == "btcusdt@depth"
        assert (frame["data"]["U"], frame["data"]["u"], frame["data"]["b"]) == (
            first,
            final,
            [["1", "2"]],
        )


async def test_raw_stream_endpoint_sends_bare_events(fake: FakeBinance) -> None:
    async with connect(f"{fake.ws_url}/ws/btcusdt@bookTicker") as ws:
        await fake.wait_until(lambda: "btcusdt@bookTicker" in fake.subscriptions)
        await fake.send_book_ticker("BTCUSDT", "1", "2", "3", "4")
        event = json.loads(await ws.recv())
        assert (event["s"], event["b"], event["B"], event["a"], event["A"]) == (
            "BTCUSDT",
            "1",
            "2",
            "3",
            "4",
        )
        assert "E" not in event  # spot bookTicker has no event time


async def test_trade_ids_count_on_and_skips_leave_holes(fake: FakeBinance) -> None:
    async with connect(f"{fake.ws_url}/stream?streams=btcusdt@trade") as ws:
        await fake.wait_until(lambda: fake.clients == 1)
        assert await fake.send_trade("BTCUSDT", "1", "1") == 1
        fake.skip_trade_ids("BTCUSDT", 5)
        assert await fake.send_trade("BTCUSDT", "1", "1", buyer_is_maker=True) == 7
        ids = [json.loads(await ws.recv())["data"]["t"] for _ in range(2)]
        assert ids == [1, 7]
