"""A local fake of Binance spot's REST API and WebSocket API, for tests through real ccxt.

It serves what ccxt 4.5 and the adapter call, in Binance's formats: ``/api/v3/exchangeInfo``,
``/api/v3/order`` (POST, GET, DELETE), ``/api/v3/order/cancelReplace``,
``/api/v3/openOrders``, ``/api/v3/myTrades``, and ``/ws-api/v3`` with
``userDataStream.subscribe.signature``, whose subscribers get every executionReport. Signed
requests are checked (API key, HMAC-SHA256 signature); every answer carries
``X-MBX-USED-WEIGHT-1M`` and ``X-MBX-ORDER-COUNT-10S``.

Faults to inject: an HTTP 429 or 418 (with Retry-After) or 5xx on the next calls of an
endpoint; an answer held back past the client's timeout (the request is carried out all
the same, as at the real venue); dropped user data streams; refusing new streams for a
while. ``requests`` logs every call as ``"METHOD /path"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from foxtrot.execution.venues.binance.fake_account import BinanceRefusal, FakeAccount, Report
from foxtrot.execution.venues.binance.limits import ENDPOINT_COSTS

__all__ = ["FakeBinance"]

_WEIGHTS: Final = {
    "GET /api/v3/exchangeInfo": ENDPOINT_COSTS["exchangeInfo"],
    "POST /api/v3/order": ENDPOINT_COSTS["newOrder"],
    "DELETE /api/v3/order": ENDPOINT_COSTS["cancelOrder"],
    "GET /api/v3/order": ENDPOINT_COSTS["queryOrder"],
    "POST /api/v3/order/cancelReplace": ENDPOINT_COSTS["cancelReplace"],
    "GET /api/v3/openOrders": ENDPOINT_COSTS["openOrders"],
    "GET /api/v3/myTrades": ENDPOINT_COSTS["myTrades"],
    "GET /api/v3/account": ENDPOINT_COSTS["account"],
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class _Fault:
    status: int | None = None
    retry_after: int | None = None
    delay_s: float = 0.0


class FakeBinance:
    """A fake Binance spot venue on 127.0.0.1 and a free port."""

    def __init__(self, api_key: str = "fake-key", api_secret: str = "fake-secret") -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.account = FakeAccount()
        self.account.listeners.append(self._publish)
        self.requests: list[str] = []
        self.accept_user_streams = True
        self._faults: defaultdict[str, deque[_Fault]] = defaultdict(deque)
        self._streams: dict[web.WebSocketResponse, asyncio.Queue[str]] = {}
        self._subscriptions_of: dict[web.WebSocketResponse, int] = {}
        self._subscription_ids = itertools.count(0)
        self._weight: Counter[int] = Counter()
        self._orders_10s: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a free port; ``url`` is then the REST base."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/v3/ping", self._ping)
        app.router.add_get("/api/v3/time", self._time)
        app.router.add_get("/api/v3/exchangeInfo", self._exchange_info)
        app.router.add_route("*", "/api/v3/order", self._order)
        app.router.add_post("/api/v3/order/cancelReplace", self._cancel_replace)
        app.router.add_get("/api/v3/openOrders", self._open_orders)
        app.router.add_get("/api/v3/myTrades", self._my_trades)
        app.router.add_get("/api/v3/account", self._account)
        app.router.add_get("/ws-api/v3", self._ws_api)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Close every stream and stop listening."""
        await self.drop_user_streams()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- faults -------------------------------------------------------------------------

    def fail_next(
        self, endpoint: str, status: int, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls of ``endpoint`` ("POST /api/v3/order") with
        ``status`` (429 and 418 the way Binance words them)."""
        self._faults[endpoint].extend(_Fault(status, retry_after) for _ in range(times))

    def delay_next(self, endpoint: str, seconds: float, times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``endpoint`` but answer ``seconds`` late."""
        self._faults[endpoint].extend(_Fault(delay_s=seconds) for _ in range(times))

    async def drop_user_streams(self) -> None:
        """Close every user data stream connection, as a network failure would."""
        for ws in list(self._streams):
            await ws.close()
        self._streams.clear()

    def spend_weight(self, weight: int) -> None:
        """Count request weight used by someone else on this IP in the current minute."""
        self._weight[int(time.time() // 60)] += weight

    def count(self, endpoint: str) -> int:
        """How many calls of ``endpoint`` arrived."""
        return sum(1 for r in self.requests if r == endpoint)

    @property
    def user_streams(self) -> int:
        """Connections subscribed to the user data stream now."""
        return len(self._streams)

    # --- HTTP plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        endpoint = f"{request.method} {request.path}"
        self.requests.append(endpoint)
        if request.path.startswith("/ws-api/"):
            return await handler(request)
        fault = self._faults[endpoint].popleft() if self._faults[endpoint] else _Fault()
        if fault.status is not None:
            return self._fault_response(fault)
        try:
            if endpoint in _WEIGHTS and endpoint != "GET /api/v3/exchangeInfo":
                self._authenticate(request, await request.text())
            response = await handler(request)
        except BinanceRefusal as refusal:
            body: dict[str, Any] = {"code": refusal.code, "msg": refusal.msg}
            if hasattr(refusal, "data"):
                body["data"] = refusal.data
            response = web.json_response(body, status=refusal.status)
        self._count(endpoint, response)
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)  # done already; only the answer is late
        return response

    def _fault_response(self, fault: _Fault) -> web.Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
        if fault.status == 429:
            msg = (
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per "
                "minute. Please use WebSocket Streams for live updates to avoid polling the API."
            )
            body = {"code": -1003, "msg": msg}
        elif fault.status == 418:
            until = int(time.time() * 1000) + 1000 * (fault.retry_after or 60)
            msg = (
                f"Way too many requests; IP(127.0.0.1) banned until {until}. Please use "
                "WebSocket Streams for live updates to avoid bans."
            )
            body = {"code": -1003, "msg": msg}
        else:
            body = {"code": -1001, "msg": "Internal error; unable to process your request."}
        return web.json_response(body, status=fault.status or 500, headers=headers)

    def _count(self, endpoint: str, response: web.StreamResponse) -> None:
        cost = _WEIGHTS.get(endpoint)
        minute = int(time.time() // 60)
        now = time.monotonic()
        if cost is not None:
            self._weight[minute] += cost.weight
            self._orders_10s.extend([now] * cost.orders)
        while self._orders_10s and self._orders_10s[0] < now - 10:
            self._orders_10s.popleft()
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(self._weight[minute])
        response.headers["X-MBX-ORDER-COUNT-10S"] = str(len(self._orders_10s))

    def _authenticate(self, request: web.Request, body: str) -> None:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            raise BinanceRefusal(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        signed = body if request.method == "POST" else request.query_string
        payload, _, signature = signed.rpartition("&signature=")
        expected = hmac.new(self.api_secret.encode(), payload.encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), signature):
            raise BinanceRefusal(-1022, "Signature for this request is not valid.")

    @staticmethod
    async def _params(request: web.Request) -> dict[str, str]:
        if request.method == "POST":
            return dict(parse_qsl(await request.text()))
        return dict(request.query)

    # --- REST endpoints -----------------------------------------------------------------

    async def _ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": int(time.time() * 1000)})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.exchange_info())

    async def _order(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        if request.method == "POST":
            return web.json_response(self.account.new_order(params))
        if request.method == "DELETE":
            return web.json_response(self.account.cancel_order(params))
        if request.method == "GET":
            return web.json_response(self.account.query_order(params))
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST", "DELETE"])

    async def _cancel_replace(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.cancel_replace(await self._params(request)))

    async def _open_orders(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.open_orders(request.query.get("symbol")))

    async def _my_trades(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.my_trades(request.query))

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response(self.account.account_info())

    # --- WebSocket API --------------------------------------------------------------------

    async def _ws_api(self, request: web.Request) -> web.StreamResponse:
        if not self.accept_user_streams:
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        outbox: asyncio.Queue[str] = asyncio.Queue()
        writer = asyncio.create_task(self._write(ws, outbox))
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    break
                reply = self._ws_request(ws, outbox, json.loads(message.data))
                outbox.put_nowait(json.dumps(reply))
        finally:
            self._streams.pop(ws, None)
            self._subscriptions_of.pop(ws, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    def _ws_request(
        self, ws: web.WebSocketResponse, outbox: asyncio.Queue[str], request: Mapping[str, Any]
    ) -> dict[str, Any]:
        request_id = request.get("id")
        if request.get("method") != "userDataStream.subscribe.signature":
            error = {"code": -1100, "msg": f"Unknown method {request.get('method')!r}."}
            return {"id": request_id, "status": 400, "error": error}
        params = dict(request.get("params", {}))
        signature = str(params.pop("signature", ""))
        query = "&".join(f"{k}={params[k]}" for k in sorted(params))
        expected = hmac.new(self.api_secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        if params.get("apiKey") != self.api_key:
            error = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
            return {"id": request_id, "status": 401, "error": error}
        if not hmac.compare_digest(expected, signature):
            error = {"code": -1022, "msg": "Signature for this request is not valid."}
            return {"id": request_id, "status": 400, "error": error}
        subscription = next(self._subscription_ids)
        self._streams[ws] = outbox
        self._subscriptions_of[ws] = subscription
        return {"id": request_id, "status": 200, "result": {"subscriptionId": subscription}}

    async def _write(self, ws: web.WebSocketResponse, outbox: asyncio.Queue[str]) -> None:
        while True:
            text = await outbox.get()
            with contextlib.suppress(ConnectionError):
                await ws.send_str(text)

    def _publish(self, report: Report) -> None:
        for ws, outbox in list(self._streams.items()):
            subscription = self._subscriptions_of.get(ws, 0)
            event = {"subscriptionId": subscription, "event": report}
            outbox.put_nowait(json.dumps(event))
