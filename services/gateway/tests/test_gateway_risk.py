"""``/v1/risk`` against a fake broker: what each route asks risk or sends it, and the 422s,
502s and 503s a person gets instead."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from nats.errors import NoRespondersError
from pydantic import BaseModel

from foxtrot.common.messages.v1 import (
    DecisionsQuery,
    LimitChangesQuery,
    LimitsQuery,
    RiskStatusQuery,
    SetRiskLimits,
    SetTradingState,
    TradingStatesQuery,
)
from foxtrot.common.testkit.broker import StandInBroker
from foxtrot.core.enums import RiskScope, TradingState
from foxtrot.gateway.app import create_app
from foxtrot.gateway.config import GatewaySettings

OPERATOR = {"X-Foxtrot-Operator": "alice"}
HALT: dict[str, Any] = {
    "scope": "STRATEGY",
    "key": "sma-cross-1",
    "state": "HALTED",
    "reason": "runaway strategy",
}
LIMITS: dict[str, Any] = {
    "changes": {"max_position": "2.5", "rule:price_collar": "off", "max_order_quantity": None},
    "reason": "wider limits for the event",
}
STATE_VIEW = {
    "scope": "INSTRUMENT",
    "key": "BTCUSDT.BINANCE",
    "state": "REDUCING",
    "reason": "daily_loss_limit breached",
    "changed_by": "risk",
    "ts_changed": 1_700_000_000_000_000_000,
}
CHANGE_VIEW = {
    "name": "max_position",
    "old_value": "1",
    "new_value": "2.5",
    "changed_by": "alice",
    "reason": "wider limits for the event",
    "ts_changed": 1_700_000_000_000_000_000,
}
DECISION_VIEW = {
    "id": 41,
    "client_order_id": "M-1",
    "strategy_id": "manual",
    "account_id": "SIM-001",
    "instrument_id": "BTCUSDT.BINANCE",
    "command": "SubmitOrder",
    "order": {"side": "BUY", "quantity": "0.01"},
    "approved": False,
    "code": "TRADING_HALTED",
    "reason": "strategy manual is HALTED",
    "rules": [{"rule": "trading_state", "code": "TRADING_HALTED"}],
    "latency_ns": 52_000,
    "ts_decided": 1_700_000_000_000_000_000,
}
EXPOSURE = {
    "scope": "ACCOUNT",
    "key": "SIM-001",
    "state": "ACTIVE",
    "realized_pnl": "-12.5",
    "unrealized_pnl": "3",
    "pnl": "-9.5",
    "peak_pnl": "4",
    "drawdown": "13.5",
    "gross_exposure": "4600",
    "net_exposure": "-4600",
}
# Each query route: its path, the subject it asks, and the reply risk gives it.
QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "/v1/risk/trading-states": (
        "qry.v1.risk.trading_states",
        {"type": "TradingStatesReply", "states": [STATE_VIEW]},
    ),
    "/v1/risk/limits": (
        "qry.v1.risk.limits",
        {"type": "LimitsReply", "limits": {"max_position": "1", "daily_loss_limit": None}},
    ),
    "/v1/risk/limit-changes": (
        "qry.v1.risk.limit_changes",
        {"type": "LimitChangesReply", "changes": [CHANGE_VIEW]},
    ),
    "/v1/risk/decisions": (
        "qry.v1.risk.decisions",
        {"type": "DecisionsReply", "decisions": [DECISION_VIEW]},
    ),
    "/v1/risk/status": (
        "qry.v1.risk.status",
        {"type": "RiskStatusReply", "known": True, "scopes": [EXPOSURE]},
    ),
}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    api = create_app(GatewaySettings(query_timeout_s=0.5))
    root.handlers[:], root.level = handlers, level  # create_app configures JSON logging
    return api


@pytest.fixture
def broker(broker: StandInBroker) -> StandInBroker:
    """A subject nobody was told to answer has no responders, as when risk is down."""
    broker.reply = NoRespondersError()
    return broker


def answer(broker: StandInBroker, path: str) -> None:
    """Risk's answer to the query behind ``path``."""
    subject, reply = QUERIES[path]
    broker.by_subject[subject] = json.dumps(reply).encode()


def asked(broker: StandInBroker, query_type: type[BaseModel]) -> Any:
    """The one query the broker was asked."""
    ((message, _, _),) = broker.requests
    return query_type.model_validate_json(message)


def error_locs(response: httpx.Response) -> list[list[str]]:
    return [error["loc"] for error in response.json()["detail"]]


# --- the kill switch ------------------------------------------------------------------------


def test_trading_state_change_is_sent_to_risk_with_the_operator(
    client: TestClient, broker: StandInBroker
) -> None:
    response = client.post("/v1/risk/trading-state", json=HALT, headers=OPERATOR)

    assert response.status_code == 202, response.text
    body = response.json()
    (sent,) = broker.published
    assert sent.subject == "cmd.v1.risk.set_trading_state"
    assert sent.stream == "FOXTROT_COMMANDS"
    assert sent.headers == {"Nats-Msg-Id": body["message_id"]}  # a retried POST is deduped
    command = SetTradingState.from_json(sent.message)
    assert (command.scope, command.key, command.state) == (
        RiskScope.STRATEGY,
        "sma-cross-1",
        TradingState.HALTED,
    )
    assert command.reason == "runaway strategy"
    assert command.requested_by == "alice"
    assert body == json.loads(command.model_dump_json())


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/v1/risk/trading-state", HALT), ("PATCH", "/v1/risk/limits", LIMITS)],
    ids=["trading-state", "limits"],
)
@pytest.mark.parametrize("headers", [{}, {"X-Foxtrot-Operator": "  "}], ids=["missing", "blank"])
def test_a_change_without_an_operator_is_422_naming_the_header(
    client: TestClient,
    broker: StandInBroker,
    method: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    response = client.request(method, path, json=body, headers=headers)

    assert response.status_code == 422
    assert error_locs(response) == [["header", "X-Foxtrot-Operator"]]
    assert broker.published == []


@pytest.mark.parametrize(
    ("change", "bad"),
    [
        ({"state": "PAUSED"}, ["body", "state"]),
        ({"scope": "DESK"}, ["body", "scope"]),
        ({"key": "sma cross"}, ["key"]),
        ({"reason": ""}, ["reason"]),
        ({"requested_by": "mallory"}, ["body", "requested_by"]),  # only the header says who
    ],
    ids=["state", "scope", "key", "empty-reason", "requested-by-in-body"],
)
def test_a_bad_trading_state_field_is_422_naming_it(
    client: TestClient, broker: StandInBroker, change: dict[str, str], bad: list[str]
) -> None:
    response = client.post("/v1/risk/trading-state", json={**HALT, **change}, headers=OPERATOR)

    assert response.status_code == 422
    assert error_locs(response) == [bad]
    assert broker.published == []


# --- limits ---------------------------------------------------------------------------------


def test_limit_changes_are_sent_to_risk_with_the_operator_and_nulls_kept(
    client: TestClient, broker: StandInBroker
) -> None:
    response = client.patch("/v1/risk/limits", json=LIMITS, headers={"X-Foxtrot-Operator": "bob"})

    assert response.status_code == 202, response.text
    (sent,) = broker.published
    assert sent.subject == "cmd.v1.risk.set_limits"
    assert sent.stream == "FOXTROT_COMMANDS"
    assert sent.headers == {"Nats-Msg-Id": response.json()["message_id"]}
    command = SetRiskLimits.from_json(sent.message)
    assert command.changes == LIMITS["changes"]  # null switches max_order_quantity off
    assert command.reason == LIMITS["reason"]
    assert command.requested_by == "bob"
    assert response.json()["requested_by"] == "bob"


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({**LIMITS, "changes": {"max_position": 2.5}}, ["body", "changes", "max_position"]),
        ({**LIMITS, "changes": {}}, ["changes"]),
        ({"changes": LIMITS["changes"]}, ["body", "reason"]),
        ({**LIMITS, "changes": {"max_postion": "2"}}, ["changes"]),
        ({**LIMITS, "changes": {"max_position": "-2"}}, ["changes"]),
        ({**LIMITS, "changes": {"rule:no_such_rule": "off"}}, ["changes"]),
    ],
    ids=["json-number", "nothing-to-change", "no-reason", "unknown-name", "negative", "no-rule"],
)
def test_a_bad_limits_change_is_422_naming_the_field(
    client: TestClient, broker: StandInBroker, body: dict[str, Any], bad: list[str]
) -> None:
    response = client.patch("/v1/risk/limits", json=body, headers=OPERATOR)

    assert response.status_code == 422
    assert error_locs(response) == [bad]
    assert broker.published == []
    if bad == ["changes"] and body["changes"]:
        assert next(iter(body["changes"])) in response.text  # the bad limit is named


def test_limits_in_force_are_returned_by_name(client: TestClient, broker: StandInBroker) -> None:
    answer(broker, "/v1/risk/limits")

    response = client.get("/v1/risk/limits")

    assert response.status_code == 200
    assert response.json() == {"max_position": "1", "daily_loss_limit": None}
    assert asked(broker, LimitsQuery) == LimitsQuery()


def test_limit_changes_are_asked_for_by_name(client: TestClient, broker: StandInBroker) -> None:
    answer(broker, "/v1/risk/limit-changes")

    response = client.get("/v1/risk/limit-changes", params={"name": "max_position", "limit": 5})

    assert response.status_code == 200
    assert response.json() == [CHANGE_VIEW]
    assert asked(broker, LimitChangesQuery) == LimitChangesQuery(name="max_position", limit=5)


# --- what risk shows ------------------------------------------------------------------------


def test_trading_states_are_the_scopes_that_are_not_active(
    client: TestClient, broker: StandInBroker
) -> None:
    answer(broker, "/v1/risk/trading-states")

    response = client.get("/v1/risk/trading-states")

    assert response.status_code == 200
    assert response.json() == [STATE_VIEW]
    assert asked(broker, TradingStatesQuery) == TradingStatesQuery()


def test_decisions_are_asked_for_with_every_filter(
    client: TestClient, broker: StandInBroker
) -> None:
    answer(broker, "/v1/risk/decisions")
    params = {
        "client_order_id": "M-1",
        "strategy_id": "manual",
        "denied_only": "true",
        "before_id": 42,
        "limit": 10,
    }

    response = client.get("/v1/risk/decisions", params=params)

    assert response.status_code == 200
    assert response.json() == [DECISION_VIEW]
    assert asked(broker, DecisionsQuery) == DecisionsQuery(
        client_order_id="M-1", strategy_id="manual", denied_only=True, before_id=42, limit=10
    )


def test_decisions_default_to_the_newest_hundred_of_every_kind(
    client: TestClient, broker: StandInBroker
) -> None:
    answer(broker, "/v1/risk/decisions")

    assert client.get("/v1/risk/decisions").status_code == 200
    assert asked(broker, DecisionsQuery) == DecisionsQuery()


def test_status_is_risks_live_pnl_and_exposure(client: TestClient, broker: StandInBroker) -> None:
    answer(broker, "/v1/risk/status")

    response = client.get("/v1/risk/status")

    assert response.status_code == 200
    assert response.json() == QUERIES["/v1/risk/status"][1]
    assert asked(broker, RiskStatusQuery) == RiskStatusQuery()


@pytest.mark.parametrize(
    ("path", "params", "bad"),
    [
        ("/v1/risk/decisions", {"limit": 0}, ["query", "limit"]),
        ("/v1/risk/decisions", {"before_id": 0}, ["query", "before_id"]),
        ("/v1/risk/decisions", {"denied_only": "maybe"}, ["query", "denied_only"]),
        ("/v1/risk/limit-changes", {"limit": 1001}, ["query", "limit"]),
    ],
)
def test_a_bad_query_parameter_is_422_naming_it(
    client: TestClient, broker: StandInBroker, path: str, params: dict[str, Any], bad: list[str]
) -> None:
    response = client.get(path, params=params)

    assert response.status_code == 422
    assert error_locs(response) == [bad]
    assert broker.requests == []


@pytest.mark.parametrize("path", list(QUERIES))
def test_a_query_is_503_naming_the_subject_when_risk_does_not_answer(
    client: TestClient, broker: StandInBroker, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 503
    subject = QUERIES[path][0]
    assert response.json()["detail"] == f"risk did not answer {subject} within 0.5s"
    ((_, asked, timeout),) = broker.requests
    assert (asked, timeout) == (subject, 0.5)


def test_a_failed_risk_query_is_502_with_its_error(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.by_subject["qry.v1.risk.decisions"] = b'{"type": "QueryFailed", "error": "db down"}'

    response = client.get("/v1/risk/decisions")

    assert response.status_code == 502
    assert response.json()["detail"] == "db down"
