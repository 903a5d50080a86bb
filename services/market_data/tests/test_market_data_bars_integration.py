"""market_data as a process: replayed real trades come out of JetStream as bars that equal
an independent pandas computation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats
import pandas as pd
import pytest

from foxtrot.common.local.platform import LocalPlatform
from foxtrot.common.testkit.infrastructure import Infrastructure

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

TRADES = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "trades"
    / "tardis_binance-futures_BTCUSDT_trades_2020-02-22.csv"
)


async def _bars(url: str, subject: str, expected: int) -> list[dict[str, Any]]:
    client = await nats.connect(url)
    try:
        sub = await client.jetstream().subscribe(
            subject, stream="FOXTROT_MARKET_DATA", ordered_consumer=True
        )
        bars: list[dict[str, Any]] = []
        deadline = asyncio.get_running_loop().time() + 60
        while len(bars) < expected and asyncio.get_running_loop().time() < deadline:
            try:
                bars.append(json.loads((await sub.next_msg(timeout=5)).data))
            except TimeoutError:
                continue
        await sub.unsubscribe()
        return bars
    finally:
        await client.close()


@pytest.mark.skipif(not TRADES.exists(), reason="shared/data is not beside the repo")
async def test_replayed_trades_are_published_as_bars_equal_to_pandas(
    platform_factory: Callable[..., LocalPlatform], infrastructure: Infrastructure
) -> None:
    platform = platform_factory(
        replay_source=str(TRADES),
        replay_speed=0.0,
        service_env={"market_data": {"FOXTROT_BAR_SPECS": "1m,100t"}},
    )
    platform.start_infrastructure()
    platform.migrate()
    platform.start_service("market_data")
    await asyncio.to_thread(platform.wait_ready, 60.0, ("market_data",))

    df = pd.read_csv(TRADES)
    df.index = pd.to_datetime(df["timestamp"], unit="us", utc=True)
    minutes = df.resample("1min", label="left", closed="left")
    expected = minutes["price"].ohlc()
    expected["volume"] = minutes["amount"].sum()
    expected["count"] = minutes["price"].count()

    prefix = "md.v1.bar.BINANCE-FUTURES.BTCUSDT"
    bars = await _bars(infrastructure.nats_url, f"{prefix}.1m", len(expected))
    assert len(bars) == len(expected)
    for bar, (start, row) in zip(bars, expected.iterrows(), strict=True):
        assert bar["ts_open"] == start.value
        assert [float(bar[k]) for k in ("open", "high", "low", "close")] == [
            row["open"],
            row["high"],
            row["low"],
            row["close"],
        ]
        assert float(bar["volume"]) == pytest.approx(row["volume"], rel=1e-12)
        assert bar["trade_count"] == row["count"]

    ticks = await _bars(infrastructure.nats_url, f"{prefix}.100t", len(df) // 100)
    assert len(ticks) == len(df) // 100
    assert all(b["trade_count"] == 100 for b in ticks)
    assert float(ticks[0]["open"]) == df["price"].iloc[0]
    assert float(ticks[-1]["close"]) == df["price"].iloc[len(df) // 100 * 100 - 1]
