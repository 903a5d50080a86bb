"""The risk gate end to end: the kill switch through the gateway and through NATS, kept
across a restart; a live loss limit breached within a second; decisions queryable; and
no way around risk to execution."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import nats
import pytest

from foxtrot.common import subjects
from foxtrot.common.local.platform import LocalPlatform
from foxtrot.common.messages.v1 import QuoteTick, SetTradingState, SubmitOrder
from foxtrot.common.streams import COMMANDS, MARKET_DATA
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.schemas import drop_schema
from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.core.identifiers import InstrumentId

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

BTC = InstrumentId("BTCUSDT", "BINANCE")  # defined in deploy/instruments.json
SERVICES = ("risk", "execution", "gateway")
OPERATOR = {"X-Foxtrot-Operator": "e2e-ops"}
BYPASS = "foxtrot-e2e-bypass-attempt"


@pytest.fixture(scope="module")
async def platform(
    platform_factory: Callable[..., LocalPlatform], infrastructure: Infrastructure
) -> AsyncIterator[LocalPlatform]:
    running = platform_factory(
        replay_source="",
        service_env={
            "execution": {"FOXTROT_STARTING_BALANCES": '{"USDT": "1000000", "BTC": "10"}'},
        },
    )
    running.start_infrastructure()
    running.migrate()
    await _quote(infrastructure.nats_url, "30000.00", "30000.10")
    # market_data announces deploy/instruments.json's definitions, then stays quiet.
    for service in ("market_data", *SERVICES):
        running.start_service(service)
    await asyncio.to_thread(running.wait_ready, 120.0, ("market_data", *SERVICES))
    yield running
    await asyncio.to_thread(running.stop)
    # The session's database is shared: leave no orders or positions to other modules.
    for schema in ("risk", "execution"):
        await drop_schema(infrastructure.database_url, schema)


async def _quote(nats_url: str, bid: str, ask: str) -> int:
    client = await nats.connect(nats_url)
    try:
        now = time.time_ns()
        quote = QuoteTick(
            instrument_id=str(BTC),
            bid_price=Decimal(bid),
            ask_price=Decimal(ask),
            bid_size=Decimal(1000),
            ask_size=Decimal(1000),
            ts_event=now,
            ts_init=now,
        )
        await client.jetstream().publish(
            subjects.quote(BTC), quote.to_json(), stream=MARKET_DATA.name
        )
        return now
    finally:
        await client.close()


async def _until(probe: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _order(api: httpx.AsyncClient, cid: str, side: str = "BUY", **extra: str) -> None:
    body = {"instrument_id": str(BTC), "side": side, "quantity": "0.1", "client_order_id": cid}
    response = await api.post("/v1/orders", json=body | extra)
    assert response.status_code == 202, response.text


async def _decision(api: httpx.AsyncClient, cid: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        reply = await api.get("/v1/risk/decisions", params={"client_order_id": cid})
        decisions = reply.json() if reply.status_code == 200 else []
        return decisions[0] if decisions else None

    result: dict[str, Any] = await _until(found, what=f"risk's decision on {cid}")
    return result


async def _status(api: httpx.AsyncClient, cid: str) -> str | None:
    listed = (await api.get("/v1/orders", params={"strategy_id": "manual"})).json()
    return next((o["status"] for o in listed if o["client_order_id"] == cid), None)


async def test_the_kill_switch_halts_new_orders_but_not_cancels_and_survives_a_restart(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        await _until(lambda: _ready(api), what="risk to know execution's state")
        await _order(api, "resting-1", order_type="LIMIT", price="20000.00")
        await _until(lambda: _is(api, "resting-1", "ACCEPTED"), what="the resting order")

        halt = {"scope": "STRATEGY", "key": "manual", "state": "HALTED", "reason": "e2e drill"}
        response = await api.post("/v1/risk/trading-state", json=halt, headers=OPERATOR)
        assert response.status_code == 202, response.text
        await _until(lambda: _halted(api), what="the halt")

        await _order(api, "halted-1")
        decision = await _decision(api, "halted-1")
        assert (decision["approved"], decision["code"]) == (False, "TRADING_HALTED")
        assert "e2e drill" in decision["reason"]
        assert (await api.delete("/v1/orders/resting-1")).status_code == 202
        await _until(lambda: _is(api, "resting-1", "CANCELED"), what="the cancel")

        # A restart of risk keeps the state.
        platform.children["risk"].stop()
        platform.start_service("risk")
        await asyncio.to_thread(platform.wait_ready, 60.0, ("risk",))
        assert await _halted(api)
        await _order(api, "halted-2")
        assert (await _decision(api, "halted-2"))["code"] == "TRADING_HALTED"

        # Back to ACTIVE through NATS, as a tool would, and orders pass again.
        client = await nats.connect(infrastructure.nats_url)
        try:
            now = time.time_ns()
            command = SetTradingState(
                scope=RiskScope.STRATEGY,
                key="manual",
                state=TradingState.ACTIVE,
                reason="drill over",
                requested_by="nats-cli",
                ts_event=now,
                ts_init=now,
            )
            await client.jetstream().publish(
                subjects.RISK_SET_TRADING_STATE, command.to_json(), stream=COMMANDS.name
            )
        finally:
            await client.close()
        await _until(lambda: _active(api), what="the switch back")
        await _order(api, "after-1")
        assert (await _decision(api, "after-1"))["approved"] is True


async def test_a_daily_loss_beyond_the_limit_is_caught_within_a_second(
    platform: LocalPlatform, infrastructure: Infrastructure
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        await _until(lambda: _ready(api), what="risk to know execution's state")
        limits = {
            "changes": {"daily_loss_limit": "50", "breach_action": "REDUCING"},
            "reason": "e2e",
        }
        response = await api.patch("/v1/risk/limits", json=limits, headers=OPERATOR)
        assert response.status_code == 202, response.text

        async def limit_set() -> bool:
            limits: dict[str, str | None] = (await api.get("/v1/risk/limits")).json()
            return limits["daily_loss_limit"] == "50"

        await _until(limit_set, what="the new limit")
        changes = (
            await api.get("/v1/risk/limit-changes", params={"name": "daily_loss_limit"})
        ).json()
        assert (changes[0]["new_value"], changes[0]["changed_by"]) == ("50", "e2e-ops")

        await _order(api, "long-1", quantity="1")
        await _until(lambda: _is(api, "long-1", "FILLED"), what="the buy to fill")
        client = await nats.connect(infrastructure.nats_url)
        breaches = await client.subscribe("evt.v1.risk.>")
        try:
            sent = await _quote(infrastructure.nats_url, "29900.00", "29900.10")  # -100 a BTC
            deadline = time.monotonic() + 5
            breach: dict[str, Any] = {}
            while breach.get("type") != "LimitBreached":
                message = await breaches.next_msg(timeout=deadline - time.monotonic())
                breach = json.loads(message.data)
            seen = time.time_ns()
        finally:
            await client.close()
        assert breach["limit"] == "daily_loss_limit"
        assert breach["action"] == "REDUCING"
        assert Decimal(breach["value"]) >= 50
        assert breach["ts_cause"] == sent
        assert breach["ts_init"] - sent < 1_000_000_000, "detected later than 1 s after the quote"
        assert seen - sent < 1_000_000_000, "published later than 1 s after the quote"

        await _order(api, "more-1", quantity="0.1")
        assert (await _decision(api, "more-1"))["code"] == "TRADING_REDUCING"
        await _order(api, "less-1", side="SELL", quantity="0.1")
        assert (await _decision(api, "less-1"))["approved"] is True


@pytest.mark.parametrize("user", ["gateway", "strategy"])
async def test_an_order_sent_straight_to_execution_is_refused_and_never_fills(
    platform: LocalPlatform, infrastructure: Infrastructure, user: str
) -> None:
    if infrastructure.nats_url_for is None:
        pytest.skip("needs the test kit's NATS server, with a NATS user per service")
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    client = await nats.connect(
        infrastructure.service_nats_url(user),
        error_cb=on_error,
        inbox_prefix=f"_INBOX.{user}",
        name=BYPASS,  # the violation it causes is expected: tests that look for none skip it
    )
    cid = f"bypass-{user}-{uuid.uuid4().hex[:6]}"
    try:
        now = time.time_ns()
        order = SubmitOrder(
            client_order_id=cid,
            strategy_id="manual",
            account_id="SIM-001",
            instrument_id=str(BTC),
            side="BUY",
            order_type="MARKET",
            quantity=Decimal("0.1"),
            ts_event=now,
            ts_init=now,
        )
        await client.publish(subjects.EXEC_SUBMIT_ORDER, order.to_json())
        await client.flush()
        await _until(lambda: _true(bool(errors)), timeout=5, what="the permissions violation")
    finally:
        await client.close()
    assert "permissions violation" in str(errors[0]).lower()
    assert subjects.EXEC_SUBMIT_ORDER in str(errors[0])
    await asyncio.sleep(2)  # would execution have booked it, it would have by now
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=10) as api:
        assert await _status(api, cid) is None


async def _true(value: bool) -> bool:
    return value


async def _ready(api: httpx.AsyncClient) -> bool:
    reply = await api.get("/v1/risk/status")
    return reply.status_code == 200 and reply.json()["known"] is True


async def _is(api: httpx.AsyncClient, cid: str, status: str) -> bool:
    return await _status(api, cid) == status


async def _halted(api: httpx.AsyncClient) -> bool:
    states = (await api.get("/v1/risk/trading-states")).json()
    return any(s["key"] == "manual" and s["state"] == "HALTED" for s in states)


async def _active(api: httpx.AsyncClient) -> bool:
    return not await _halted(api)
