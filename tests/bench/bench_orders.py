"""Order round trip: SubmitOrder published on cmd.v1.risk.submit_order, then its
OrderAccepted and OrderFilled received on evt.v1.order.bench, through the real risk and
execution processes with persistence on (embedded nats-server with JetStream and
PostgreSQL, as ``make run`` starts them), beside the raw NATS request/reply round trip of
a payload the size of a SubmitOrder, a JetStream publish + ack, and the same path with no
work in it (two JetStream pull-consumer hops and a PostgreSQL commit per batch at the
rate), measured in the same run.

    make bench            # or: .venv/bin/python tests/bench/bench_orders.py

1. After FOXTROT_BENCH_WARMUP_SECONDS (5) at the rate, a light load (FOXTROT_BENCH_LIGHT_RATE,
   20 orders/s, for 5 s) gives the round trip without queueing, hop by hop. Then open loop
   at FOXTROT_BENCH_RATE orders/s (500) for FOXTROT_BENCH_SECONDS (20): each order is timed
   from when it was due to be sent (so a stalled sender cannot hide latency) to its
   OrderAccepted and to its OrderFilled; sending stops when more than
   FOXTROT_BENCH_MAX_BACKLOG (1000) orders are open (the platform fell behind).
2. Sustained: a closed loop with at most FOXTROT_BENCH_WINDOW (400) orders in flight for
   FOXTROT_BENCH_SUSTAIN_SECONDS (60); see SUSTAINED for what the figure means. A closed
   loop shows at most window / round trip orders per second (Little's law): with 100 in
   flight and batches of 100 taking ~100 ms, it measured the round trip, not the capacity,
   and risk and execution took turns instead of working at once. 400 in flight is under
   half a second of work, still a bounded backlog.

Market orders of 0.01, alternately BUY and SELL, fill at once against a deep locked quote
published on md.v1.quote.SIM.BENCH-PERP before the services start; a trade batch gives
risk the price it values market orders at. Exits 1 when an order is lost, denied or
rejected or a service dies; otherwise 0 (it is a report, not a test).

Targets (issue 4, point 7): p99 <= 10 ms at 500 orders/s; >= 1,000 orders/s sustained.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import nats
import psutil
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import StreamConfig

from foxtrot.common import subjects
from foxtrot.common.local.platform import LocalPlatform, PlatformConfig
from foxtrot.common.messages.v1 import Instrument, QuoteTick, SubmitOrder, TradeBatch
from foxtrot.common.publishing import Outgoing, PipelinedPublisher
from foxtrot.common.streams import COMMANDS, MARKET_DATA, ensure_streams
from foxtrot.core.enums import OrderSide
from foxtrot.core.identifiers import InstrumentId

INSTRUMENT = InstrumentId("BENCH-PERP", "SIM")
STRATEGY = "bench"
PRICE = "50000"
SERVICES = ("risk", "execution")
SUSTAINED = (
    "orders filled per second over the whole window by a closed loop that keeps at most "
    "{window} orders in flight (a new order for each one filled), so the backlog is bounded "
    "and cannot grow; every order sent was filled, and the second half of the window kept at "
    "least 90% of the first half's rate (no slowdown)"
)
TARGET_P99_MS = 10.0
TARGET_RATE = 1000.0


def setting(name: str, default: float) -> float:
    """A FOXTROT_BENCH_* figure from the environment."""
    return float(os.environ.get(name, default))


def order_template() -> SubmitOrder:
    """The bench's order: a market order of 0.01 (each sent gets its own ids and side)."""
    return SubmitOrder(
        client_order_id="template",
        strategy_id=STRATEGY,
        account_id="SIM-001",
        instrument_id=str(INSTRUMENT),
        side=OrderSide.BUY,
        order_type="MARKET",
        quantity=Decimal("0.01"),
        ts_event=1,
        ts_init=1,
    )


@dataclass(frozen=True)
class Plan:
    """What to run, from FOXTROT_BENCH_* variables."""

    rate: float = setting("FOXTROT_BENCH_RATE", 500)
    seconds: float = setting("FOXTROT_BENCH_SECONDS", 20)
    warmup: float = setting("FOXTROT_BENCH_WARMUP_SECONDS", 5)
    sustain: float = setting("FOXTROT_BENCH_SUSTAIN_SECONDS", 60)
    window: int = int(setting("FOXTROT_BENCH_WINDOW", 400))
    quiet: float = setting("FOXTROT_BENCH_LOST_AFTER_SECONDS", 15)
    light_rate: float = setting("FOXTROT_BENCH_LIGHT_RATE", 20)
    max_backlog: int = int(setting("FOXTROT_BENCH_MAX_BACKLOG", 1000))


@dataclass(slots=True)
class Order:
    """One order's timeline: perf_counter ns at the bench, wall-clock ns for the hops
    (every process reads the same clock)."""

    due: int
    due_wall: int
    approved_wall: int = 0  # the bench saw risk's approved command on cmd.v1.exec.*
    risk_ts: int = 0  # risk's ts_init on that command: when its handler ran
    exec_ts: int = 0  # execution's ts_init on OrderAccepted: inside its transaction
    accepted: int = 0
    accepted_wall: int = 0
    filled: int = 0
    failure: str = ""


@dataclass
class Tracker:
    """Matches order events to the orders sent, by client order id."""

    orders: dict[str, Order] = field(default_factory=dict)
    open: int = 0
    on_done: Callable[[], None] | None = None

    def sent(self, client_order_id: str, due: int) -> None:
        lag = time.perf_counter_ns() - due
        self.orders[client_order_id] = Order(due, time.time_ns() - lag)
        self.open += 1

    async def on_event(self, msg: Msg) -> None:
        now, wall = time.perf_counter_ns(), time.time_ns()
        event = json.loads(msg.data)
        order = self.orders.get(event.get("client_order_id", ""))
        if order is None or order.filled or order.failure:
            return
        kind = event["type"]
        if kind == "OrderAccepted":
            order.accepted, order.accepted_wall, order.exec_ts = now, wall, event["ts_init"]
        elif kind == "OrderFilled":
            order.filled = now
            self._done()
        elif kind in ("OrderDenied", "OrderRejected"):
            order.failure = f"{kind}: {event.get('reason')}"
            self._done()

    async def on_approved(self, msg: Msg) -> None:
        wall = time.time_ns()
        command = json.loads(msg.data)
        order = self.orders.get(command["client_order_id"])
        if order is not None:
            order.approved_wall, order.risk_ts = wall, command["ts_init"]

    def _done(self) -> None:
        self.open -= 1
        if self.on_done is not None:
            self.on_done()


class OrderFlow:
    """Sends SubmitOrders as strategies and the gateway do (JetStream, Nats-Msg-Id)."""

    def __init__(self, client: Client, tracker: Tracker) -> None:
        # The platform's own pipelined JetStream publisher: each order is still published
        # with its Nats-Msg-Id and acknowledged by the stream, at the bench's lowest cost
        # (the bench shares the two cores with what it measures).
        self.publisher = PipelinedPublisher(lambda: client, COMMANDS)
        self.tracker = tracker
        self.sides = (OrderSide.BUY, OrderSide.SELL)
        self.template = order_template()
        self.publishing: set[asyncio.Task[None]] = set()
        self.errors: list[BaseException] = []

    def send(self, client_order_id: str, index: int, due: int) -> None:
        """Publish one order in the background; it is timed from ``due``."""
        message_id, now = uuid.uuid4(), time.time_ns()
        order = self.template.model_copy(
            update={
                "client_order_id": client_order_id,
                "side": self.sides[index % 2],
                "message_id": message_id,
                "correlation_id": message_id,
                "ts_event": now,
                "ts_init": now,
            }
        )
        self.tracker.sent(client_order_id, due)
        task = asyncio.create_task(
            self._publish((subjects.RISK_SUBMIT_ORDER, order.to_json(), str(message_id)))
        )
        self.publishing.add(task)
        task.add_done_callback(self.publishing.discard)

    async def _publish(self, message: Outgoing) -> None:
        try:
            await self.publisher(*message)
        except Exception as exc:
            self.errors.append(exc)

    def payload_size(self) -> int:
        return len(self.template.model_copy(update={"client_order_id": "b-0-00000"}).to_json())


async def drain(tracker: Tracker, ids: list[str], quiet: float) -> list[str]:
    """Wait until every order in ``ids`` is filled or failed, or until no order of theirs
    has completed for ``quiet`` seconds (a backlog still being worked off is waited for);
    the ids still open: lost."""
    last, open_before = time.monotonic(), -1
    while True:
        still = [i for i in ids if not (tracker.orders[i].filled or tracker.orders[i].failure)]
        if not still:
            return []
        if len(still) != open_before:
            last, open_before = time.monotonic(), len(still)
        elif time.monotonic() - last > quiet:
            return still
        await asyncio.sleep(0.1)


async def open_loop(
    flow: OrderFlow, tag: str, rate: float, seconds: float, max_backlog: int
) -> tuple[list[str], float | None]:
    """Send ``rate`` orders a second for ``seconds``, each when due; their ids, and when
    the platform fell behind (seconds in) if more than ``max_backlog`` were open: the
    phase stops there, as waiting longer would only measure a longer queue."""
    ids: list[str] = []
    start = time.perf_counter_ns() + 10_000_000
    for i in range(int(rate * seconds)):
        due = start + int(i * 1e9 / rate)
        delay = (due - time.perf_counter_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        if flow.tracker.open > max_backlog:
            return ids, (due - start) / 1e9
        ids.append(f"{tag}-{i}")
        flow.send(ids[-1], i, due)
    return ids, None


async def closed_loop(flow: OrderFlow, tag: str, window: int, seconds: float) -> list[str]:
    """Keep ``window`` orders in flight for ``seconds``; their ids."""
    slots = asyncio.Semaphore(window)
    flow.tracker.on_done = slots.release
    ids: list[str] = []
    end = time.perf_counter_ns() + int(seconds * 1e9)
    try:
        while (now := time.perf_counter_ns()) < end:
            await slots.acquire()
            ids.append(f"{tag}-{len(ids)}")
            flow.send(ids[-1], len(ids), now)
    finally:
        flow.tracker.on_done = None
    return ids


def pct(values: Iterable[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    return data[min(len(data) - 1, int(q / 100 * len(data)))]


def row(figures: tuple[float, float, float]) -> str:
    return "   ".join(f"{f:6.2f}" for f in figures)


def ms(values: list[int]) -> tuple[float, float, float]:
    """p50, p99 and max of nanosecond durations, in ms."""
    return pct(values, 50) / 1e6, pct(values, 99) / 1e6, max(values, default=0) / 1e6


async def request_reply(url: str, size: int, count: int = 5000) -> list[int]:
    """Raw nats-py request/reply round trips of ``size`` bytes, one at a time."""
    responder, requester = await nats.connect(url), await nats.connect(url)

    async def echo(msg: Msg) -> None:
        await msg.respond(msg.data)

    await responder.subscribe("bench.echo", cb=echo)
    await responder.flush()
    payload, out = b"x" * size, []
    for i in range(count + 500):
        start = time.perf_counter_ns()
        await requester.request("bench.echo", payload, timeout=5)
        if i >= 500:
            out.append(time.perf_counter_ns() - start)
    await responder.close()
    await requester.close()
    return out


async def jetstream_publish(url: str, size: int, count: int = 3000) -> list[int]:
    """JetStream publish + ack (file storage, Nats-Msg-Id) of ``size`` bytes, one at a time:
    what every confirmed publish on the order path costs at least."""
    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(StreamConfig(name="BENCH", subjects=["bench.js"]))
    payload, out = b"x" * size, []
    for i in range(count + 300):
        start = time.perf_counter_ns()
        await js.publish("bench.js", payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        if i >= 300:
            out.append(time.perf_counter_ns() - start)
    await js.delete_stream("BENCH")
    await client.close()
    return out


async def pipeline_floor(
    url: str, database_url: str, size: int, rate: float, seconds: float = 10
) -> list[int]:
    """The order path with nothing in it: messages of ``size`` bytes published at ``rate``
    into JetStream, relayed by a pull consumer that fetches what waits and republishes it
    (publish + ack), then by a second that inserts the batch into PostgreSQL (one commit)
    and publishes it on, as risk and execution do, but with handlers that do no work. What
    the platform's own processing adds is the rest of the round trip."""
    conns = [await nats.connect(url) for _ in range(3)]
    js = conns[0].jetstream()
    await js.add_stream(StreamConfig(name="BENCHFLOOR", subjects=["bench.floor.*"]))
    db = await asyncpg.connect(database_url)
    await db.execute("CREATE TEMPORARY TABLE bench_floor (data bytea)")

    async def relay(client: Client, source: str, durable: str, target: str) -> None:
        ctx = client.jetstream()
        pull = await ctx.pull_subscribe(source, durable=durable, stream="BENCHFLOOR")
        while True:
            try:
                batch = await pull.fetch(1, timeout=5)
            except NatsTimeoutError:
                continue
            if waiting := batch[-1].metadata.num_pending:
                with contextlib.suppress(NatsTimeoutError):
                    batch += await pull.fetch(min(waiting, 199), timeout=1)
            if target == "bench.floor.back":
                await db.execute(
                    "INSERT INTO bench_floor SELECT unnest($1::bytea[])", [m.data for m in batch]
                )
                for m in batch:
                    await client.publish(target, m.data)
            else:
                acks = [await ctx.publish_async(target, m.data) for m in batch]
                await asyncio.gather(*acks)
            for m in batch:
                await m.ack()

    sent: dict[int, int] = {}
    out: list[int] = []
    count, warmup = int(rate * (seconds + 1)), int(rate)  # the first second warms up
    all_back = asyncio.Event()

    async def back(msg: Msg) -> None:
        index = int(msg.data[:10])
        if index >= warmup:
            out.append(time.perf_counter_ns() - sent[index])
        if len(out) == count - warmup:
            all_back.set()

    await conns[0].subscribe("bench.floor.back", cb=back)
    relays = [
        asyncio.create_task(relay(conns[1], "bench.floor.in", "floor-risk", "bench.floor.mid")),
        asyncio.create_task(relay(conns[2], "bench.floor.mid", "floor-exec", "bench.floor.back")),
    ]
    await asyncio.sleep(0.2)
    publishing: list[asyncio.Task[object]] = []
    start = time.perf_counter_ns()
    for i in range(count):
        due = start + int(i * 1e9 / rate)
        if (delay := (due - time.perf_counter_ns()) / 1e9) > 0:
            await asyncio.sleep(delay)
        sent[i] = due
        payload = f"{i:010d}".encode() + b"x" * max(0, size - 10)
        publishing.append(asyncio.create_task(js.publish("bench.floor.in", payload)))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await all_back.wait()
    await asyncio.gather(*publishing)
    for task in relays:
        task.cancel()
    await asyncio.gather(*relays, return_exceptions=True)
    await js.delete_stream("BENCHFLOOR")
    await db.close()
    for conn in conns:
        await conn.close()
    return out


async def seed_market(url: str) -> None:
    """Streams, a trade for risk's notional check and a deep locked quote for execution."""
    client = await nats.connect(url)
    js = client.jetstream()
    await ensure_streams(js, update=True)
    now, name = time.time_ns(), str(INSTRUMENT)
    stamps = {"ts_event": now, "ts_init": now}
    trade = {"price": PRICE, "size": "1", "aggressor_side": "BUYER", "trade_id": "seed"}
    batch = TradeBatch.model_validate({"instrument_id": name, "trades": [trade | stamps]} | stamps)
    quote = QuoteTick(
        instrument_id=name,
        bid_price=Decimal(PRICE),
        ask_price=Decimal(PRICE),
        bid_size=Decimal(10) ** 9,
        ask_size=Decimal(10) ** 9,
        ts_event=now,
        ts_init=now,
    )
    # Risk refuses orders for instruments it does not know.
    definition = Instrument(
        instrument_id=name,
        base_currency=INSTRUMENT.symbol,
        quote_currency="USD",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.001"),
        min_quantity=Decimal("0.001"),
        price_precision=2,
        size_precision=3,
        **stamps,
    )
    for subject, message in (
        (subjects.instrument(INSTRUMENT), definition),
        (subjects.trades(INSTRUMENT), batch),
        (subjects.quote(INSTRUMENT), quote),
    ):
        await js.publish(
            subject,
            message.to_json(),
            headers={"Nats-Msg-Id": str(message.message_id)},
            stream=MARKET_DATA.name,
        )
    await client.close()


class CpuMeter:
    """CPU seconds each process group used between start() and stop()."""

    def __init__(self, groups: dict[str, list[psutil.Process]]) -> None:
        self.groups = groups
        self.before: dict[str, float] = {}
        self.started = 0.0

    def _now(self) -> dict[str, float]:
        out = {}
        for name, procs in self.groups.items():
            total = 0.0
            for proc in procs:
                try:
                    t = proc.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    pass
            out[name] = total
        return out

    def start(self) -> None:
        self.before, self.started = self._now(), time.monotonic()

    def stop(self) -> str:
        after, seconds = self._now(), time.monotonic() - self.started
        shares = [f"{n} {(after[n] - self.before[n]) / seconds:.0%}" for n in self.groups]
        return "CPU (100% = one core): " + ", ".join(shares)


def process_groups(platform: LocalPlatform, pgdata: Path) -> dict[str, list[psutil.Process]]:
    groups = {name: [psutil.Process(platform.children[name].pid)] for name in SERVICES}
    assert platform.nats is not None
    assert platform.nats.child is not None
    groups["nats-server"] = [psutil.Process(platform.nats.child.pid)]
    postgres = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(pgdata) in " ".join(p.info["cmdline"] or [])
    ]
    groups["postgres"] = postgres + [c for p in postgres for c in p.children(recursive=True)]
    groups["bench"] = [psutil.Process()]
    return groups


@dataclass
class Report:
    """What the run measured."""

    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)


def check_orders(tracker: Tracker, ids: list[str], lost: list[str], what: str, out: Report) -> None:
    failed = [f"{i}: {tracker.orders[i].failure}" for i in ids if tracker.orders[i].failure]
    if lost or failed:
        out.failures.append(
            f"{what}: {len(lost)} lost, {len(failed)} denied/rejected; e.g. {(lost or failed)[:3]}"
        )


def hop_lines(orders: list[Order]) -> list[str]:
    """Where the time to OrderAccepted goes, from the timestamps the services put on
    their messages (one wall clock for every process)."""
    seen = [o for o in orders if o.approved_wall and o.exec_ts and o.accepted_wall]
    hops = {
        "bench publish -> risk handler starts (JS ack, fetch, decode)": [
            o.risk_ts - o.due_wall for o in seen
        ],
        "risk handler -> approved command on NATS (check, publish)": [
            o.approved_wall - o.risk_ts for o in seen
        ],
        "approved on NATS -> execution in its transaction (fetch, lock, inbox)": [
            o.exec_ts - o.approved_wall for o in seen
        ],
        "execution transaction -> OrderAccepted at bench (book, commit, outbox)": [
            o.accepted_wall - o.exec_ts for o in seen
        ],
        "OrderAccepted -> OrderFilled at bench (same outbox flush)": [
            o.filled - o.accepted for o in seen if o.filled
        ],
    }
    out = [f"    per hop, {len(seen):,} orders        p50 ms   p99 ms"]
    for name, values in hops.items():
        out.append(f"      {name:<72} {pct(values, 50) / 1e6:6.2f}   {pct(values, 99) / 1e6:6.2f}")
    return out


async def measure(platform: LocalPlatform, plan: Plan, pgdata: Path, out: Report) -> None:
    url = platform.nats_url
    tracker = Tracker()
    client = await nats.connect(url, pending_size=-1)
    await client.subscribe(
        subjects.order_events(STRATEGY),
        cb=tracker.on_event,
        pending_msgs_limit=-1,
        pending_bytes_limit=-1,
    )
    await client.subscribe(
        subjects.EXEC_SUBMIT_ORDER,
        cb=tracker.on_approved,
        pending_msgs_limit=-1,
        pending_bytes_limit=-1,
    )
    await client.flush()
    flow = OrderFlow(client, tracker)
    size = flow.payload_size()
    raw = ms(await request_reply(url, size))
    jsp = ms(await jetstream_publish(url, size))
    floor = ms(await pipeline_floor(url, platform.database_url, size, plan.rate))
    cpu = CpuMeter(process_groups(platform, pgdata))
    out.add(f"  SubmitOrder payload {size} bytes")
    out.add(f"  {'':<44} p50 ms   p99 ms   max ms   beside")
    out.add(f"  {'raw NATS request/reply (baseline)':<44} {row(raw)}")
    out.add(f"  {'JetStream publish + ack (baseline)':<44} {row(jsp)}")
    out.add(
        f"  {f'empty order path @ {plan.rate:.0f}/s (baseline)':<44} {row(floor)}   "
        "2 JetStream hops + a PostgreSQL commit, no work"
    )

    async def timed(tag: str, rate: float, seconds: float) -> tuple[list[Order], float | None]:
        cpu.start()
        ids, behind = await open_loop(flow, tag, rate, seconds, plan.max_backlog)
        lost = await drain(tracker, ids, plan.quiet)
        check_orders(tracker, ids, lost, f"{tag} at {rate:.0f}/s", out)
        orders = [tracker.orders[i] for i in ids if tracker.orders[i].filled]
        accepted = ms([o.accepted - o.due for o in orders])
        filled = ms([o.filled - o.due for o in orders])
        out.add(
            f"  {f'submit -> OrderAccepted @ {rate:.0f}/s ({len(orders):,})':<44} {row(accepted)}"
            f"   {accepted[1] / raw[1]:,.0f}x raw p99"
        )
        ok = filled[1] <= TARGET_P99_MS and behind is None
        out.add(
            f"  {f'submit -> OrderFilled   @ {rate:.0f}/s':<44} {row(filled)}   "
            f"target p99 <= {TARGET_P99_MS:.0f} ms at {plan.rate:.0f}/s: [{met(ok)}]"
            if rate == plan.rate
            else f"  {f'submit -> OrderFilled   @ {rate:.0f}/s':<44} {row(filled)}   (unloaded)"
        )
        if behind is not None:
            out.add(
                f"    fell behind: more than {plan.max_backlog:,} orders open after {behind:.1f} s "
                f"of {seconds:.0f} s, so sending stopped; the figures above are mostly queueing"
            )
        out.add(f"    {cpu.stop()}, lost {len(lost)}")
        for line in hop_lines(orders):
            out.add(line)
        return orders, behind

    warm, _ = await open_loop(flow, "warm", plan.rate, plan.warmup, plan.max_backlog)
    check_orders(tracker, warm, await drain(tracker, warm, plan.quiet), "warm-up", out)
    await timed("light", plan.light_rate, 5)
    await timed("lat", plan.rate, plan.seconds)

    cpu.start()
    start = time.perf_counter_ns()
    sustained_ids = await closed_loop(flow, "max", plan.window, plan.sustain)
    cpu_max = cpu.stop()
    lost_max = await drain(tracker, sustained_ids, plan.quiet)
    check_orders(tracker, sustained_ids, lost_max, "sustained", out)
    end = start + int(plan.sustain * 1e9)
    fills = [tracker.orders[i].filled for i in sustained_ids if tracker.orders[i].filled]
    in_window = [t for t in fills if t <= end]
    rate = len(in_window) / plan.sustain
    slices = [
        sum(1 for t in in_window if start + k * 10**10 <= t < start + (k + 1) * 10**10) / 10
        for k in range(max(1, int(plan.sustain // 10)))
    ]
    # No slowdown: the second half of the window kept at least 90% of the first half's
    # rate (a platform that degrades as its tables grow fails this; one that warms up does
    # not).
    half = len(slices) // 2
    steady = half == 0 or sum(slices[half:]) / (len(slices) - half) >= 0.9 * (
        sum(slices[:half]) / half
    )
    max_orders = [tracker.orders[i] for i in sustained_ids if tracker.orders[i].filled]
    max_filled = ms([o.filled - o.due for o in max_orders])
    await asyncio.sleep(0.5)
    await client.close()
    if flow.errors:
        out.failures.append(f"{len(flow.errors)} publishes failed, e.g. {flow.errors[0]!r}")
    out.add(
        f"  sustained for {plan.sustain:.0f} s: {rate:8,.0f} orders/s   "
        f"target >= {TARGET_RATE:,.0f}/s [{met(rate >= TARGET_RATE and steady and not lost_max)}]"
        f"   (raw request/reply, one at a time: {1e3 / raw[0]:,.0f}/s)"
    )
    out.add(
        f"    10 s slices: {', '.join(f'{s:,.0f}' for s in slices)} orders/s "
        f"[{'steady' if steady else 'NOT steady'}]; submit -> OrderFilled p50 "
        f"{max_filled[0]:.1f} ms, p99 {max_filled[1]:.1f} ms with {plan.window} in flight"
    )
    out.add(f"    {cpu_max}, lost {len(lost_max)}")
    out.add(f"    sustained = {SUSTAINED.format(window=plan.window)}")


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def on_platform(
    prefix: str,
    work: Callable[[LocalPlatform, Path], Coroutine[Any, Any, None]],
    out: Report,
) -> None:
    """Run ``work`` (given the platform and PostgreSQL's data directory) against risk and
    execution started as ``make run`` starts them, on a fresh nats-server and PostgreSQL in
    a temporary directory, with the bench's instrument and prices seeded; a service that
    dies or exits badly is a failure in ``out``."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        state = Path(tmp)
        # Orders alternate BUY and SELL: the paper account holds the instrument to sell.
        balances = {
            "execution": {"FOXTROT_STARTING_BALANCES": f'{{"{INSTRUMENT.symbol}": "1000"}}'}
        }
        platform = LocalPlatform(
            PlatformConfig(state_dir=state, preferred_ports={}, service_env=balances)
        )
        try:
            platform.start_infrastructure()
            asyncio.run(seed_market(platform.nats_url))
            platform.migrate()
            for service in SERVICES:
                platform.start_service(service)
            platform.wait_ready(120, SERVICES)
            asyncio.run(work(platform, state / "postgres" / "pgdata"))
            for service in SERVICES:
                if not platform.children[service].alive():
                    out.failures.append(f"{service} died; see {platform.log_dir}")
        finally:
            platform.stop()
        for service, code in platform.exit_codes.items():
            if code not in (0, None):
                out.failures.append(f"{service} exited with {code}")


def main() -> int:
    plan = Plan()
    out = Report()
    out.add(
        f"order round trip through risk and execution (persistence on), {os.cpu_count()} cores "
        "shared by nats-server, PostgreSQL, both services and the benchmark"
    )
    on_platform(
        "foxtrot-bench-orders-",
        lambda platform, pgdata: measure(platform, plan, pgdata, out),
        out,
    )
    for failure in out.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if out.failures else 0


if __name__ == "__main__":
    sys.exit(main())
