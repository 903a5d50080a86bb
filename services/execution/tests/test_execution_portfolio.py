"""Execution's portfolio against real PostgreSQL and JetStream: balances per currency from
both legs of each fill, what open orders lock, positions in the quote currency."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.messages.v1 import AccountsQuery, PositionsQuery, SubmitOrder
from foxtrot.common.streams import EVENTS
from foxtrot.core.data import QuoteTick
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.core.venue import SimulatedVenue
from foxtrot.execution.outbox import Send as Publish
from foxtrot.execution.service import ExecutionService

pytestmark = pytest.mark.integration
BTCUSDT = InstrumentId("BTCUSDT", "BINANCE")
SPOT = Instrument(BTCUSDT, "BTC", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"))
D = Decimal


def _service(engine: AsyncEngine, publish: Publish, account: str) -> ExecutionService:
    return ExecutionService(
        engine,
        lambda: SimulatedVenue("BINANCE", "USDT", taker_fee=D("0.001"), maker_fee=D("0.0005")),
        publish,
        account,
        {"USDT": D(10_000), "BTC": D(1)},
    )


def _submit(account: str, side: str, quantity: str, price: str | None = None) -> SubmitOrder:
    return SubmitOrder(
        client_order_id=f"o-{uuid.uuid4().hex[:10]}",
        strategy_id="spot",
        account_id=account,
        instrument_id=str(BTCUSDT),
        side=side,
        order_type="LIMIT" if price else "MARKET",
        quantity=quantity,
        price=price,
        ts_event=1,
        ts_init=1,
    )


async def _account_states(nats_client: NatsClient, account: str) -> list[dict[str, object]]:
    js = nats_client.jetstream()
    sub = await js.subscribe(f"evt.v1.account.{account}", stream=EVENTS.name, ordered_consumer=True)
    states = []
    try:
        while True:
            states.append(json.loads((await sub.next_msg(timeout=1.0)).data))
    except TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return states


def _balances(state: dict[str, object]) -> dict[str, tuple[Decimal, ...]]:
    rows = state["balances"]
    assert isinstance(rows, list)
    return {b["currency"]: (D(b["total"]), D(b["locked"]), D(b["free"])) for b in rows}


async def test_fills_move_both_legs_and_open_orders_lock_what_they_could_spend(
    engine: AsyncEngine, publish: Publish, nats_client: NatsClient
) -> None:
    account = f"A{uuid.uuid4().hex[:8]}"
    service = _service(engine, publish, account)
    await service.recover()
    await service.on_instrument(SPOT)
    opening = await service.query_accounts(AccountsQuery(account_id=account))
    assert [(b.currency, b.total) for b in opening.accounts[0].balances] == [
        ("BTC", D(1)),
        ("USDT", D(10_000)),
    ]

    # 1. Market buy 0.5 against asks at 100: BTC 1 + 0.5 = 1.5;
    #    USDT 10,000 - 50 - 0.05 taker fee (0.1%) = 9,949.95.
    await service.on_quote(QuoteTick(BTCUSDT, D(99), D(100), D(5), D(5), 1, 1))
    await service.submit(_submit(account, "BUY", "0.5"), "cmd.v1.exec.submit_order")
    # 2. A sell limit 0.4 at 120 rests and locks 0.4 BTC; a buy limit 2 at 90 locks 180 USDT.
    await service.submit(_submit(account, "SELL", "0.4", "120"), "cmd.v1.exec.submit_order")
    await service.submit(_submit(account, "BUY", "2", "90"), "cmd.v1.exec.submit_order")

    states = await _account_states(nats_client, account)
    assert _balances(states[0]) == {
        "BTC": (D("1.5"), D(0), D("1.5")),
        "USDT": (D("9949.95"), D(0), D("9949.95")),
    }
    assert _balances(states[-1]) == {
        "BTC": (D("1.5"), D("0.4"), D("1.1")),
        "USDT": (D("9949.95"), D(180), D("9769.95")),
    }
    reply = await service.query_accounts(AccountsQuery(account_id=account))
    assert [(b.currency, b.total, b.locked, b.free) for b in reply.accounts[0].balances] == [
        ("BTC", D("1.5"), D("0.4"), D("1.1")),
        ("USDT", D("9949.950"), D(180), D("9769.950")),
    ]
    (position,) = (await service.query_positions(PositionsQuery(strategy_id="spot"))).positions
    assert (position.quantity, position.avg_px_open, position.currency) == (
        D("0.5"),
        D(100),
        "USDT",
    )

    # 3. A restart keeps the totals and rebuilds the locks from the open orders.
    restarted = _service(engine, publish, account)
    restarted.instruments[BTCUSDT] = SPOT
    await restarted.recover()
    assert restarted.account.totals == {"BTC": D("1.5"), "USDT": D("9949.950")}
    assert restarted.account.locked == {"BTC": D("0.4"), "USDT": D(180)}
