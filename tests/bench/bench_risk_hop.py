"""What the risk hop adds to the order path: a SubmitOrder published on
cmd.v1.risk.submit_order until risk's approval of it is on cmd.v1.exec.submit_order,
through the real risk process (execution running behind it and filling every order, as
``make run`` starts them), beside the same hop with no work in it measured in the same run.

    make bench            # or: .venv/bin/python tests/bench/bench_risk_hop.py

The baseline is an empty hop in a process of its own: a durable JetStream pull consumer
that takes every message waiting as soon as one arrives (as risk's does), publishes each on
into the stream with the platform's pipelined publisher (as risk publishes approvals) and
acknowledges them. Risk's hop does the same plus its work: decode, the full rule set, the
bookkeeping, the approved command's encoding and the decision's record in PostgreSQL.

Both are timed by the bench alone (one clock): from when an order was due to be sent to
when the message that comes out of the hop reaches the bench's subscription. Phases
alternate, baseline then risk, at a light rate (FOXTROT_BENCH_LIGHT_RATE, 50/s) and at the
order path's rate (FOXTROT_BENCH_RATE, 500/s), FOXTROT_BENCH_HOP_SECONDS (10) each, twice,
so a noisy spell of the shared machine falls on both. Market orders of 0.01, alternately
BUY and SELL, so positions stay flat and every order passes every rule.

Target (issue 5, point 7): the risk hop adds at most 1 ms at p99, read as risk's hop p99
less the empty hop's p99 at the order path's rate. Exits 1 when an order is lost or denied
or a service dies; otherwise 0 (it is a report, not a test).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nats
import psutil
from bench_orders import (
    STRATEGY,
    CpuMeter,
    Report,
    met,
    on_platform,
    order_template,
    pct,
    process_groups,
    setting,
)
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig

from foxtrot.common import subjects
from foxtrot.common.local.platform import LocalPlatform
from foxtrot.common.publishing import PipelinedPublisher
from foxtrot.common.streams import COMMANDS, StreamSpec
from foxtrot.core.enums import OrderSide

HOP = StreamSpec("BENCH_HOP", ("bench.hop.in", "bench.hop.out"), max_age_s=3600)
TARGET_ADDED_P99_MS = 1.0
MAX_BATCH = 200


@dataclass(frozen=True)
class Plan:
    rate: float = setting("FOXTROT_BENCH_RATE", 500)
    light_rate: float = setting("FOXTROT_BENCH_LIGHT_RATE", 50)
    seconds: float = setting("FOXTROT_BENCH_HOP_SECONDS", 10)
    warmup: float = setting("FOXTROT_BENCH_WARMUP_SECONDS", 5)
    rounds: int = int(setting("FOXTROT_BENCH_HOP_ROUNDS", 2))
    quiet: float = 10.0


# -- the empty hop, in a process of its own ---------------------------------------------------


def relay_main(url: str) -> None:
    asyncio.run(_relay(url))


async def _relay(url: str) -> None:
    client = await nats.connect(url)
    js = client.jetstream()
    publisher = PipelinedPublisher(lambda: client, HOP)
    pull = await js.pull_subscribe(
        "bench.hop.in",
        durable="bench-hop",
        stream=HOP.name,
        config=ConsumerConfig(max_ack_pending=MAX_BATCH * 4),
    )
    while True:
        try:
            batch = await pull.fetch(1, timeout=5)
        except NatsTimeoutError:
            continue
        if waiting := batch[-1].metadata.num_pending:
            with contextlib.suppress(NatsTimeoutError):
                batch += await pull.fetch(min(waiting, MAX_BATCH - 1), timeout=1)
        await publisher.publish([("bench.hop.out", m.data, uuid.uuid4().hex) for m in batch])
        for m in batch:
            await m.ack()


# -- the bench ------------------------------------------------------------------------------


@dataclass
class Timings:
    """When each order was due (perf_counter ns) and when its hop's output arrived."""

    due: dict[str, int] = field(default_factory=dict)
    took: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    async def on_out(self, msg: Msg) -> None:
        now = time.perf_counter_ns()
        client_order_id = json.loads(msg.data).get("client_order_id", "")
        due = self.due.get(client_order_id)
        if due is not None and client_order_id not in self.took:
            self.took[client_order_id] = now - due

    async def on_event(self, msg: Msg) -> None:
        event = json.loads(msg.data)
        if event["type"] in ("OrderDenied", "OrderRejected"):
            self.failures.append(f"{event['client_order_id']}: {event['type']} {event['reason']}")


class Sender:
    """Publishes SubmitOrders into JetStream (with Nats-Msg-Id) on a schedule."""

    def __init__(self, client: Client, timings: Timings) -> None:
        self.timings = timings
        self.publishers = {
            "risk": PipelinedPublisher(lambda: client, COMMANDS),
            "empty": PipelinedPublisher(lambda: client, HOP),
        }
        self.subject = {"risk": subjects.RISK_SUBMIT_ORDER, "empty": "bench.hop.in"}
        self.template = order_template()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sent = 0

    async def run(self, path: str, tag: str, rate: float, seconds: float) -> list[str]:
        ids: list[str] = []
        start = time.perf_counter_ns() + 10_000_000
        for i in range(int(rate * seconds)):
            due = start + int(i * 1e9 / rate)
            if (delay := (due - time.perf_counter_ns()) / 1e9) > 0:
                await asyncio.sleep(delay)
            self.sent += 1
            message_id, now = uuid.uuid4(), time.time_ns()
            order = self.template.model_copy(
                update={
                    "client_order_id": f"{tag}-{i}",
                    "side": (OrderSide.BUY, OrderSide.SELL)[self.sent % 2],
                    "message_id": message_id,
                    "correlation_id": message_id,
                    "ts_event": now,
                    "ts_init": now,
                }
            )
            ids.append(order.client_order_id)
            self.timings.due[order.client_order_id] = due
            task = asyncio.create_task(
                self.publishers[path](self.subject[path], order.to_json(), str(message_id))
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return ids


async def wait_for(timings: Timings, ids: list[str], quiet: float) -> list[str]:
    """The ids whose hop output had not arrived after ``quiet`` seconds with no progress."""
    last, before = time.monotonic(), -1
    while True:
        still = [i for i in ids if i not in timings.took]
        if not still:
            return []
        if len(still) != before:
            last, before = time.monotonic(), len(still)
        elif time.monotonic() - last > quiet:
            return still
        await asyncio.sleep(0.05)


async def measure(url: str, plan: Plan, cpu: CpuMeter, out: Report) -> None:
    client = await nats.connect(url, pending_size=-1)
    js = client.jetstream()
    await js.add_stream(HOP.config())
    relay = multiprocessing.get_context("spawn").Process(target=relay_main, args=(url,))
    relay.start()
    cpu.groups["empty hop"] = [psutil.Process(relay.pid)]
    timings = Timings()
    for subject, callback in (
        (subjects.EXEC_SUBMIT_ORDER, timings.on_out),
        ("bench.hop.out", timings.on_out),
        (subjects.order_events(STRATEGY), timings.on_event),
    ):
        await client.subscribe(subject, cb=callback, pending_msgs_limit=-1, pending_bytes_limit=-1)
    await client.flush()
    sender = Sender(client, timings)
    try:
        for path in ("empty", "risk"):
            warm = await sender.run(path, f"warm-{path}", plan.rate, plan.warmup)
            if lost := await wait_for(timings, warm, plan.quiet):
                out.failures.append(f"{path} warm-up: {len(lost)} lost, e.g. {lost[:3]}")
        results: dict[tuple[str, float], list[int]] = {}
        usage: dict[tuple[str, float], list[str]] = {}
        for round_ in range(plan.rounds):
            for rate in (plan.light_rate, plan.rate):
                for path in ("empty", "risk"):
                    tag = f"{path}-{rate:.0f}-{round_}"
                    cpu.start()
                    ids = await sender.run(path, tag, rate, plan.seconds)
                    usage.setdefault((path, rate), []).append(cpu.stop())
                    if lost := await wait_for(timings, ids, plan.quiet):
                        out.failures.append(f"{tag}: {len(lost)} lost, e.g. {lost[:3]}")
                    took = [timings.took[i] for i in ids if i in timings.took]
                    results.setdefault((path, rate), []).extend(took)
        report(results, plan, out)
        for (path, rate), lines in usage.items():
            for line in lines:
                out.add(f"    {path} @ {rate:.0f}/s: {line}")
        await asyncio.sleep(0.5)  # the last fills reach the bench
        if timings.failures:
            out.failures.append(
                f"{len(timings.failures)} orders denied or rejected, e.g. {timings.failures[:3]}"
            )
    finally:
        relay.terminate()
        relay.join(5)
        await js.delete_stream(HOP.name)
        await client.close()


def report(results: dict[tuple[str, float], list[int]], plan: Plan, out: Report) -> None:
    out.add(f"  {'':<52} {'orders':>7}   p50 ms   p99 ms   max ms")
    for rate in (plan.light_rate, plan.rate):
        empty, risk = results[("empty", rate)], results[("risk", rate)]
        for label, values in (
            (f"empty hop @ {rate:.0f}/s (baseline)", empty),
            (f"risk hop  @ {rate:.0f}/s", risk),
        ):
            out.add(
                f"  {label:<52} {len(values):>7,}   {pct(values, 50) / 1e6:6.2f}   "
                f"{pct(values, 99) / 1e6:6.2f}   {max(values, default=0) / 1e6:6.2f}"
            )
        added = (pct(risk, 99) - pct(empty, 99)) / 1e6
        added_p50 = (pct(risk, 50) - pct(empty, 50)) / 1e6
        verdict = (
            f"   target p99 <= {TARGET_ADDED_P99_MS:.0f} ms: [{met(added <= TARGET_ADDED_P99_MS)}]"
            if rate == plan.rate
            else ""
        )
        label = f"risk adds @ {rate:.0f}/s"
        out.add(f"  {label:<52} {'':>7}   {added_p50:6.2f}   {added:6.2f}{verdict}")


def main() -> int:
    plan = Plan()
    out = Report()
    out.add(
        f"risk hop (cmd.v1.risk.submit_order -> cmd.v1.exec.submit_order), {os.cpu_count()} "
        "cores shared by nats-server, PostgreSQL, risk, execution, the empty hop and the bench"
    )

    async def work(platform: LocalPlatform, pgdata: Path) -> None:
        await measure(platform.nats_url, plan, CpuMeter(process_groups(platform, pgdata)), out)

    on_platform("foxtrot-bench-risk-hop-", work, out)
    for failure in out.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if out.failures else 0


if __name__ == "__main__":
    sys.exit(main())
