"""The account's user data stream, through Binance's WebSocket API.

Binance spot retired listen keys for the WebSocket API's ``userDataStream.subscribe.signature``
(what ccxt.pro uses too): a signed request on a ``/ws-api/v3`` connection, answered with a
subscription id, after which events arrive as ``{"subscriptionId": n, "event": {...}}``.

This client is written directly on aiohttp rather than on ccxt.pro because the adapter
needs every executionReport in order (ccxt.pro keeps a cache keyed by order id, where two
reports of one order between two reads become one) and needs to know the moment the
stream comes back after a drop, to reconcile what happened while it was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from foxtrot.execution.venues.binance.resilience import RetryPolicy

__all__ = ["UserDataStream", "sign_params"]

_log = logging.getLogger(__name__)

EventHandler = Callable[[Mapping[str, Any]], None]
ReconnectHandler = Callable[[], Awaitable[None]]


def sign_params(params: Mapping[str, Any], secret: str) -> dict[str, Any]:
    """``params`` with Binance's HMAC-SHA256 ``signature`` of their sorted query string."""
    query = "&".join(f"{k}={params[k]}" for k in sorted(params))
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return {**params, "signature": signature}


class UserDataStream:
    """Keeps one subscribed user data stream open, reconnecting with backoff."""

    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        on_event: EventHandler,
        on_reconnect: ReconnectHandler,
        retry: RetryPolicy | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self._api_key = api_key
        self._api_secret = api_secret
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self._retry = retry or RetryPolicy(max_attempts=1_000_000, max_delay_s=10.0)
        self._connect_timeout_s = connect_timeout_s
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connections = 0

    async def start(self) -> None:
        """Connect and subscribe; raises when the first connection fails."""
        self._session = aiohttp.ClientSession()
        ws = await self._subscribe()
        self._task = asyncio.create_task(self._run(ws), name="binance-user-data-stream")

    async def stop(self) -> None:
        """Close the stream for good."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.connected.clear()

    async def _subscribe(self) -> aiohttp.ClientWebSocketResponse:
        assert self._session is not None
        ws = await self._session.ws_connect(
            self.url, heartbeat=20.0, timeout=aiohttp.ClientWSTimeout(ws_close=5.0)
        )
        try:
            request_id = str(next(self._ids))
            params = sign_params(
                {"apiKey": self._api_key, "timestamp": int(time.time() * 1000)}, self._api_secret
            )
            await ws.send_json(
                {"id": request_id, "method": "userDataStream.subscribe.signature", "params": params}
            )
            async with asyncio.timeout(self._connect_timeout_s):
                while True:
                    message = await ws.receive()
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        raise ConnectionError(f"stream closed while subscribing: {message}")
                    reply = json.loads(message.data)
                    if "event" in reply:
                        self._dispatch(reply)
                    elif str(reply.get("id")) == request_id:
                        break
            if reply.get("status") != 200:
                error = reply.get("error", {})
                raise ConnectionError(
                    f"user data stream subscribe refused: {error.get('code')} {error.get('msg')}"
                )
        except BaseException:
            await ws.close()
            raise
        self.connections += 1
        self.connected.set()
        return ws

    async def _run(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            await self._read(ws)
            self.connected.clear()
            ws = await self._reconnect()
            try:
                await self._on_reconnect()
            except Exception:
                _log.exception("reconciliation after the user data stream came back failed")

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                payload = json.loads(message.data)
                if payload.get("event", {}).get("e") == "eventStreamTerminated":
                    break  # the venue ended the subscription: subscribe again
                self._dispatch(payload)
        except (aiohttp.ClientError, ConnectionError, ValueError) as exc:
            _log.warning("user data stream failed: %s", exc)
        finally:
            await ws.close()
        _log.warning("user data stream dropped; reconnecting")

    async def _reconnect(self) -> aiohttp.ClientWebSocketResponse:
        for attempt in itertools.count():
            await asyncio.sleep(self._retry.delay(min(attempt, 16)))
            try:
                return await self._subscribe()
            except (aiohttp.ClientError, ConnectionError, TimeoutError, OSError) as exc:
                _log.warning("user data stream reconnect %d failed: %s", attempt + 1, exc)
        raise AssertionError("unreachable")

    def _dispatch(self, payload: Mapping[str, Any]) -> None:
        event = payload.get("event")
        if isinstance(event, Mapping):
            try:
                self._on_event(event)
            except Exception:
                _log.exception("user data stream event not handled: %s", event)
