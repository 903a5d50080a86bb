"""This replica's share of the ingest: the partitions it leases and their workers.

At start the replica checks that nats-server maps ingest subjects onto partitions (the
``mappings`` block that ``make nats-config`` renders): it publishes a probe and watches
where it lands. With the mapping, the ``INGEST_PARTITIONS`` partitions are shared among
the replicas. Without it (a NATS server configured by someone else) there is one
partition, ``all``, that one replica at a time consumes: correct, but not spread out; the
replica says so in its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from foxtrot.common import subjects
from foxtrot.common.dead_letters import DeadLetters
from foxtrot.common.streams import MD_INGEST
from foxtrot.core.aggregation import EmptyBarPolicy
from foxtrot.core.bar_spec import BarSpec
from foxtrot.core.instruments import Instrument
from foxtrot.market_data.bars import BarBuilder, BarClock
from foxtrot.market_data.outbox import Outbox, Record, TickSubjects
from foxtrot.market_data.ownership import LeaseLost, Leases
from foxtrot.market_data.pipeline import Normaliser, PartitionWorker
from foxtrot.market_data.quality import QualityWatch

__all__ = [
    "ALL",
    "IngestConfig",
    "IngestShare",
    "PartitionListener",
    "probe_partitions",
    "replica_name",
]

ALL = "all"
log = logging.getLogger(__name__)


def replica_name() -> str:
    """This process's name among the replicas: host (the pod's name) and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def probe_partitions(nc: NatsClient, partitions: int, timeout: float = 10.0) -> bool:
    """Whether nats-server maps ingest subjects onto ``partitions`` partitions.

    The probes are heard either on their partition subjects (mapped) or, with no mapping,
    on the subjects they were sent to; the first answer decides. Raises RuntimeError when
    the server maps onto a different number of partitions (replicas would read the wrong
    subjects, so the service must not start) or when no probe comes back at all.
    """
    venue = f"PROBE{secrets.token_hex(4)}"  # this probe's own: replicas probe at once
    symbols = [f"S{i}" for i in range(4)]
    landed: dict[str, int] = {}
    unmapped = False
    done = asyncio.Event()

    async def on_mapped(msg: Msg) -> None:
        tokens = msg.subject.split(".")
        landed[tokens[-1]] = int(tokens[3])
        if len(landed) == len(symbols):
            done.set()

    async def on_unmapped(msg: Msg) -> None:
        nonlocal unmapped
        unmapped = True
        done.set()

    subs = [
        await nc.subscribe(f"{subjects.INGEST_PARTITIONED}.*.probe.{venue}.*", cb=on_mapped),
        await nc.subscribe(f"md.v1.ingest.probe.{venue}.*", cb=on_unmapped),
    ]
    try:
        await nc.flush()
        for symbol in symbols:
            await nc.publish(f"md.v1.ingest.probe.{venue}.{symbol}", b"")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)
    finally:
        for sub in subs:
            await sub.unsubscribe()
    if unmapped:
        return False
    if not landed:
        raise RuntimeError(f"no ingest probe came back from NATS within {timeout:g}s")
    expected = {s: subjects.ingest_partition_of(venue, s, partitions) for s in symbols}
    if any(landed[s] != expected[s] for s in landed):
        raise RuntimeError(
            f"nats-server maps ingest subjects onto another number of partitions than "
            f"{partitions} (probe landed on {landed}, expected {expected}): render its "
            "config again with make nats-config"
        )
    return True


class PartitionListener(Protocol):
    """Told when this replica takes or gives back a partition (venue feeds subscribe the
    partition's symbols)."""

    async def on_acquire(self, partition: str) -> None: ...

    async def on_release(self, partition: str) -> None: ...


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """How this replica takes part in the ingest."""

    specs: Sequence[BarSpec]
    empty: EmptyBarPolicy
    clock: BarClock
    lease_ttl: float = 3.0
    batch: int = 1_000
    replica: str = ""
    tick_subjects: TickSubjects = field(default_factory=TickSubjects)


class IngestShare:
    """Leases ingest partitions and runs a worker on each one held."""

    def __init__(
        self,
        nc: NatsClient,
        dead_letters: DeadLetters,
        quality: QualityWatch,
        config: IngestConfig,
        check: Callable[[Record], str | None] | None = None,
        define: Callable[[Instrument], Awaitable[None]] | None = None,
    ) -> None:
        self.nc = nc
        self.define = define
        self.js = nc.jetstream()
        self.dead_letters = dead_letters
        self.quality = quality
        self.config = config
        self.check = check
        self.replica = config.replica or replica_name()
        self.workers: dict[str, tuple[PartitionWorker, asyncio.Task[None]]] = {}
        self.leases: Leases | None = None
        self.listeners: list[PartitionListener] = []
        self.mapped = False
        self.stream_id = ""

    async def start(self) -> None:
        """Find out how ingest is partitioned and start competing for partitions."""
        info = await self.js.stream_info(MD_INGEST.name)
        # Checkpoints name the stream they index by its creation time.
        self.stream_id = info.created.isoformat() if info.created else ""
        self.mapped = await probe_partitions(self.nc, subjects.INGEST_PARTITIONS)
        if self.mapped:
            names = [str(p) for p in range(subjects.INGEST_PARTITIONS)]
        else:
            log.warning(
                "nats-server does not map ingest subjects onto partitions (see "
                "deploy/nats/nats.conf): one replica at a time consumes all ingest input"
            )
            names = [ALL]
        self.leases = Leases(
            self.js, self.replica, names, self.config.lease_ttl, self._acquire, self._release
        )
        await self.leases.start()

    async def stop(self) -> None:
        """Give every partition back, checkpointed, for the other replicas to take."""
        if self.leases is not None:
            await self.leases.stop()

    async def on_time(self) -> None:
        """Staleness checks on the wall clock (bars close in the workers)."""
        await self.quality.on_time(time.time_ns())

    async def _emit(
        self, subject: str, payload: bytes, message_id: str | None, traceparent: str | None
    ) -> None:
        headers = {"Nats-Msg-Id": message_id} if message_id else {}
        if traceparent:
            headers["traceparent"] = traceparent
        await self.nc.publish(subject, payload, headers=headers or None)

    async def _acquire(self, name: str, checkpoint: dict[str, object] | None) -> None:
        assert self.leases is not None
        leases = self.leases
        specs = self.config.specs
        builder = BarBuilder(specs, self.config.empty) if specs else None
        normaliser = Normaliser(
            Outbox(self._emit, self.config.tick_subjects),
            builder,
            self.quality,
            self.config.clock,
            self.check,
            self.define,
        )
        start = 1
        if checkpoint is not None and checkpoint.get("stream") != self.stream_id:
            # The stream was deleted and created again since: its sequences start over.
            log.warning(
                "ingest partition %s: checkpoint is of an earlier %s stream, starting afresh",
                name,
                MD_INGEST.name,
            )
            checkpoint = None
        if checkpoint is not None:
            normaliser.restore(checkpoint, time.time_ns())
            start = int(checkpoint["seq"]) + 1  # type: ignore[call-overload]

        async def save(state: dict[str, object]) -> None:
            state["stream"] = self.stream_id
            await leases.save_checkpoint(name, state)

        worker = PartitionWorker(
            name,
            "md.v1.ingest.>" if name == ALL else subjects.ingest_partition(int(name)),
            None if name == ALL else int(name),
            self.nc,
            normaliser,
            self.dead_letters,
            save,
            start,
            batch=self.config.batch,
        )
        task = asyncio.create_task(self._work(worker), name=f"market_data.ingest.{name}")
        self.workers[name] = (worker, task)
        for listener in self.listeners:
            await listener.on_acquire(name)

    async def _work(self, worker: PartitionWorker) -> None:
        # A worker that fails part-way through a message (a publish refused while NATS
        # reconnects, the consumer gone) may have changed its bars without finishing: it
        # is never resumed. The partition is given up, and whoever takes it next (this
        # replica, a round later, or another) starts from the last checkpoint.
        try:
            await worker.run()
        except LeaseLost:
            log.warning("ingest partition %s: taken over, stopped", worker.name)
            await self._forfeit(worker)
        except Exception:
            log.exception("ingest partition %s failed; giving it up", worker.name)
            await self._forfeit(worker)

    async def _forfeit(self, worker: PartitionWorker) -> None:
        if worker.stopping or self.leases is None:
            return  # being released already
        self.workers.pop(worker.name, None)
        for listener in self.listeners:
            await listener.on_release(worker.name)
        await self.leases.forfeit(worker.name)

    async def _release(self, name: str) -> None:
        for listener in self.listeners:
            await listener.on_release(name)
        # The worker stays listed until it has written its last checkpoint, so a release
        # that is interrupted (shutdown cancelling a rebalance) and called again still
        # waits for it before the lease goes.
        found = self.workers.get(name)
        if found is None:
            return
        worker, task = found
        await worker.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), 10)
        except TimeoutError:
            task.cancel()
        self.workers.pop(name, None)
