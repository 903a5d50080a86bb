"""The NATS users Foxtrot ships: each service may publish only where it is meant to."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from foxtrot.common.local.embedded import EmbeddedNats

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    # Always our own server: this tests the permissions we ship, whatever NATS_URL says.
    nats_server = EmbeddedNats(Path(tmp_path_factory.mktemp("nats-auth"))).start()
    yield nats_server
    nats_server.stop()


async def _violations(server: EmbeddedNats, user: str, subject: str) -> list[str]:
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    client = await nats.connect(server.url(user), error_cb=on_error, allow_reconnect=False)
    try:
        await client.publish(subject, b"{}")
        await client.flush()
        await asyncio.sleep(0.2)
    finally:
        await client.close()
    return [e for e in errors if "permissions violation" in e.lower()]


@pytest.mark.parametrize(
    ("user", "subject", "allowed"),
    [
        ("risk", "cmd.v1.exec.submit_order", True),
        ("gateway", "cmd.v1.exec.submit_order", False),
        ("strategy", "cmd.v1.exec.submit_order", False),
        ("market_data", "cmd.v1.exec.submit_order", False),
        ("ingest", "cmd.v1.exec.submit_order", False),
        ("gateway", "cmd.v1.risk.submit_order", True),
        ("strategy", "cmd.v1.risk.submit_order", True),
        ("strategy", "evt.v1.order.sma-cross-1", False),
        ("execution", "evt.v1.order.sma-cross-1", True),
        ("gateway", "evt.v1.position.manual", False),
        ("ingest", "md.v1.ingest.trade.BINANCE.BTCUSDT", True),
        ("ingest", "md.v1.trade.BINANCE.BTCUSDT", False),
        ("market_data", "md.v1.trade.BINANCE.BTCUSDT", True),
        ("risk", "dlq.v1.execution", False),
        ("risk", "dlq.v1.risk", True),
        ("strategy", "evt.v1.strategy.sma-cross-1", True),
        ("risk", "evt.v1.strategy.sma-cross-1", False),
        ("gateway", "ctl.v1.strategy.start", True),
        ("strategy", "ctl.v1.strategy.start", False),
        ("execution", "ctl.v1.strategy.stop", False),
        ("ingest", "ctl.v1.strategy.run_backtest", False),
        ("strategy", "qry.v1.exec.orders", True),
    ],
)
async def test_each_service_user_publishes_only_on_its_own_subjects(
    server: EmbeddedNats, user: str, subject: str, allowed: bool
) -> None:
    violations = await _violations(server, user, subject)
    assert (violations == []) is allowed, violations
