"""The outbox's publishing side.

Events committed to the log go out in log order at once, and the stream's acknowledgements
are awaited in the background, so the next batch of orders need not wait for them: the
commit, not the publish, is what makes an event safe. How far the log has been published
without a gap is the cursor the next transaction saves; at start (and after a publish
failed) everything after it is published again, and JetStream drops what it already holds
by message id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from foxtrot.common.publishing import Outgoing
from foxtrot.execution.adapters.ledger import OutboxEntry

__all__ = ["Outbox", "Send"]

log = logging.getLogger(__name__)

# Awaiting it writes the messages in order; awaiting what it returns waits for the stream to
# store them all (PipelinedPublisher.send).
Send = Callable[[Sequence[Outgoing]], Awaitable[Awaitable[None]]]


class Outbox:
    """Sends committed events in log order and follows their acknowledgements."""

    def __init__(self, send: Send, ack_timeout_s: float = 10.0) -> None:
        self.send = send
        self.ack_timeout_s = ack_timeout_s
        self.through = 0  # every event up to this sequence number is stored by the stream
        self.saved = 0  # the cursor as the database last recorded it
        self.failed = False  # a publish failed: what follows the cursor must go out again
        self._unacked: dict[int, None] = {}  # sent and not yet acknowledged, in log order
        self._sent_through = 0
        self._confirming: set[asyncio.Task[None]] = set()

    @property
    def moved(self) -> bool:
        """Whether the cursor went past what the database knows."""
        return self.through > self.saved

    def restart(self, cursor: int) -> None:
        """Start over from the cursor the database holds; nothing is in flight."""
        self.through = self.saved = self._sent_through = cursor
        self._unacked.clear()
        self.failed = False

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        """Send events (in log order, after those sent before) now; their acknowledgements
        are awaited in the background. A failure is logged and leaves ``failed`` set."""
        if not entries:
            return
        for seq, *_ in entries:
            self._unacked[seq] = None
        self._sent_through = entries[-1][0]
        try:
            ack = await self.send([(subject, data, mid) for _, subject, mid, data in entries])
        except Exception:
            log.exception("publishing %d events failed; the outbox will retry", len(entries))
            self.failed = True
            return
        confirm = self._confirm([seq for seq, *_ in entries], ack)
        task = asyncio.create_task(confirm, name="execution.outbox.confirm")
        self._confirming.add(task)
        task.add_done_callback(self._confirming.discard)

    async def settle(self) -> None:
        """Wait until every acknowledgement in flight has come or failed."""
        while self._confirming:
            await asyncio.gather(*self._confirming)

    async def _confirm(self, seqs: list[int], ack: Awaitable[None]) -> None:
        try:
            async with asyncio.timeout(self.ack_timeout_s):
                await ack
        except Exception:
            log.exception("%d events were not acknowledged; the outbox will retry", len(seqs))
            self.failed = True
            return
        for seq in seqs:
            self._unacked.pop(seq, None)
        self.through = next(iter(self._unacked), self._sent_through + 1) - 1
