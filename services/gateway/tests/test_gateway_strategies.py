"""``/v1/strategies`` and ``/v1/backtests``: control requests to the strategy service, and
its refusals mapped to 404, 409 and 422."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from foxtrot.common import subjects
from foxtrot.common.testkit.broker import StandInBroker
from foxtrot.gateway.app import create_app
from foxtrot.gateway.config import GatewaySettings

OPERATOR = {"X-Foxtrot-Operator": "alice"}
INSTANCE: dict[str, Any] = {
    "strategy_id": "sma-2",
    "strategy": "sma_cross",
    "strategy_path": "foxtrot.core.strategies.sma_cross:SmaCross",
    "config": {"strategy_id": "sma-2", "instrument_id": "BTC-PERP.FTX"},
    "state": "RUNNING",
    "desired_state": "RUNNING",
    "created_at_ns": 1,
    "updated_at_ns": 2,
}
BACKTEST_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
BACKTEST: dict[str, Any] = {
    "backtest_id": str(BACKTEST_ID),
    "strategy": "sma_cross",
    "strategy_id": "bt-1",
    "status": "DONE",
    "spec": {},
    "requested_by": "alice",
    "created_at_ns": 1,
    "has_result": True,
    "has_report": True,
}
SPEC: dict[str, Any] = {
    "strategy": "sma_cross",
    "config": {"strategy_id": "bt-1", "instrument_id": "BTC-PERP.FTX"},
    "data": [{"path": "/data/bars.csv", "instrument_id": "BTC-PERP.FTX"}],
}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    api = create_app(GatewaySettings(query_timeout_s=0.5))
    root.handlers[:], root.level = handlers, level  # create_app configures JSON logging
    return api


def instance_reply(**changes: Any) -> bytes:
    return json.dumps({"type": "StrategyInstanceReply", "instance": INSTANCE | changes}).encode()


def test_creating_an_instance_asks_the_strategy_service_with_the_operator(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.reply = instance_reply()
    body = {"strategy": "sma_cross", "config": INSTANCE["config"]}
    response = client.post("/v1/strategies", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "RUNNING"
    message, subject, _ = broker.requests[-1]
    assert subject == subjects.STRATEGY_START
    sent = json.loads(message)
    assert (sent["strategy_id"], sent["strategy"], sent["requested_by"]) == (
        "sma-2",
        "sma_cross",
        "alice",
    )


@pytest.mark.parametrize(
    ("path", "subject"),
    [
        ("/v1/strategies/sma-2/start", subjects.STRATEGY_START),
        ("/v1/strategies/sma-2/stop", subjects.STRATEGY_STOP),
        ("/v1/strategies/sma-2/reload", subjects.STRATEGY_RELOAD),
        ("/v1/strategies/sma-2/reset", subjects.STRATEGY_RESET),
    ],
)
def test_each_control_goes_to_its_subject_naming_the_instance(
    client: TestClient, broker: StandInBroker, path: str, subject: str
) -> None:
    broker.reply = instance_reply(state="STOPPED")
    response = client.post(path, headers=OPERATOR)
    assert response.status_code == 200, response.text
    message, asked, _ = broker.requests[-1]
    assert asked == subject
    assert json.loads(message)["strategy_id"] == "sma-2"


def test_a_reload_may_carry_a_new_config(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = instance_reply()
    config = INSTANCE["config"] | {"fast_period": 5}
    response = client.post("/v1/strategies/sma-2/reload", json={"config": config}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    assert json.loads(broker.requests[-1][0])["config"]["fast_period"] == 5


@pytest.mark.parametrize(
    ("code", "status"), [("NOT_FOUND", 404), ("INVALID", 422), ("CONFLICT", 409), (None, 502)]
)
def test_refusals_are_the_askers_fault_or_the_services(
    client: TestClient, broker: StandInBroker, code: str | None, status: int
) -> None:
    broker.reply = json.dumps(
        {"type": "QueryFailed", "error": "no such thing", "code": code}
    ).encode()
    response = client.delete("/v1/strategies/sma-2", headers=OPERATOR)
    assert response.status_code == status
    assert response.json()["detail"] == "no such thing"


def test_changes_without_an_operator_or_with_a_bad_body_are_refused_before_nats(
    client: TestClient, broker: StandInBroker
) -> None:
    assert client.post("/v1/strategies/sma-2/stop").status_code == 422
    no_id = client.post(
        "/v1/strategies", json={"strategy": "sma_cross", "config": {}}, headers=OPERATOR
    )
    assert no_id.status_code == 422
    assert "config.strategy_id" in no_id.text
    assert client.post("/v1/strategies/bad.id/stop", headers=OPERATOR).status_code == 422
    assert broker.requests == []


def test_an_unknown_instance_is_404(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = json.dumps({"type": "StrategyInstancesReply", "instances": []}).encode()
    assert client.get("/v1/strategies/nope").status_code == 404


def test_a_backtest_spec_is_validated_and_queued(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = json.dumps(
        {"type": "BacktestReply", "backtest": BACKTEST | {"status": "QUEUED"}}
    ).encode()
    response = client.post("/v1/backtests", json=SPEC, headers=OPERATOR)
    assert response.status_code == 202, response.text
    message, subject, _ = broker.requests[-1]
    assert subject == subjects.STRATEGY_RUN_BACKTEST
    assert json.loads(message)["spec"]["config"]["strategy_id"] == "bt-1"
    bad = client.post("/v1/backtests", json=SPEC | {"config": {}}, headers=OPERATOR)
    assert bad.status_code == 422
    assert "strategy_id" in bad.text


def test_a_report_is_put_together_from_its_pages(client: TestClient, broker: StandInBroker) -> None:
    pages: Iterator[dict[str, Any]] = iter(
        [
            {"content": "<html>first ", "offset": 0, "total_chars": 25, "next_offset": 12},
            {"content": "and last</html>", "offset": 12, "total_chars": 25, "next_offset": None},
        ]
    )

    async def request(message: bytes, subject: str, *, timeout: float) -> Any:
        broker.requests.append((message, subject, timeout))
        body = {"type": "BacktestReply", "backtest": BACKTEST} | next(pages)
        return type("Reply", (), {"body": json.dumps(body).encode()})()

    broker.request = request  # type: ignore[method-assign]
    response = client.get(f"/v1/backtests/{BACKTEST_ID}/report")
    assert response.status_code == 200
    assert response.text == "<html>first and last</html>"
    assert [json.loads(m)["offset"] for m, _, _ in broker.requests] == [0, 12]
