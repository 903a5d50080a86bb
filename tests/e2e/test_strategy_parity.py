"""Parity: the same strategy on the same bars gives the same orders and fills in the
backtester as through the live services replaying those bars.

The live side is the whole platform as separate processes: market_data replays the FTX
bars, the strategy service runs SmaCross, risk judges its orders and execution fills them
on its simulated venue. The backtest side is ``foxtrot.backtest.runner.run_backtest`` on
the same file, with the venue, account, instrument rules and risk limits the platform
runs with. The replay is paced (one bar every 0.3 s) so that each order reaches the
venue before the next bar does, as it would in a backtest: an order is sent on a bar's
close and fills at the next bar's open in both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats
import pytest

from foxtrot.backtest.runner import run_backtest
from foxtrot.backtest.spec import BacktestSpec, FileSource, InstrumentSpec, VenueSpec
from foxtrot.common import streams
from foxtrot.common.local.platform import LocalPlatform
from foxtrot.common.market_files.formats import read_records
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.core.identifiers import InstrumentId

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
BARS = (
    ROOT.parent
    / "shared"
    / "data"
    / "bars"
    / "intraday"
    / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
)
INSTRUMENT = "BTC-PERP.FTX"
STRATEGY_ID = "sma-cross-1"
REPLAYED = 200  # bars; with SMA 3/8 about twenty-five orders
SPEED = 200.0  # one 1-minute bar every 0.3 s
LIMITS = {"max_order_quantity": "10", "max_order_notional": "100000"}


@pytest.fixture(scope="module")
async def platform(
    platform_factory: Callable[..., LocalPlatform],
) -> AsyncIterator[LocalPlatform]:
    if not BARS.exists():
        pytest.skip(f"no shared data at {BARS}")
    running = platform_factory(
        replay_source=str(BARS),
        replay_speed=SPEED,
        replay_limit=REPLAYED,
        service_env={
            "risk": {f"FOXTROT_{k.upper()}": v for k, v in LIMITS.items()},
            "market_data": {"FOXTROT_REPLAY_INSTRUMENT_ID": INSTRUMENT},
            "strategy": {"FOXTROT_FAST_PERIOD": "3", "FOXTROT_SLOW_PERIOD": "8"},
        },
    )
    await asyncio.to_thread(running.start, 120.0)
    yield running
    await asyncio.to_thread(running.stop)


async def _quiet(js: Any) -> bool:
    """True once the whole replay is in its stream and no consumer has work left."""
    if (await js.stream_info(streams.MARKET_DATA.name)).state.messages < REPLAYED:
        return False
    for stream in (streams.MARKET_DATA.name, streams.COMMANDS.name, streams.EVENTS.name):
        for info in await js.consumers_info(stream):
            if info.num_pending or info.num_ack_pending:
                return False
    return True


async def _live_order_events(nats_url: str) -> list[dict[str, Any]]:
    """Every event of the strategy's orders, in stream order, once the platform is quiet."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        deadline = asyncio.get_running_loop().time() + REPLAYED / 60 * 60 / SPEED + 90
        quiet_twice = 0
        while quiet_twice < 2:  # quiet on two looks a second apart: nothing is in flight
            assert asyncio.get_running_loop().time() < deadline, "the platform did not settle"
            quiet_twice = quiet_twice + 1 if await _quiet(js) else 0
            await asyncio.sleep(1.0)
        subject = f"evt.v1.order.{STRATEGY_ID}"
        sub = await js.pull_subscribe(subject, stream=streams.EVENTS.name)
        events: list[dict[str, Any]] = []
        while True:
            try:
                batch = await sub.fetch(500, timeout=2)
            except TimeoutError:
                break
            for message in batch:
                events.append(json.loads(message.data))
                await message.ack()
        await sub.unsubscribe()
        return events
    finally:
        await client.close()


def _backtest() -> tuple[dict[str, str], list[tuple[str, ...]]]:
    """The backtest's final order statuses and its fills, on the bars the platform replayed."""
    rules = next(
        r
        for r in json.loads((ROOT / "deploy" / "instruments.json").read_text())
        if r["instrument_id"] == INSTRUMENT
    )
    records = read_records(BARS, "bars_csv", InstrumentId.parse(INSTRUMENT), "1m")
    end = next(r.ts_init for i, r in enumerate(records) if i == REPLAYED)
    spec = BacktestSpec(
        strategy="sma_cross",
        config={
            "strategy_id": STRATEGY_ID,
            "account_id": "SIM-001",
            "instrument_id": INSTRUMENT,
            "fast_period": 3,
            "slow_period": 8,
        },
        data=[FileSource(path=str(BARS), instrument_id=INSTRUMENT, bar_spec="1m")],
        instruments=[InstrumentSpec(**rules)],
        venue=VenueSpec(name="SIM", settlement_currency="USD"),
        starting_balances={"USD": Decimal(1_000_000)},
        risk_limits=LIMITS,
        end=end,
    )
    result = run_backtest(spec).result
    statuses = {str(o.client_order_id): o.status.value for o in result.orders}
    return statuses, sorted(
        _fill(f.client_order_id, f.trade_id, f.side.value, f.last_qty, f.last_px, f.commission)
        for f in result.fills
    )


def _fill(*fields: object) -> tuple[str, ...]:
    return tuple(str(Decimal(str(f))) if isinstance(f, Decimal) else str(f) for f in fields)


async def test_the_backtester_and_the_live_services_give_the_same_orders_and_fills(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    events = await _live_order_events(infrastructure.nats_url)
    live_statuses: dict[str, str] = {}
    live_fills = []
    for event in events:
        cid, kind = event["client_order_id"], event["type"]
        if kind == "OrderFilled":
            live_fills.append(
                _fill(
                    cid,
                    event["trade_id"],
                    event["side"],
                    Decimal(event["last_qty"]),
                    Decimal(event["last_px"]),
                    Decimal(event["commission"]),
                )
            )
            live_statuses[cid] = "FILLED"  # market orders fill at once within a bar's volume
        elif kind in ("OrderDenied", "OrderRejected", "OrderCanceled", "OrderExpired"):
            live_statuses[cid] = kind.removeprefix("Order").upper()
        elif kind == "OrderAccepted" and live_statuses.get(cid) in (None, "SUBMITTED"):
            live_statuses[cid] = "ACCEPTED"
        elif kind == "OrderSubmitted":
            live_statuses.setdefault(cid, "SUBMITTED")

    statuses, fills = await asyncio.to_thread(_backtest)
    assert len(fills) >= 15  # the comparison is not vacuous
    assert sorted(live_fills) == fills
    assert live_statuses == statuses
