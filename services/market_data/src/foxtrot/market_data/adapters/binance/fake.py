"""A local Binance for tests and demos: a real server on 127.0.0.1 speaking Binance's formats.

One port serves both protocols, as ``websockets`` lets a server answer plain HTTP requests
before the WebSocket handshake:

- WebSocket ``/stream?streams=a/b`` (combined: ``{"stream", "data"}``) and ``/ws`` (bare
  events), with the ``SUBSCRIBE``, ``UNSUBSCRIBE`` and ``LIST_SUBSCRIPTIONS`` methods;
- REST ``GET /api/v3/depth?symbol=&limit=`` (the fake's own book, best levels first) and
  ``GET /api/v3/exchangeInfo`` (``symbol=`` or ``symbols=["A","B"]``, else every symbol)
  with ``PRICE_FILTER``, ``LOT_SIZE`` and ``NOTIONAL`` (or the older ``MIN_NOTIONAL``).

Tests script it: ``send_trade``, ``send_book_ticker`` and ``send_depth`` publish events
(the fake keeps the book and numbers the update ids, as Binance does), ``skip_trade_ids``
and ``send_depth(..., deliver=False)`` then ``send_withheld`` make holes and late,
out-of-sequence events, ``drop_connections`` cuts every client, ``refuse_connections``
rejects handshakes, ``fail_rest`` answers 429 (or any status) a number of times.
``send_trade_tick``/``send_quote_tick`` and :func:`book_levels` take the domain records the
file readers make, so real recorded data can drive it. ``wait_until`` waits for a
condition on what clients did (connected, subscribed, requested) without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from foxtrot.core.book import OrderBook
from foxtrot.core.data import QuoteTick, TradeTick
from foxtrot.core.enums import AggressorSide
from foxtrot.market_data.adapters.binance.fake_market import (
    FakeMarket,
    FakeSymbol,
    Level,
    book_levels,
    exchange_info,
)

__all__ = ["FakeBinance", "FakeSymbol", "Level", "book_levels"]

_NS_PER_MS = 1_000_000
_DEPTH_SUFFIXES = ("@depth", "@depth@100ms", "@depth@1000ms")


@dataclass(eq=False)
class _Client:
    ws: ServerConnection
    combined: bool
    streams: set[str]


class FakeBinance:
    """A scriptable local Binance serving WebSocket streams and REST on one free port."""

    def __init__(
        self,
        symbols: Iterable[FakeSymbol | str] = ("BTCUSDT",),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        first_update_id: int = 1000,
        venue: str = "BINANCE",
    ) -> None:
        self.host, self.port = host, port
        self._markets: dict[str, FakeMarket] = {}
        for item in symbols:
            rules = item if isinstance(item, FakeSymbol) else FakeSymbol.of(item)
            self._markets[rules.symbol] = FakeMarket.open(rules, venue, first_update_id)
        self._server: Server | None = None
        self._clients: set[_Client] = set()
        self._changed = asyncio.Condition()
        self._rest_failures: list[tuple[int, float | None]] = []
        self._refusals = 0
        self.connections_accepted = 0
        self.depth_requests: list[str] = []
        self.methods: list[dict[str, Any]] = []

    @property
    def ws_url(self) -> str:
        """The base URL a feed's ``ws_url`` takes (``ws://127.0.0.1:<port>``)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        """The base URL a feed's ``rest_url`` takes (``http://127.0.0.1:<port>``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def subscriptions(self) -> frozenset[str]:
        """Every stream some connected client subscribes to."""
        return frozenset(s for client in self._clients for s in client.streams)

    @property
    def clients(self) -> int:
        """How many WebSocket clients are connected."""
        return len(self._clients)

    def book(self, symbol: str) -> OrderBook:
        """The fake venue's own book of a symbol."""
        return self._markets[symbol].book

    async def start(self) -> None:
        """Listen on the host and port (a free port when 0)."""
        self._server = await serve(
            self._serve_stream, self.host, self.port, process_request=self._http, compression=None
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            for client in list(self._clients):
                client.ws.transport.abort()
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeBinance:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Return once ``condition()`` holds; it is checked whenever a client does something."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    # --- scripting --------------------------------------------------------------------------

    def seed_book(
        self, symbol: str, bids: Sequence[Level], asks: Sequence[Level], last_update_id: int
    ) -> None:
        """Replace a symbol's book, as of ``last_update_id``; nothing is sent."""
        self._markets[symbol].seed(bids, asks, last_update_id)

    async def send_depth(
        self,
        symbol: str,
        bids: Sequence[Level] = (),
        asks: Sequence[Level] = (),
        *,
        deliver: bool = True,
        skip_ids: int = 0,
    ) -> tuple[int, int]:
        """Change levels (size 0 deletes) as one diff event with the next update ids.

        The event takes one update id per level changed, ``U..u``, after ``skip_ids``
        unused ids; ``deliver=False`` changes the book but keeps the event back (a hole
        in the stream) until :meth:`send_withheld`. Returns ``(U, u)``.
        """
        market = self._markets[symbol]
        event = market.depth_event(bids, asks, skip_ids, _now_ms())
        if deliver:
            await self._publish(symbol, _DEPTH_SUFFIXES, event)
        else:
            market.withheld.append(event)
        return event["U"], event["u"]

    async def send_withheld(self, symbol: str) -> None:
        """Send the depth events kept back by ``deliver=False``, late and out of order."""
        market = self._markets[symbol]
        events, market.withheld = market.withheld, []
        for event in events:
            await self._publish(symbol, _DEPTH_SUFFIXES, event)

    async def send_trade(
        self,
        symbol: str,
        price: Decimal | str,
        quantity: Decimal | str,
        *,
        buyer_is_maker: bool = False,
        trade_id: int | None = None,
        ts_ms: int | None = None,
    ) -> int:
        """Publish a trade; ids count on from the last one unless given. Returns the id."""
        ts = _now_ms() if ts_ms is None else ts_ms
        event = self._markets[symbol].trade_event(price, quantity, buyer_is_maker, trade_id, ts)
        await self._publish(symbol, ("@trade",), event)
        return int(event["t"])

    def skip_trade_ids(self, symbol: str, count: int) -> None:
        """Let ``count`` trade ids go by unpublished, as if the stream lost them."""
        self._markets[symbol].next_trade_id += count

    async def send_trade_tick(self, trade: TradeTick) -> int:
        """Publish a domain trade (from a file reader, say) under its own id and time."""
        return await self.send_trade(
            trade.instrument_id.symbol,
            trade.price,
            trade.size,
            buyer_is_maker=trade.aggressor_side is AggressorSide.SELLER,
            trade_id=int(trade.trade_id),
            ts_ms=trade.ts_event // _NS_PER_MS,
        )

    async def send_book_ticker(
        self,
        symbol: str,
        bid: Decimal | str,
        bid_qty: Decimal | str,
        ask: Decimal | str,
        ask_qty: Decimal | str,
    ) -> None:
        """Publish a best bid/ask (spot's bookTicker carries no time)."""
        event = self._markets[symbol].book_ticker_event(bid, bid_qty, ask, ask_qty)
        await self._publish(symbol, ("@bookTicker",), event)

    async def send_quote_tick(self, quote: QuoteTick) -> None:
        """Publish a domain quote as a bookTicker."""
        await self.send_book_ticker(
            quote.instrument_id.symbol,
            quote.bid_price,
            quote.bid_size,
            quote.ask_price,
            quote.ask_size,
        )

    async def send_raw(self, stream: str, data: Any) -> None:
        """Publish anything on a stream, as is (a str is sent as the whole frame)."""
        for client in list(self._clients):
            if stream in client.streams:
                text = data if isinstance(data, str) else _frame(client, stream, data)
                with contextlib.suppress(ConnectionClosed):
                    await client.ws.send(text)

    async def drop_connections(self, *, abrupt: bool = True) -> None:
        """Cut every client: abruptly (no close frame, as a network failure) or politely."""
        for client in list(self._clients):
            if abrupt:
                client.ws.transport.abort()
            else:
                await client.ws.close(1001, "going away")

    def refuse_connections(self, count: int) -> None:
        """Answer the next ``count`` WebSocket handshakes with 503."""
        self._refusals += count

    def fail_rest(self, count: int = 1, status: int = 429, retry_after: float | None = 0) -> None:
        """Answer the next ``count`` depth requests with ``status`` (and Retry-After)."""
        self._rest_failures += [(status, retry_after)] * count

    # --- the server -------------------------------------------------------------------------

    async def _publish(self, symbol: str, suffixes: Sequence[str], data: dict[str, Any]) -> None:
        names = [symbol.lower() + suffix for suffix in suffixes]
        for client in list(self._clients):
            for stream in names:
                if stream in client.streams:
                    with contextlib.suppress(ConnectionClosed):
                        await client.ws.send(_frame(client, stream, data))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve_stream(self, ws: ServerConnection) -> None:
        assert ws.request is not None  # the handshake is done
        url = urlsplit(ws.request.path)
        combined = url.path == "/stream"
        named = parse_qs(url.query).get("streams", [""])[0] if combined else url.path[4:]
        client = _Client(ws, combined, {s for s in named.split("/") if s})
        self._clients.add(client)
        self.connections_accepted += 1
        await self._notify()
        try:
            async for raw in ws:
                await ws.send(json.dumps(self._method(client, raw)))
                await self._notify()
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            await self._notify()

    def _method(self, client: _Client, raw: str | bytes) -> dict[str, Any]:
        try:
            request = json.loads(raw)
        except ValueError:
            return {"error": {"code": 3, "msg": "Invalid JSON"}, "id": None}
        if not isinstance(request, dict):
            return {"error": {"code": 2, "msg": "Invalid request"}, "id": None}
        self.methods.append(request)
        method, params, rid = request.get("method"), request.get("params", []), request.get("id")
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return {
                "error": {"code": 1, "msg": "Invalid value type: expected Array of String"},
                "id": rid,
            }
        if method == "SUBSCRIBE":
            client.streams.update(params)
            return {"result": None, "id": rid}
        if method == "UNSUBSCRIBE":
            client.streams.difference_update(params)
            return {"result": None, "id": rid}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(client.streams), "id": rid}
        return {
            "error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"},
            "id": rid,
        }

    async def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if url.path not in ("/stream", "/ws") and not url.path.startswith("/ws/"):
                return _json(connection, 404, {"code": -1, "msg": f"no stream at {url.path}"})
            if self._refusals > 0:
                self._refusals -= 1
                return _json(connection, 503, {"code": -1, "msg": "Service unavailable"})
            return None
        if url.path == "/api/v3/depth":
            response = self._depth(connection, query)
        elif url.path == "/api/v3/exchangeInfo":
            response = self._exchange_info(connection, query)
        elif url.path == "/api/v3/ping":
            response = _json(connection, 200, {})
        else:
            response = _json(connection, 404, {"code": -1, "msg": f"no endpoint {url.path}"})
        await self._notify()
        return response

    def _depth(self, connection: ServerConnection, query: dict[str, str]) -> Response:
        symbol = query.get("symbol", "")
        self.depth_requests.append(symbol)
        if self._rest_failures:
            status, retry_after = self._rest_failures.pop(0)
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            body = {"code": -1003, "msg": "Too many requests; IP banned until later."}
            return _json(connection, status, body, headers)
        market = self._markets.get(symbol)
        if market is None:
            return _json(connection, 400, {"code": -1121, "msg": "Invalid symbol."})
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 5000:
            return _json(connection, 400, {"code": -1100, "msg": "Illegal characters in 'limit'."})
        return _json(connection, 200, market.depth_snapshot(limit))

    def _exchange_info(self, connection: ServerConnection, query: dict[str, str]) -> Response:
        if "symbol" in query:
            wanted: list[str] = [query["symbol"]]
        elif "symbols" in query:
            try:
                wanted = [str(s) for s in json.loads(query["symbols"])]
            except (ValueError, TypeError):
                return _json(connection, 400, {"code": -1100, "msg": "Illegal 'symbols'."})
        else:
            wanted = list(self._markets)
        if any(symbol not in self._markets for symbol in wanted):
            return _json(connection, 400, {"code": -1121, "msg": "Invalid symbol."})
        body = exchange_info([self._markets[s].rules for s in wanted], _now_ms())
        return _json(connection, 200, body)


def _frame(client: _Client, stream: str, data: Any) -> str:
    return json.dumps({"stream": stream, "data": data} if client.combined else data)


def _json(
    connection: ServerConnection, status: int, body: Any, headers: dict[str, str] | None = None
) -> Response:
    response = connection.respond(status, json.dumps(body))
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json;charset=UTF-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _now_ms() -> int:
    return time.time_ns() // _NS_PER_MS
