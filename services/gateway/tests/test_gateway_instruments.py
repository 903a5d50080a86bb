"""``GET /v1/instruments``: asks market data on qry.v1.md.instruments and returns its reply."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from nats.errors import TimeoutError as NatsTimeoutError

from foxtrot.common.messages.v1 import InstrumentsQuery
from foxtrot.common.testkit.broker import StandInBroker
from foxtrot.gateway.app import create_app
from foxtrot.gateway.config import GatewaySettings

BTCUSDT: dict[str, Any] = {
    "instrument_id": "BTCUSDT.BINANCE",
    "base_currency": "BTC",
    "quote_currency": "USDT",
    "tick_size": "0.01",
    "lot_size": "0.00001",
    "min_quantity": "0.00001",
    "max_quantity": "9000",
    "min_notional": "5",
    "price_precision": 2,
    "size_precision": 5,
    "tradable": True,
}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    api = create_app(GatewaySettings(query_timeout_s=0.5))
    root.handlers[:], root.level = handlers, level  # create_app configures JSON logging
    return api


def test_instruments_are_asked_of_market_data_with_the_filters(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.reply = json.dumps(
        {"type": "InstrumentsReply", "instruments": [BTCUSDT], "next_after": None}
    ).encode()

    response = client.get("/v1/instruments", params={"venue": "BINANCE", "limit": 10})

    assert response.status_code == 200
    assert response.json()["instruments"] == [BTCUSDT]
    ((message, subject, timeout),) = broker.requests
    assert subject == "qry.v1.md.instruments"
    assert timeout == 0.5
    assert InstrumentsQuery.model_validate_json(message) == InstrumentsQuery(
        venue="BINANCE", limit=10
    )


def test_one_instrument_is_asked_for_by_its_id(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = json.dumps({"type": "InstrumentsReply", "instruments": [BTCUSDT]}).encode()

    response = client.get("/v1/instruments", params={"instrument_id": "BTCUSDT.BINANCE"})

    assert response.status_code == 200
    ((message, _, _),) = broker.requests
    assert InstrumentsQuery.model_validate_json(message).instrument_id == "BTCUSDT.BINANCE"


def test_an_instrument_id_without_a_venue_is_422_naming_it(
    client: TestClient, broker: StandInBroker
) -> None:
    response = client.get("/v1/instruments", params={"instrument_id": "BTCUSDT"})

    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == ["instrument_id"]
    assert broker.requests == []


def test_instruments_are_503_when_market_data_does_not_answer(
    client: TestClient, broker: StandInBroker
) -> None:
    broker.reply = NatsTimeoutError()

    response = client.get("/v1/instruments")

    assert response.status_code == 503
    assert "qry.v1.md.instruments" in response.json()["detail"]


def test_a_failed_query_is_502_with_its_error(client: TestClient, broker: StandInBroker) -> None:
    broker.reply = b'{"type": "QueryFailed", "error": "query failed: boom"}'

    response = client.get("/v1/instruments")

    assert response.status_code == 502
    assert response.json()["detail"] == "query failed: boom"
