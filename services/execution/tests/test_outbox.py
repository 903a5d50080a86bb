"""The outbox's cursor: it moves only over events the stream acknowledged, with no gap, and
a failed publish holds it back until the events after it are published again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from foxtrot.common.publishing import Outgoing
from foxtrot.execution.adapters.ledger import OutboxEntry
from foxtrot.execution.outbox import Outbox


class FakeStream:
    """Records what is sent; each send's acknowledgement is settled by the test."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.acks: list[asyncio.Future[None]] = []
        self.refuse = False

    async def send(self, messages: Sequence[Outgoing]) -> asyncio.Future[None]:
        if self.refuse:
            raise ConnectionError("not connected")
        self.sent.append([message_id for _, _, message_id in messages])
        self.acks.append(asyncio.get_running_loop().create_future())
        return self.acks[-1]


def _entries(*seqs: int) -> list[OutboxEntry]:
    return [(seq, "evt.v1.order.s", f"m{seq}", b"{}") for seq in seqs]


async def _settled(outbox: Outbox) -> None:
    await asyncio.sleep(0)
    await outbox.settle()


async def test_the_cursor_follows_acknowledgements_in_log_order() -> None:
    stream = FakeStream()
    outbox = Outbox(stream.send)
    outbox.restart(10)
    await outbox.publish(_entries(11, 12))
    await outbox.publish(_entries(13))
    assert stream.sent == [["m11", "m12"], ["m13"]]
    stream.acks[1].set_result(None)  # the later batch first: no gap may be skipped
    await asyncio.sleep(0)
    assert outbox.through == 10
    stream.acks[0].set_result(None)
    await _settled(outbox)
    assert (outbox.through, outbox.moved, outbox.failed) == (13, True, False)
    outbox.saved = outbox.through
    assert not outbox.moved


async def test_a_refused_acknowledgement_holds_the_cursor_before_it() -> None:
    stream = FakeStream()
    outbox = Outbox(stream.send)
    outbox.restart(0)
    await outbox.publish(_entries(1))
    await outbox.publish(_entries(2))
    await outbox.publish(_entries(3))
    stream.acks[0].set_result(None)
    stream.acks[1].set_exception(ConnectionError("stream unavailable"))
    stream.acks[2].set_result(None)
    await _settled(outbox)
    assert (outbox.through, outbox.failed) == (1, True)
    outbox.restart(1)  # what flush_outbox does before publishing 2 and 3 again
    assert (outbox.through, outbox.failed) == (1, False)


async def test_a_send_that_fails_leaves_the_cursor_and_asks_for_a_retry() -> None:
    stream = FakeStream()
    outbox = Outbox(stream.send)
    outbox.restart(5)
    stream.refuse = True
    await outbox.publish(_entries(6, 7))
    assert (outbox.through, outbox.failed) == (5, True)
    stream.refuse = False
    await outbox.publish(_entries(8))
    stream.acks[0].set_result(None)
    await _settled(outbox)
    assert outbox.through == 5  # 6 and 7 were never stored


async def test_an_acknowledgement_that_never_comes_times_out() -> None:
    stream = FakeStream()
    outbox = Outbox(stream.send, ack_timeout_s=0.05)
    outbox.restart(0)
    await outbox.publish(_entries(1))
    await _settled(outbox)
    assert (outbox.through, outbox.failed) == (0, True)
