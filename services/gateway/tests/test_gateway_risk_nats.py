"""``/v1/risk`` on real NATS JetStream: the gateway, connected as its own NATS user, asks a
stand-in for risk over request/reply and lands its commands in the COMMANDS stream."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from foxtrot.common.messages.v1 import (
    DecisionsQuery,
    SetRiskLimits,
    SetTradingState,
    TradingStatesQuery,
)
from foxtrot.common.streams import COMMANDS
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.gateway.app import create_app
from foxtrot.gateway.config import GatewaySettings

pytestmark = pytest.mark.integration

OPERATOR = {"X-Foxtrot-Operator": "alice"}
STATE_VIEW = {
    "scope": "STRATEGY",
    "key": "sma-cross-1",
    "state": "HALTED",
    "reason": "runaway strategy",
    "changed_by": "alice",
    "ts_changed": 1_700_000_000_000_000_000,
}
# What the stand-in for risk answers on each query subject.
REPLIES: dict[str, dict[str, Any]] = {
    "qry.v1.risk.trading_states": {"type": "TradingStatesReply", "states": [STATE_VIEW]},
    "qry.v1.risk.limits": {"type": "LimitsReply", "limits": {"max_position": "1"}},
    "qry.v1.risk.limit_changes": {"type": "LimitChangesReply", "changes": []},
    "qry.v1.risk.decisions": {"type": "QueryFailed", "error": "query failed: db down"},
    "qry.v1.risk.status": {"type": "RiskStatusReply", "known": False, "scopes": []},
}


@pytest.fixture(scope="module")
async def api(infrastructure: Infrastructure) -> AsyncIterator[httpx.AsyncClient]:
    """The real gateway app, its lifespan run: connected to NATS as the gateway user."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    settings = GatewaySettings(
        nats_url=infrastructure.service_nats_url("gateway"), query_timeout_s=1.0
    )
    app = create_app(settings)
    root.handlers[:], root.level = handlers, level  # create_app configures JSON logging
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture
async def risk(nats_client: NatsClient) -> AsyncIterator[list[Msg]]:
    """A stand-in for risk's query responder; the queries it got, in order."""
    asked: list[Msg] = []

    async def answer(msg: Msg) -> None:
        asked.append(msg)
        await msg.respond(json.dumps(REPLIES[msg.subject]).encode())

    subscription = await nats_client.subscribe("qry.v1.risk.*", cb=answer)
    await nats_client.flush()
    yield asked
    await subscription.unsubscribe()


async def stored_command(nats_client: NatsClient, subject: str, message_id: str) -> Msg:
    """The command the COMMANDS stream holds on ``subject`` under ``message_id``."""
    js = nats_client.jetstream()
    subscription = await js.subscribe(subject, stream=COMMANDS.name, ordered_consumer=True)
    try:
        async with asyncio.timeout(5):
            while True:
                msg = await subscription.next_msg(timeout=5)
                if (msg.headers or {}).get("Nats-Msg-Id") == message_id:
                    return msg
    finally:
        await subscription.unsubscribe()


async def test_a_trading_state_change_lands_in_the_commands_stream_with_the_operator(
    api: httpx.AsyncClient, nats_client: NatsClient
) -> None:
    body = {"scope": "STRATEGY", "key": "sma-cross-1", "state": "HALTED", "reason": "runaway"}

    response = await api.post("/v1/risk/trading-state", json=body, headers=OPERATOR)

    assert response.status_code == 202, response.text
    message_id = response.json()["message_id"]
    stored = await stored_command(nats_client, "cmd.v1.risk.set_trading_state", message_id)
    command = SetTradingState.from_json(stored.data)
    assert str(command.message_id) == message_id
    assert command.requested_by == "alice"
    assert (command.key, command.state) == ("sma-cross-1", "HALTED")


async def test_a_limits_change_lands_in_the_commands_stream_with_the_operator(
    api: httpx.AsyncClient, nats_client: NatsClient
) -> None:
    body = {"changes": {"max_position": "2.5", "daily_loss_limit": None}, "reason": "event"}

    response = await api.patch("/v1/risk/limits", json=body, headers={"X-Foxtrot-Operator": "bob"})

    assert response.status_code == 202, response.text
    message_id = response.json()["message_id"]
    stored = await stored_command(nats_client, "cmd.v1.risk.set_limits", message_id)
    command = SetRiskLimits.from_json(stored.data)
    assert command.changes == {"max_position": "2.5", "daily_loss_limit": None}
    assert command.requested_by == "bob"


async def test_risk_queries_go_over_nats_request_reply(
    api: httpx.AsyncClient, risk: list[Msg]
) -> None:
    states = await api.get("/v1/risk/trading-states")
    limits = await api.get("/v1/risk/limits")
    changes = await api.get("/v1/risk/limit-changes")
    status = await api.get("/v1/risk/status")

    assert states.status_code == 200
    assert states.json() == [STATE_VIEW]
    assert limits.json() == {"max_position": "1"}
    assert changes.json() == []
    assert status.json() == {"type": "RiskStatusReply", "known": False, "scopes": []}
    assert [m.subject for m in risk] == [
        "qry.v1.risk.trading_states",
        "qry.v1.risk.limits",
        "qry.v1.risk.limit_changes",
        "qry.v1.risk.status",
    ]
    assert TradingStatesQuery.model_validate_json(risk[0].data) == TradingStatesQuery()


async def test_a_failed_decisions_query_is_502_with_risks_error(
    api: httpx.AsyncClient, risk: list[Msg]
) -> None:
    response = await api.get("/v1/risk/decisions", params={"denied_only": True, "limit": 3})

    assert response.status_code == 502
    assert response.json()["detail"] == "query failed: db down"
    (asked,) = risk
    assert DecisionsQuery.model_validate_json(asked.data) == DecisionsQuery(
        denied_only=True, limit=3
    )


async def test_a_risk_query_is_503_when_risk_is_not_running(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/risk/status")

    assert response.status_code == 503
    assert "qry.v1.risk.status" in response.json()["detail"]
