"""Market data throughput: ticks per second through one market_data replica (ingest,
validate, normalise, aggregate, publish) beside raw nats-py publish/subscribe of the same
payloads, measured in the same run on the same NATS server: with one ingest message a
trade, trades out in batches (the default) and with the per-tick subjects on as well; then
with the trades sent in batches of 100 (IngestTrades on md.v1.ingest.trades.*), beside raw
pub/sub of those batches too.

    make bench            # or: .venv/bin/python tests/bench/bench_market_data.py [N]

Targets (issue 3): at least 50% of the raw figure and at least 50,000 ticks/s per replica.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nats
import psutil
from nats.aio.msg import Msg

from foxtrot.common.local.embedded import EmbeddedNats
from foxtrot.common.local.processes import Child, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
TRADES = (
    ROOT.parent
    / "shared"
    / "data"
    / "trades"
    / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
)
INGEST = "md.v1.ingest.trade.BINANCE-FUTURES.BTCUSDT"
INGEST_BATCHES = "md.v1.ingest.trades.BINANCE-FUTURES.BTCUSDT"
INGEST_BATCH = 100  # trades per IngestTrades message
BATCHES = "md.v1.trades.BINANCE-FUTURES.BTCUSDT"
TICKS = "md.v1.trade.BINANCE-FUTURES.BTCUSDT"


def trades(count: int) -> list[dict[str, object]]:
    """``count`` plain-JSON trades from the real Tardis file, in time order: past its end the
    file plays again, a file's length later, with fresh trade ids."""
    with TRADES.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    first, last = int(rows[0]["timestamp"]), int(rows[-1]["timestamp"])
    span_us = last - first + 1_000
    out = []
    for i in range(count):
        lap, row = divmod(i, len(rows))
        out.append(
            {
                "price": rows[row]["price"],
                "size": rows[row]["amount"],
                "ts_event": (int(rows[row]["timestamp"]) + lap * span_us) * 1000,
                "trade_id": f"b{i}",
                "aggressor_side": "BUYER" if rows[row]["side"] == "buy" else "SELLER",
            }
        )
    return out


def one_a_message(rows: list[dict[str, object]]) -> list[bytes]:
    """An IngestTrade message a trade (md.v1.ingest.trade.*)."""
    return [json.dumps(row).encode() for row in rows]


def in_batches(rows: list[dict[str, object]]) -> list[bytes]:
    """IngestTrades messages of INGEST_BATCH trades each (md.v1.ingest.trades.*)."""
    return [
        json.dumps({"trades": rows[i : i + INGEST_BATCH]}).encode()
        for i in range(0, len(rows), INGEST_BATCH)
    ]


async def raw_baseline(url: str, data: list[bytes], per_message: int = 1) -> float:
    """Core NATS publish, subscribe and json.loads of the same payloads, in one process:
    trades a second (``per_message`` in each)."""
    sub_client, pub_client = await nats.connect(url), await nats.connect(url)
    done = asyncio.Event()
    seen = 0

    async def on_message(msg: Msg) -> None:
        nonlocal seen
        json.loads(msg.data)
        seen += 1
        if seen == len(data):
            done.set()

    await sub_client.subscribe(
        "bench.raw", cb=on_message, pending_msgs_limit=-1, pending_bytes_limit=-1
    )
    await sub_client.flush()
    start = time.perf_counter()
    for payload in data:
        await pub_client.publish("bench.raw", payload)
    await pub_client.flush()
    await asyncio.wait_for(done.wait(), 300)
    elapsed = time.perf_counter() - start
    await sub_client.close()
    await pub_client.close()
    return len(data) * per_message / elapsed


async def through_market_data(
    url: str, data: list[bytes], count: int, per_tick: bool, batched: bool
) -> float:
    """Publish to md.v1.ingest.* (``batched``: IngestTrades), count the ``count`` trades
    market_data publishes: in its batches on md.v1.trades.*, or with ``per_tick`` one
    message a trade on md.v1.trade.*."""
    client = await nats.connect(url)
    done = asyncio.Event()
    seen = 0

    async def on_batch(msg: Msg) -> None:
        nonlocal seen
        seen += len(json.loads(msg.data)["trades"])
        if seen >= count:
            done.set()

    async def on_tick(msg: Msg) -> None:
        nonlocal seen
        json.loads(msg.data)
        seen += 1
        if seen >= count:
            done.set()

    subject, callback = (TICKS, on_tick) if per_tick else (BATCHES, on_batch)
    await client.subscribe(subject, cb=callback, pending_msgs_limit=-1, pending_bytes_limit=-1)
    await client.flush()
    start = time.perf_counter()
    ingest = INGEST_BATCHES if batched else INGEST
    for payload in data:
        await client.publish(ingest, payload)
    await client.flush()
    try:
        await asyncio.wait_for(done.wait(), 600)
    finally:
        elapsed = time.perf_counter() - start
        await client.close()
    return seen / elapsed


@dataclass(frozen=True)
class Run:
    """One measurement: raw pub/sub of one trade a message (and of the batches sent, when
    batched), then ticks/s through a fresh replica and its CPU per tick."""

    raw: float
    raw_batches: float | None
    ticks: float
    cpu_per_tick: float


def measure(rows: list[dict[str, object]], per_tick: bool, batched: bool) -> Run:
    """On a fresh nats-server and replica."""
    single = one_a_message(rows)
    data = in_batches(rows) if batched else single
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", with_auth=False).start()
        url = server.url()
        port = free_port()
        env = {
            **os.environ,
            "NATS_URL": url,
            "FOXTROT_HTTP_PORT": str(port),
            "FOXTROT_BAR_SPECS": "1m",
            "FOXTROT_LOG_LEVEL": "WARNING",
            "FOXTROT_TICK_SUBJECTS": "*" if per_tick else "",
        }
        env.pop("DATABASE_URL", None)
        service = Child(
            "market_data",
            [sys.executable, "-m", "foxtrot.market_data"],
            env=env,
            log_path=Path(os.environ.get("FOXTROT_BENCH_LOG", Path(tmp) / "market_data.log")),
        )
        try:
            wait_for_port(port, 60, child=service)
            raw = asyncio.run(raw_baseline(url, single))
            raw_batches = asyncio.run(raw_baseline(url, data, INGEST_BATCH)) if batched else None
            replica = psutil.Process(service.pid)
            before = replica.cpu_times()
            ticks = asyncio.run(through_market_data(url, data, len(rows), per_tick, batched))
            after = replica.cpu_times()
            cpu = (after.user + after.system) - (before.user + before.system)
        finally:
            service.stop()
            server.stop()
    return Run(raw, raw_batches, ticks, cpu / len(rows))


def main(count: int) -> None:
    if not TRADES.exists():
        sys.exit(f"needs {TRADES}")
    rows = trades(count)
    print(f"market data throughput, {count:,} real BTCUSDT trades, one replica, 2 cores")
    for per_tick, batched in ((False, False), (True, False), (False, True)):
        run = measure(rows, per_tick, batched)
        ratio = run.ticks / run.raw
        source = f"in: IngestTrades of {INGEST_BATCH}" if batched else "in: one IngestTrade a trade"
        out = "per-tick subjects too (FOXTROT_TICK_SUBJECTS=*)" if per_tick else "trade batches"
        print(f"  {source}; out: {out}")
        print(
            f"    raw nats-py pub/sub + json.loads : {run.raw:>10,.0f} msg/s   "
            "(one trade a message; baseline, same run)"
        )
        if run.raw_batches is not None:
            print(
                f"    raw pub/sub of the same batches  : {run.raw_batches:>10,.0f} trades/s "
                f"(market_data gets {run.ticks / run.raw_batches:.1%} of it)"
            )
        print(
            f"    through market_data              : {run.ticks:>10,.0f} ticks/s "
            f"({ratio:.1%} of raw)"
        )
        print(
            f"    market_data CPU per tick         : {run.cpu_per_tick * 1e6:>10.1f} us      "
            "(validate, check, 1m bars, quality, publish)"
        )
        if not per_tick:
            print(
                f"    targets: >= 50% of raw [{'met' if ratio >= 0.5 else 'NOT met'}], "
                f">= 50,000 ticks/s [{'met' if run.ticks >= 50_000 else 'NOT met'}]"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
