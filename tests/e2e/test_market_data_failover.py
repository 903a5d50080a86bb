"""Scale-out: three market_data replicas share the ingest partitions; one is killed with
SIGKILL (or stopped with SIGTERM, handing its partitions over) in the middle of a replay,
and every instrument's bars still come out complete and exactly once, equal to an
independent pandas computation of the same trades.

The test runs its own nats-server (the wheel's, with the ingest partition mappings that
``make nats-config`` renders and one NATS user per service), so it does not depend on how
the shared test server is configured.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pandas as pd
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from foxtrot.common.local.embedded import EmbeddedNats
from foxtrot.common.local.processes import Child, free_port, wait_for_port
from foxtrot.common.subjects import INGEST_PARTITIONS, ingest_partition_of

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TRADES = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "trades"
    / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
)
VENUE = "REPLAY"
SYMBOLS = [f"BTC{i}" for i in range(8)]  # the same real trades under 8 instruments
RATE = 8_000  # ticks per second, all instruments together: a replay of ~10 s
MINUTE = 60_000_000_000


@pytest.fixture
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("failover-nats")).start()
    yield server
    server.stop()


def trades() -> pd.DataFrame:
    """The real file's 9,999 trades in time order (ties kept in file order): 2 hours."""
    frame = pd.read_csv(TRADES)
    frame["ts"] = frame["timestamp"].astype("int64") * 1_000
    return frame.sort_values("ts", kind="stable").reset_index(drop=True)


def expected_bars(frame: pd.DataFrame) -> dict[int, tuple[str, ...]]:
    """1-minute OHLCV and trade count by bar end, from pandas; a minute without trades is
    a flat bar at the previous close with no volume (the carry-forward policy)."""
    data = pd.DataFrame(
        {
            "price": frame["price"].astype(float).to_numpy(),
            "size": frame["amount"].astype(float).to_numpy(),
        },
        index=pd.to_datetime(frame["ts"], unit="ns"),
    )
    grouped = data.resample("1min")
    table = pd.DataFrame(
        {
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["size"].sum().round(8),
            "count": grouped["price"].count(),
        }
    )
    empty = table["count"] == 0
    carried = table["close"].ffill()
    for column in ("open", "high", "low", "close"):
        table.loc[empty, column] = carried[empty]
    out: dict[int, tuple[str, ...]] = {}
    for start, row in table.iterrows():
        end = int(start.value) + MINUTE
        out[end] = (
            repr(float(row["open"])),
            repr(float(row["high"])),
            repr(float(row["low"])),
            repr(float(row["close"])),
            f"{row['volume']:.8f}",
            str(int(row["count"])),
        )
    return out


def replica(name: str, server: EmbeddedNats, workdir: Path) -> tuple[Child, int]:
    port = free_port()
    env = {
        **os.environ,
        "NATS_URL": server.url("market_data"),
        "FOXTROT_HTTP_PORT": str(port),
        "FOXTROT_REPLICA_NAME": name,
        "FOXTROT_BAR_SPECS": "1m",
        "FOXTROT_BAR_IDLE_CLOSE": "5",
        "FOXTROT_LOG_LEVEL": "INFO",
        "FOXTROT_REPLAY_SOURCE": "",
        "OTEL_TRACES_EXPORTER": "none",
    }
    env.pop("DATABASE_URL", None)
    child = Child(
        name,
        [sys.executable, "-m", "foxtrot.market_data"],
        env=env,
        log_path=workdir / f"{name}.log",
    )
    return child, port


async def owners(js: nats.js.JetStreamContext) -> dict[int, str]:
    kv = await js.key_value("FOXTROT_MD_LEASES")
    found = {}
    for partition in range(INGEST_PARTITIONS):
        try:
            entry = await kv.get(f"p.{partition}")
        except Exception:
            continue
        if entry.value:
            found[partition] = entry.value.decode()
    return found


handover_time: list[float] = [0.0]


async def settled(js: nats.js.JetStreamContext, names: list[str], timeout: float) -> dict[int, str]:
    """Wait until every partition is held, each by one of ``names``, and each of them
    holds some; note when (in handover_time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = await owners(js)
        if len(held) == INGEST_PARTITIONS and set(held.values()) == set(names):
            handover_time[0] = time.monotonic()
            return held
        await asyncio.sleep(0.2)
    raise AssertionError(f"partitions never settled among {names}: {await owners(js)}")


async def published_bars(js: nats.js.JetStreamContext) -> list[dict[str, Any]]:
    sub = await js.subscribe(
        "md.v1.bar.>",
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    bars: list[dict[str, Any]] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                return bars
            bars.append(json.loads(msg.data))
    finally:
        await sub.unsubscribe()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_stopping_a_replica_mid_replay_loses_and_doubles_no_bar(
    sig: signal.Signals, nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    if not TRADES.exists():
        pytest.skip(f"needs {TRADES}")
    frame = trades()
    expected = expected_bars(frame)
    names = ["replica-a", "replica-b", "replica-c"]
    children = {name: replica(name, nats_server, tmp_path) for name in names}
    admin = await nats.connect(nats_server.url())
    ingest = await nats.connect(nats_server.url("ingest"))
    try:
        for child, port in children.values():
            await asyncio.to_thread(wait_for_port, port, 60, child=child)
        js = admin.jetstream()
        held = await settled(js, names, 30)
        homes = {s: ingest_partition_of(VENUE, s) for s in SYMBOLS}
        # Kill the replica that aggregates the most of our instruments.
        victim = max(names, key=lambda n: sum(held[p] == n for p in homes.values()))
        assert any(held[p] == victim for p in homes.values())

        payloads = [
            json.dumps(
                {
                    "price": str(row.price),
                    "size": str(row.amount),
                    "ts_event": int(row.ts),
                    "trade_id": str(row.id),
                    "aggressor_side": "BUYER" if row.side == "buy" else "SELLER",
                }
            ).encode()
            for row in frame.itertuples()
        ]
        survivors = [n for n in names if n != victim]
        killed_at = len(payloads) // 3
        handover: asyncio.Task[dict[int, str]] | None = None
        started = time.monotonic()
        for i, payload in enumerate(payloads):
            for symbol in SYMBOLS:
                await ingest.publish(f"md.v1.ingest.trade.{VENUE}.{symbol}", payload)
            if i == killed_at:
                os.kill(children[victim][0].pid, sig)
                kill_time = time.monotonic()
                handover = asyncio.create_task(settled(js, survivors, 30))
            due = started + (i + 1) * len(SYMBOLS) / RATE
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
        await ingest.flush()
        assert handover is not None
        await handover
        moved = handover_time[0] - kill_time
        print(f"replay took {time.monotonic() - started:.1f}s; partitions moved to survivors")
        print(f"within {moved:.1f}s of the {sig.name} (lease TTL 3s)")
        assert moved < 10

        # Wait for the last bars: the replayed feeds close them after 5 s of silence.
        want = len(expected) * len(SYMBOLS)
        deadline = time.monotonic() + 60
        while True:
            bars = await published_bars(js)
            if len(bars) >= want or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)

        for symbol in SYMBOLS:
            mine = [b for b in bars if b["instrument_id"] == f"{symbol}.{VENUE}"]
            ends = [b["ts_event"] for b in mine]
            assert len(ends) == len(set(ends)), f"{symbol}: a bar published twice"
            got = {
                b["ts_event"]: (
                    repr(float(b["open"])),
                    repr(float(b["high"])),
                    repr(float(b["low"])),
                    repr(float(b["close"])),
                    f"{float(b['volume']):.8f}",
                    str(b["trade_count"]),
                )
                for b in mine
            }
            wrong = {
                end: (got.get(end), want_bar)
                for end, want_bar in expected.items()
                if got.get(end) != want_bar
            }
            extra = sorted(set(got) - set(expected))
            assert not wrong, f"{symbol}: (got, pandas) {wrong}"
            assert not extra, f"{symbol}: bars pandas has not: {extra}"
        assert len(bars) == want
    finally:
        for child, _ in children.values():
            if child.alive():
                child.stop()
        await ingest.close()
        await admin.close()
