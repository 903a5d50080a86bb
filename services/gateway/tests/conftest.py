"""Fixtures shared by the gateway's HTTP tests: each test module builds its own ``app``."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from foxtrot.common.testkit.broker import StandInBroker


@pytest.fixture
def broker(app: FastAPI) -> StandInBroker:
    """The app's broker, standing in for NATS."""
    fake = StandInBroker()
    app.state.broker = fake
    return fake


@pytest.fixture
def client(app: FastAPI, broker: StandInBroker) -> TestClient:
    return TestClient(app)  # not entered, so the lifespan (NATS) never runs
