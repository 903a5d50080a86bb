"""SUBSCRIBE and UNSUBSCRIBE on one connection: numbered, chunked, paced, answered.

Binance answers each method message with ``{"result": null, "id": N}``, or an error with
the same id. It closes a connection that sends more than 5 messages a second and takes at
most 1024 streams on one, so requests go out at most 4 a second with up to 200 streams
each, and a refusal is logged with what was asked for.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

from websockets.asyncio.client import ClientConnection

from foxtrot.market_data.adapters.binance.messages import MethodReply

__all__ = ["MAX_STREAMS", "StreamMethods"]

MAX_STREAMS = 1024  # Binance's limit per connection
_PARAMS_PER_MESSAGE = 200
_SPACING = 0.25  # seconds between messages: Binance allows 5 a second

log = logging.getLogger(__name__)


class StreamMethods:
    """Sends subscription requests on one connection and matches the answers."""

    def __init__(self, ws: ClientConnection, venue: str) -> None:
        self._ws = ws
        self._venue = venue
        self._next_id = 0
        self._pending: dict[int, str] = {}
        self._last_sent = float("-inf")

    async def subscribe(self, streams: Sequence[str]) -> None:
        """Ask for ``streams``; raises ConnectionClosed if the connection is gone."""
        await self._send("SUBSCRIBE", streams)

    async def unsubscribe(self, streams: Sequence[str]) -> None:
        """Stop ``streams``; raises ConnectionClosed if the connection is gone."""
        await self._send("UNSUBSCRIBE", streams)

    def answered(self, reply: MethodReply) -> None:
        """Match an answer to its request; a refusal is logged as an error."""
        request = self._pending.pop(reply.request_id or 0, "a request")
        if reply.error is not None:
            log.error("binance %s: %s refused: %s", self._venue, request, reply.error)

    async def _send(self, method: str, streams: Sequence[str]) -> None:
        loop = asyncio.get_running_loop()
        for start in range(0, len(streams), _PARAMS_PER_MESSAGE):
            chunk = list(streams[start : start + _PARAMS_PER_MESSAGE])
            wait = self._last_sent + _SPACING - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_id += 1
            self._pending[self._next_id] = f"{method} of {len(chunk)} streams"
            self._last_sent = loop.time()
            await self._ws.send(
                json.dumps({"method": method, "params": chunk, "id": self._next_id})
            )
