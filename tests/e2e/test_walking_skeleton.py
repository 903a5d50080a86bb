"""The walking skeleton end to end: five service processes on real NATS and PostgreSQL,
driven through the gateway's HTTP API the way a user would."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.msg import Msg

from foxtrot.common.local.platform import SERVICES, LocalPlatform
from foxtrot.common.testkit.infrastructure import Infrastructure

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

BARS = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "bars"
    / "intraday"
    / "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv"
)
INSTRUMENT = "BTC-PERP.FTX"
REPLAYED = 2000  # bars the platform replays


@pytest.fixture(scope="module")
async def platform(
    platform_factory: Callable[..., LocalPlatform],
) -> AsyncIterator[LocalPlatform]:
    source = str(BARS) if BARS.exists() else "synthetic"
    running = platform_factory(
        replay_source=source,
        replay_speed=0.0,
        replay_limit=REPLAYED,
        service_env={
            "risk": {"FOXTROT_MAX_ORDER_QUANTITY": "10", "FOXTROT_MAX_ORDER_NOTIONAL": "100000"},
            "market_data": {"FOXTROT_REPLAY_INSTRUMENT_ID": INSTRUMENT},
        },
    )
    await asyncio.to_thread(running.start, 120.0)
    yield running
    await asyncio.to_thread(running.stop)


async def _until(probe: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.3)


def _trace_id(message: Msg) -> str:
    """The trace id in a message's W3C traceparent header."""
    assert message.headers is not None
    return message.headers["traceparent"].split("-")[1]


# Every durable consumer on the path of the strategy's orders, by stream.
_ORDER_PATH = {
    "FOXTROT_MARKET_DATA": ("strategy-sma-cross-1-bar-FTX-BTC-PERP-1m",),
    "FOXTROT_COMMANDS": ("risk-submit-order", "execution-submit-order"),
    "FOXTROT_EVENTS": ("strategy-sma-cross-1-orders",),
}


async def _drained(nats_url: str) -> bool:
    """True once the whole replay is in the stream and no consumer on the order path has
    anything left to process: from then on the strategy's orders cannot change."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        if (await js.stream_info("FOXTROT_MARKET_DATA")).state.messages < REPLAYED:
            return False
        for stream, consumers in _ORDER_PATH.items():
            for name in consumers:
                info = await js.consumer_info(stream, name)
                if info.num_pending or info.num_ack_pending:
                    return False
        return True
    finally:
        await client.close()


async def _settled_orders(
    api: httpx.AsyncClient, nats_url: str, strategy_id: str
) -> list[dict[str, Any]]:
    """The strategy's orders once the replay has been fully processed."""

    async def settled() -> list[dict[str, Any]] | None:
        if not await _drained(nats_url):
            return None
        response = await api.get("/v1/orders", params={"strategy_id": strategy_id, "limit": 1000})
        response.raise_for_status()
        current: list[dict[str, Any]] = response.json()
        # Market orders fill at the next bar's open, so an order the strategy sent on the
        # replay's last bar waits, ACCEPTED, for a bar that does not come.
        done = (
            len(current) >= 4
            and current[0]["status"] in ("FILLED", "ACCEPTED")
            and all(o["status"] == "FILLED" for o in current[1:])
        )
        return [o for o in current if o["status"] == "FILLED"] if done else None

    result: list[dict[str, Any]] = await _until(settled, what="the strategy's orders to settle")
    return result


async def test_replayed_bars_drive_the_strategy_through_risk_to_filled_orders_and_positions(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        settled = await _settled_orders(api, infrastructure.nats_url, "sma-cross-1")
        orders = list(reversed(settled))
        sides = [o["side"] for o in orders]
        assert sides[0] == "BUY"
        assert all(a != b for a, b in itertools.pairwise(sides)), sides
        assert all(Decimal(o["filled_qty"]) == Decimal("0.01") for o in orders)

        # Realised PnL worked out independently from the filled orders: long-or-flat, so
        # each SELL closes the BUY before it.
        realised = sum(
            (Decimal(sell["avg_px"]) - Decimal(buy["avg_px"])) * Decimal("0.01")
            for buy, sell in zip(orders[::2], orders[1::2], strict=False)
        )
        [position] = (await api.get("/v1/positions", params={"strategy_id": "sma-cross-1"})).json()
        assert Decimal(position["realized_pnl"]) == realised
        expected_qty = Decimal("0.01") if len(orders) % 2 else Decimal(0)
        assert Decimal(position["quantity"]) == expected_qty
        assert position["side"] == ("LONG" if expected_qty else "FLAT")
        fees = sum(Decimal(o["avg_px"]) * Decimal("0.01") * Decimal("0.0004") for o in orders)
        assert Decimal(position["commissions"]) == fees


async def test_a_manual_order_goes_through_risk_and_is_filled(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        settled = await _settled_orders(api, infrastructure.nats_url, "sma-cross-1")
        response = await api.post(
            "/v1/orders",
            json={
                "instrument_id": INSTRUMENT,
                "side": "BUY",
                "quantity": "0.5",
                "client_order_id": "manual-e2e-1",
            },
        )
        assert response.status_code == 202, response.text
        assert response.json()["client_order_id"] == "manual-e2e-1"
        # The replay is over: a market order fills from the next data, so publish a trade
        # the way an external tool would.
        client = await nats.connect(infrastructure.nats_url)
        try:
            trade = {
                "price": settled[0]["avg_px"],
                "size": "1",
                "ts_event": time.time_ns(),
                "trade_id": "e2e-next-trade",
            }
            await client.publish("md.v1.ingest.trade.FTX.BTC-PERP", json.dumps(trade).encode())
            await client.flush()
        finally:
            await client.close()

        async def filled() -> dict[str, Any] | None:
            found = (await api.get("/v1/orders", params={"strategy_id": "manual"})).json()
            return next(
                (
                    o
                    for o in found
                    if o["client_order_id"] == "manual-e2e-1" and o["status"] == "FILLED"
                ),
                None,
            )

        order = await _until(filled, what="the manual order to fill")
        assert Decimal(order["filled_qty"]) == Decimal("0.5")
        [position] = (await api.get("/v1/positions", params={"strategy_id": "manual"})).json()
        assert (position["side"], Decimal(position["quantity"])) == ("LONG", Decimal("0.5"))
        assert Decimal(position["avg_px_open"]) == Decimal(order["avg_px"])


async def test_risk_denies_orders_over_the_quantity_and_notional_limits_with_a_reason_code(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    client = await nats.connect(infrastructure.nats_url)
    denials = await client.subscribe("evt.v1.order.manual")
    commands = await client.subscribe("cmd.v1.risk.submit_order")
    try:
        async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
            await _settled_orders(api, infrastructure.nats_url, "sma-cross-1")
            for cid, quantity in (("too-big", "50"), ("too-rich", "5")):
                response = await api.post(
                    "/v1/orders",
                    json={
                        "instrument_id": INSTRUMENT,
                        "side": "SELL",
                        "quantity": quantity,
                        "client_order_id": cid,
                    },
                )
                assert response.status_code == 202, response.text
            events = [await denials.next_msg(timeout=10) for _ in range(2)]
            ours = {"too-big", "too-rich"}  # the strategy publishes on this subject too
            sent: dict[str, Msg] = {}
            while len(sent) < len(ours):
                msg = await commands.next_msg(timeout=10)
                if (cid := json.loads(msg.data)["client_order_id"]) in ours:
                    sent[cid] = msg
            payloads = {json.loads(m.data)["client_order_id"]: json.loads(m.data) for m in events}
            assert payloads["too-big"]["type"] == "OrderDenied"
            assert payloads["too-big"]["reason_code"] == "MAX_ORDER_QUANTITY"
            assert "at most 10, was 50" in payloads["too-big"]["reason"]
            assert payloads["too-rich"]["reason_code"] == "MAX_ORDER_NOTIONAL"
            # One trace runs from the gateway's command through risk's denial.
            for denial in events:
                command = sent[json.loads(denial.data)["client_order_id"]]
                assert command.headers
                assert denial.headers
                assert _trace_id(command) == _trace_id(denial)
            listed = (await api.get("/v1/orders", params={"strategy_id": "manual"})).json()
            assert not {"too-big", "too-rich"} & {o["client_order_id"] for o in listed}
    finally:
        await client.close()


async def test_a_resting_manual_order_is_modified_through_risk_then_canceled(
    platform: LocalPlatform,
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        created = await api.post(
            "/v1/orders",
            json={
                "instrument_id": INSTRUMENT,
                "side": "BUY",
                "order_type": "LIMIT",
                "quantity": "0.01",
                "price": "1000",  # far below the replay's prices: it rests
                "client_order_id": "rest-1",
            },
        )
        assert created.status_code == 202, created.text

        async def order() -> dict[str, Any]:
            listed = (await api.get("/v1/orders", params={"strategy_id": "manual"})).json()
            return next((o for o in listed if o["client_order_id"] == "rest-1"), {})

        async def status_is(expected: str, **fields: str) -> bool:
            current = await order()
            return current.get("status") == expected and all(
                Decimal(current[k]) == Decimal(v) for k, v in fields.items()
            )

        await _until(lambda: status_is("ACCEPTED"), what="the resting order")
        modified = await api.patch("/v1/orders/rest-1", json={"price": "1100", "quantity": "0.02"})
        assert modified.status_code == 202, modified.text
        await _until(
            lambda: status_is("ACCEPTED", price="1100", quantity="0.02"), what="the modify"
        )
        canceled = await api.delete("/v1/orders/rest-1")
        assert canceled.status_code == 202, canceled.text
        await _until(lambda: status_is("CANCELED"), what="the cancel")
        again = await api.delete("/v1/orders/rest-1")
        assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instrument_id": INSTRUMENT, "side": "BUY", "quantity": 0.1}, "quantity"),
        (
            {"instrument_id": INSTRUMENT, "side": "BUY", "quantity": "1", "order_type": "LIMIT"},
            "price",
        ),
        ({"instrument_id": "BTC-PERP", "side": "BUY", "quantity": "1"}, "instrument_id"),
        ({"instrument_id": INSTRUMENT, "side": "HOLD", "quantity": "1"}, "side"),
        ({"instrument_id": INSTRUMENT, "side": "BUY", "quantity": "-1"}, "quantity"),
        (
            {"instrument_id": INSTRUMENT, "side": "BUY", "quantity": "1", "leverage": 100},
            "leverage",
        ),
    ],
)
async def test_a_bad_order_request_is_refused_with_422_naming_the_field(
    platform: LocalPlatform, body: dict[str, Any], field: str
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        response = await api.post("/v1/orders", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_replayed_bars_are_kept_and_served_by_the_gateway_page_by_page(
    platform: LocalPlatform,
) -> None:
    if not BARS.exists():
        pytest.skip("shared/data is not beside the repo")
    with BARS.open() as handle:
        expected = [line.split(",") for line in handle.read().splitlines()[1:2001]]
    got: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:

        async def all_stored() -> bool:
            got.clear()
            params: dict[str, Any] = {"instrument_id": INSTRUMENT, "spec": "1m", "limit": 700}
            pages = 0
            while True:
                response = await api.get("/v1/bars", params=params)
                response.raise_for_status()
                page = response.json()
                got.extend(page["bars"])
                pages += 1
                if page["next_after_ts"] is None:
                    return len(got) == len(expected) and pages == 3
                params["after_ts"] = page["next_after_ts"]

        await _until(all_stored, what="2000 bars in the history")
        bad = await api.get("/v1/bars", params={"instrument_id": INSTRUMENT, "spec": "1x"})
        assert bad.status_code == 422
    for bar, row in zip(got, expected, strict=True):
        assert [Decimal(bar[k]) for k in ("open", "high", "low", "close", "volume")] == [
            Decimal(v) for v in row[1:6]
        ]
    closes = [bar["ts_event"] for bar in got]
    assert closes == sorted(closes)
    assert len(set(closes)) == len(closes)


# Keep these last in the module: the last one stops the shared platform.
def test_no_service_hit_a_nats_permission_violation(infrastructure: Infrastructure) -> None:
    # Only observable when the test kit runs the server (embedded), with a user per service.
    assert infrastructure.nats_violations() == []


async def test_every_service_serves_health_readiness_and_metrics_and_stops_cleanly(
    platform: LocalPlatform,
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for service in SERVICES:
            base = platform.url(service)
            assert (await http.get(f"{base}/healthz")).json()["status"] == "ok"
            ready = (await http.get(f"{base}/readyz")).json()
            assert ready["status"] == "ready", (service, ready)
            assert ready["checks"]["nats"] == "ok"
            if service == "execution":
                assert ready["checks"]["database"] == "ok"
            metrics = (await http.get(f"{base}/metrics")).text
            assert "process_cpu_seconds_total" in metrics
        metrics = (await http.get(f"{platform.url('risk')}/metrics")).text
        assert "foxtrot_received_messages_total" in metrics
    await asyncio.to_thread(platform.stop)
    assert platform.exit_codes == dict.fromkeys(SERVICES, 0)
    for service in SERVICES:
        log = (platform.log_dir / f"{service}.log").read_text()
        assert f'"msg": "{service} stopped"' in log, service
