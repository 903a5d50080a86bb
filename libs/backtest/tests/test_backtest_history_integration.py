"""market_data's bar history over real NATS, with the platform's users and permissions: the
backtester asks as ``gateway``, a stand-in for market_data's bar store answers as
``market_data``."""

from __future__ import annotations

from decimal import Decimal

import nats
import pytest
from nats.aio.msg import Msg

from foxtrot.backtest.history import (
    HistoryConnection,
    HistoryUnavailable,
    fetch_history,
    market_data_history,
)
from foxtrot.backtest.spec import HistorySource
from foxtrot.common.messages.v1 import BarsQuery, BarsReply, HistoricalBar
from foxtrot.common.subjects import QRY_MD_BARS
from foxtrot.common.testkit.infrastructure import Infrastructure

pytestmark = pytest.mark.integration

MINUTE = 60_000_000_000
T0 = 1_700_000_000_000_000_000
STORED = [
    HistoricalBar(
        ts_open=T0 + i * MINUTE,
        ts_event=T0 + (i + 1) * MINUTE,
        open=Decimal(100),
        high=Decimal(101),
        low=Decimal(99),
        close=Decimal(100 + i),
        volume=Decimal(1),
        vwap=None,
        trade_count=None,
    )
    for i in range(25)
]


async def test_history_pages_come_over_nats_as_the_gateway_user(
    infrastructure: Infrastructure,
) -> None:
    responder = await nats.connect(infrastructure.service_nats_url("market_data"))

    async def answer(msg: Msg) -> None:
        query = BarsQuery.model_validate_json(msg.data)
        rows = [b for b in STORED if query.after_ts is None or b.ts_event > query.after_ts]
        page = rows[: query.limit]
        reply = BarsReply(
            instrument_id=query.instrument_id,
            spec=query.spec,
            bars=tuple(page),
            next_after_ts=page[-1].ts_event if len(rows) > query.limit else None,
        )
        await msg.respond(reply.model_dump_json().encode())

    subscription = await responder.subscribe(QRY_MD_BARS, cb=answer)
    try:
        connection = HistoryConnection(infrastructure.service_nats_url("gateway"), timeout_s=5)
        async with market_data_history(connection) as ask_bars:
            bars = await fetch_history(
                HistorySource(instrument_id="BTC-PERP.FTX"), ask_bars, page_size=10
            )
    finally:
        await subscription.unsubscribe()
        await responder.close()

    assert [b.close for b in bars] == [Decimal(100 + i) for i in range(25)]
    assert "gateway" in connection.nats_url or infrastructure.nats_url_for is None
    assert infrastructure.nats_violations() == []  # replies came on gateway's own inbox


async def test_nobody_answering_says_market_data_did_not_answer(
    infrastructure: Infrastructure,
) -> None:
    connection = HistoryConnection(infrastructure.service_nats_url("gateway"), timeout_s=0.5)

    with pytest.raises(HistoryUnavailable, match=r"market_data did not answer qry\.v1\.md\.bars"):
        async with market_data_history(connection) as ask_bars:
            await fetch_history(HistorySource(instrument_id="BTC-PERP.FTX"), ask_bars)
