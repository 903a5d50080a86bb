"""Which replica owns which ingest partition: leases in a NATS KV bucket.

Two JetStream key-value buckets hold the coordination state; NATS is the coordinator:

- ``FOXTROT_MD_LEASES`` (entries expire ``ttl`` after their last write): ``r.{replica}``
  is a replica's heartbeat, ``p.{partition}`` the lease on a partition, holding its
  owner's id. A lease is taken with an atomic *create* (it fails while the key exists)
  and renewed with an *update* that names the revision last written, so two replicas can
  never both believe they renewed it.
- ``FOXTROT_MD_CHECKPOINTS`` (kept): ``p.{partition}`` is the state of the partition's
  open bars and the stream sequence it covers, written by the owner with the same
  compare-and-set, so an owner that lost its lease (a long pause) cannot overwrite its
  successor's checkpoint.

Every ``ttl / 3`` a replica renews its heartbeat and leases, counts the live replicas and
aims at its fair share, ``ceil(partitions / replicas)``: it takes free partitions (in an
order of its own, by rendezvous hashing, so replicas rarely race for the same one) while
it has fewer, and hands the extra ones back, checkpointing first, when it has more. A
replica that dies stops renewing; its leases expire after ``ttl`` and the survivors take
them over, each restoring the checkpoint and reading on from its sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue
from prometheus_client import Counter, Gauge

__all__ = ["CHECKPOINTS", "LEASES", "LeaseLost", "Leases", "Ownership"]

LEASES: Final = "FOXTROT_MD_LEASES"
CHECKPOINTS: Final = "FOXTROT_MD_CHECKPOINTS"

log = logging.getLogger(__name__)
OWNED = Gauge("foxtrot_market_data_partitions_owned", "Ingest partitions this replica owns")
HANDOVERS = Counter(
    "foxtrot_market_data_partition_handovers",
    "Partitions taken or given up by this replica",
    ["event"],
)


class LeaseLost(RuntimeError):
    """Another replica owns the partition now."""


@dataclass
class Ownership:
    """What one replica holds: a partition's lease and checkpoint revisions."""

    lease_revision: int
    checkpoint_revision: int
    renewed: float = field(default_factory=time.monotonic)


Acquire = Callable[[str, dict[str, object] | None], Awaitable[None]]
Release = Callable[[str], Awaitable[None]]


class Leases:
    """Takes, renews and gives back partition leases; see the module's protocol.

    ``on_acquire(partition, checkpoint)`` starts a partition's worker from its checkpoint
    (None: from the stream's start); ``on_release(partition)`` stops it, and returns once
    the worker wrote its last checkpoint through :meth:`save_checkpoint`.
    """

    def __init__(
        self,
        js: JetStreamContext,
        replica: str,
        partitions: Sequence[str],
        ttl: float,
        on_acquire: Acquire,
        on_release: Release,
    ) -> None:
        self.js = js
        self.replica = replica
        self.ttl = ttl
        self.on_acquire = on_acquire
        self.on_release = on_release
        self.owned: dict[str, Ownership] = {}
        # Rendezvous order: each replica prefers partitions in its own order.
        self.preference = sorted(
            partitions, key=lambda p: hashlib.sha1(f"{replica}/{p}".encode()).digest()
        )
        self._leases: KeyValue | None = None
        self._checkpoints: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open (or create) the buckets and start the ownership loop."""
        self._leases = await _bucket(self.js, LEASES, ttl=self.ttl)
        self._checkpoints = await _bucket(self.js, CHECKPOINTS, ttl=0)
        self._task = asyncio.create_task(self._run(), name="market_data.leases")

    async def stop(self) -> None:
        """Hand every partition back (checkpointed) and stop renewing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.gather(*(self._give_back(p) for p in list(self.owned)))
        if self._leases is not None:
            with contextlib.suppress(Exception):
                await self._leases.delete(f"r.{self.replica}")

    async def save_checkpoint(self, partition: str, state: dict[str, object]) -> None:
        """Write a partition's checkpoint if this replica still owns it; else LeaseLost."""
        owned = self.owned.get(partition)
        if owned is None or self._checkpoints is None:
            raise LeaseLost(partition)
        key, value = f"p.{partition}", json.dumps(state).encode()
        try:
            if owned.checkpoint_revision:
                owned.checkpoint_revision = await self._checkpoints.update(
                    key, value, last=owned.checkpoint_revision
                )
            else:
                owned.checkpoint_revision = await self._checkpoints.create(key, value)
        except KeyWrongLastSequenceError as exc:
            raise LeaseLost(partition) from exc

    async def forfeit(self, partition: str) -> None:
        """Give up a partition whose worker found it taken (a checkpoint written by someone
        else): drop the lease so that the next owner starts from the newest checkpoint."""
        owned = self.owned.pop(partition, None)
        OWNED.set(len(self.owned))
        if owned is not None and self._leases is not None:
            HANDOVERS.labels("lost").inc()
            with contextlib.suppress(Exception):
                await self._leases.delete(f"p.{partition}", last=owned.lease_revision)

    async def _run(self) -> None:
        while True:
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("partition ownership round failed", exc_info=True)
            await self._expire_unrenewed()
            await asyncio.sleep(self.ttl / 3)

    async def _round(self) -> None:
        leases = self._leases
        assert leases is not None
        await leases.put(f"r.{self.replica}", self.replica.encode())
        for partition, owned in list(self.owned.items()):
            try:
                owned.lease_revision = await leases.update(
                    f"p.{partition}", self.replica.encode(), last=owned.lease_revision
                )
                owned.renewed = time.monotonic()
            except KeyWrongLastSequenceError:
                log.warning("lost the lease on ingest partition %s", partition)
                await self._lost(partition)
        replicas = sum(1 for key in await _keys(leases) if key.startswith("r."))
        fair = math.ceil(len(self.preference) / max(1, replicas))
        if len(self.owned) > fair:
            mine = [p for p in reversed(self.preference) if p in self.owned]
            # At once, not one after another: renewals wait for this round to end.
            await asyncio.gather(*(self._give_back(p) for p in mine[: len(self.owned) - fair]))
            return
        for partition in self.preference:
            if len(self.owned) >= fair:
                break
            if partition not in self.owned:
                await self._try_take(partition)

    async def _try_take(self, partition: str) -> None:
        assert self._leases is not None
        assert self._checkpoints is not None
        try:
            revision = await self._leases.create(f"p.{partition}", self.replica.encode())
        except KeyWrongLastSequenceError:
            return  # someone holds it
        checkpoint: dict[str, object] | None = None
        checkpoint_revision = 0
        try:
            entry = await self._checkpoints.get(f"p.{partition}")
            if entry.value:
                checkpoint = json.loads(entry.value)
                checkpoint_revision = entry.revision or 0
        except KeyNotFoundError:
            pass
        self.owned[partition] = Ownership(revision, checkpoint_revision)
        OWNED.set(len(self.owned))
        HANDOVERS.labels("taken").inc()
        log.info(
            "took ingest partition %s from sequence %s",
            partition,
            checkpoint.get("seq", 0) + 1 if checkpoint else 1,  # type: ignore[operator]
            extra={"partition": partition},
        )
        try:
            await self.on_acquire(partition, checkpoint)
        except Exception:
            # Never hold a lease without a worker: let another replica try.
            log.exception("could not start ingest partition %s; giving it up", partition)
            await self.forfeit(partition)

    async def _give_back(self, partition: str) -> None:
        assert self._leases is not None
        if partition not in self.owned:
            return
        await self.on_release(partition)  # its last checkpoint is written by now
        owned = self.owned.pop(partition, None)
        if owned is None:
            return
        OWNED.set(len(self.owned))
        HANDOVERS.labels("given").inc()
        with contextlib.suppress(Exception):
            await self._leases.delete(f"p.{partition}", last=owned.lease_revision)
        log.info("gave back ingest partition %s", partition, extra={"partition": partition})

    async def _lost(self, partition: str) -> None:
        self.owned.pop(partition, None)
        OWNED.set(len(self.owned))
        HANDOVERS.labels("lost").inc()
        await self.on_release(partition)

    async def _expire_unrenewed(self) -> None:
        # Without NATS we cannot renew; past the TTL someone else may own the partition,
        # so stop working on it rather than publish beside the new owner.
        now = time.monotonic()
        for partition, owned in list(self.owned.items()):
            if now - owned.renewed > self.ttl:
                log.warning("lease on ingest partition %s not renewed in time", partition)
                await self._lost(partition)


async def _bucket(js: JetStreamContext, name: str, ttl: float) -> KeyValue:
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        config = KeyValueConfig(
            bucket=name, history=1, ttl=ttl or None, storage=StorageType.FILE, replicas=1
        )
        return await js.create_key_value(config)


async def _keys(kv: KeyValue) -> list[str]:
    try:
        return await kv.keys()
    except Exception as exc:
        if type(exc).__name__ == "NoKeysError":
            return []
        raise
