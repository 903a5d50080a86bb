"""RiskService on real PostgreSQL: orders judged against what risk knows, decisions
recorded, trading states and limits persisted across a restart, live limits breached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from foxtrot.common.messages.v1 import (
    AccountBalance,
    AccountView,
    DecisionsQuery,
    LimitBreached,
    LimitChangesQuery,
    ModifyOrder,
    OrderAccepted,
    OrderFilled,
    OrderModifyRejected,
    OrderView,
    PositionView,
    QuoteTick,
    SetRiskLimits,
    SetTradingState,
    SubmitOrder,
    SubmitOrderList,
    TradingStateChanged,
)
from foxtrot.common.testkit.infrastructure import Infrastructure
from foxtrot.common.testkit.schemas import fresh_schema
from foxtrot.core.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    RiskScope,
    TimeInForce,
    TradingState,
)
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument
from foxtrot.core.risk import InvalidLimit
from foxtrot.risk.adapters.execution_state import ExecutionSnapshot
from foxtrot.risk.adapters.tables import SCHEMA
from foxtrot.risk.migrations import MIGRATIONS
from foxtrot.risk.service import RiskService

pytestmark = pytest.mark.integration

BTC = InstrumentId("BTCUSDT", "BINANCE")
TS = 1_700_000_000_000_000_000
INITIAL: dict[str, str | None] = {"max_order_quantity": "10", "max_order_notional": "1000000"}


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    async with fresh_schema(infrastructure.database_url, MIGRATIONS, SCHEMA) as engine:
        yield engine


def snapshot(
    positions: tuple[PositionView, ...] = (), orders: tuple[OrderView, ...] = ()
) -> ExecutionSnapshot:
    balances = (
        AccountBalance(
            currency="USDT", total=Decimal(100_000), locked=Decimal(0), free=Decimal(100_000)
        ),
        AccountBalance(currency="BTC", total=Decimal(2), locked=Decimal(0), free=Decimal(2)),
    )
    return ExecutionSnapshot(
        positions, orders, (AccountView(account_id="SIM-001", balances=balances, ts_last=TS),)
    )


async def started(engine: AsyncEngine, learn: ExecutionSnapshot | None = None) -> RiskService:
    service = RiskService(engine, "SIM-001")
    await service.load(INITIAL)
    service.book.instruments[BTC] = Instrument(
        BTC, "BTC", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001")
    )
    service.book.prices[BTC] = Decimal("30000")
    if learn is not None:
        service.learn(learn)
    return service


def submit(cid: str, side: str = "BUY", qty: str = "0.5", **fields: object) -> SubmitOrder:
    return SubmitOrder.model_validate(
        {
            "client_order_id": cid,
            "strategy_id": "s1",
            "account_id": "SIM-001",
            "instrument_id": str(BTC),
            "side": side,
            "order_type": "MARKET",
            "quantity": qty,
            "ts_event": TS,
            "ts_init": TS,
            **fields,
        }
    )


def fill(cid: str, side: OrderSide, qty: str, px: str, ts: int = TS + 1) -> OrderFilled:
    return OrderFilled(
        client_order_id=cid,
        strategy_id="s1",
        instrument_id=str(BTC),
        trade_id=f"t-{uuid4().hex[:8]}",
        side=side,
        last_qty=Decimal(qty),
        last_px=Decimal(px),
        commission=Decimal(0),
        commission_currency="USDT",
        liquidity_side=LiquiditySide.TAKER,
        ts_event=ts,
        ts_init=ts,
    )


async def test_nothing_passes_until_execution_s_state_is_known(engine: AsyncEngine) -> None:
    service = await started(engine)
    judged = service.judge([submit("o-1")])
    assert not judged.approved
    [denied] = judged.denied
    assert denied.reason_code == "STATE_UNKNOWN"
    assert "positions" in denied.reason

    service.learn(snapshot())
    assert [c.client_order_id for c in service.judge([submit("o-2")]).approved] == ["o-2"]


async def test_every_decision_is_recorded_with_each_rule_s_result(engine: AsyncEngine) -> None:
    service = await started(engine, snapshot())
    judged = service.judge([submit("ok"), submit("big", qty="11")])
    await service.record(judged.rows)

    found = (await service.decisions(DecisionsQuery())).decisions
    assert [d.client_order_id for d in found] == ["big", "ok"]
    big, ok = found
    assert not big.approved
    assert big.code == "MAX_ORDER_QUANTITY"
    assert big.rules[-1].rule == "max_order_quantity"
    assert big.rules[-1].code == "MAX_ORDER_QUANTITY"
    assert all(r.code is None for r in big.rules[:-1])
    assert ok.approved
    assert {r.rule for r in ok.rules} >= {"known", "trading_state", "buying_power"}
    assert ok.order["client_order_id"] == "ok"
    assert ok.latency_ns > 0
    denied = (await service.decisions(DecisionsQuery(denied_only=True))).decisions
    assert [d.client_order_id for d in denied] == ["big"]


async def test_a_command_delivered_again_gets_the_same_answer_even_after_a_restart(
    engine: AsyncEngine,
) -> None:
    service = await started(engine, snapshot())
    order = submit("again")
    first = service.judge([order])
    await service.record(first.rows)
    # A restart: the order is open at execution now, so judged anew it would be a duplicate.
    view = OrderView(
        seq=1,
        client_order_id="again",
        venue_order_id="v1",
        strategy_id="s1",
        account_id="SIM-001",
        instrument_id=str(BTC),
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.GTC,
        quantity=Decimal("0.5"),
        price=None,
        trigger_price=None,
        expire_time_ns=None,
        reduce_only=False,
        post_only=False,
        status=OrderStatus.ACCEPTED,
        filled_qty=Decimal(0),
        avg_px=None,
        ts_init=TS,
        ts_last=TS,
    )
    restarted = await started(engine, snapshot(orders=(view,)))
    again = restarted.judge([order])
    assert [c.message_id for c in again.approved] == [c.message_id for c in first.approved]
    assert not again.rows  # not decided twice
    # A new command with the same client order id is a duplicate.
    [dup] = restarted.judge([submit("again")]).denied
    assert dup.reason_code == "DUPLICATE_ORDER"


async def test_decisions_whose_writing_failed_are_written_when_their_command_comes_again(
    engine: AsyncEngine,
) -> None:
    service = await started(engine, snapshot())
    order = submit("lost-write")
    first = service.judge([order])
    # Writing first.rows failed: the command is not acknowledged and comes again.
    again = service.judge([order])
    assert [c.message_id for c in again.approved] == [c.message_id for c in first.approved]
    assert again.rows == first.rows
    await service.record(again.rows)
    assert not service.judge([order]).rows  # written once, and only once
    found = await service.decisions(DecisionsQuery(client_order_id="lost-write"))
    assert len(found.decisions) == 1


def order_list(list_id: str, qty: str) -> SubmitOrderList:
    """An OCO pair of limit buys of ``qty`` each."""
    members = [
        submit(
            f"{list_id}-{cid}",
            qty=qty,
            order_type="LIMIT",
            price="30000",
            order_list_id=list_id,
            contingency_type="OCO",
            linked_order_ids=[f"{list_id}-{other}"],
        ).model_dump()
        for cid, other in ((1, 2), (2, 1))
    ]
    return SubmitOrderList(order_list_id=list_id, orders=members, ts_event=TS, ts_init=TS)


async def test_a_list_stands_or_falls_together(engine: AsyncEngine) -> None:
    service = await started(engine, snapshot())
    await service.set_limits(
        SetRiskLimits(
            changes={"max_position": "1"}, reason="t", requested_by="me", ts_event=TS, ts_init=TS
        )
    )
    command = order_list("L1", "0.6")
    approved, denied, rows = service.judge_list(command)
    assert approved is None
    assert [d.client_order_id for d in denied] == ["L1-1", "L1-2"]
    assert all(d.reason_code == "MAX_POSITION" and "order L1-2" in d.reason for d in denied)
    assert len(rows) == 2
    # The first member's count was taken back: an order of 0.6 alone passes.
    assert service.judge([submit("solo", qty="0.6")]).approved


@pytest.mark.parametrize("qty", ["0.3", "0.6"], ids=["approved", "denied"])
async def test_a_list_delivered_again_after_a_restart_gets_the_same_answer(
    engine: AsyncEngine, qty: str
) -> None:
    service = await started(engine, snapshot())
    await service.set_limits(
        SetRiskLimits(
            changes={"max_position": "1"}, reason="t", requested_by="me", ts_event=TS, ts_init=TS
        )
    )
    command = order_list("L9", qty)
    approved, denied, rows = service.judge_list(command)
    await service.record(rows)

    # Judged anew after the restart, the denied list would pass now (max position off), and
    # either would be recorded twice.
    await service.set_limits(
        SetRiskLimits(
            changes={"max_position": None}, reason="t", requested_by="me", ts_event=TS, ts_init=TS
        )
    )
    restarted = await started(engine, snapshot())
    again_approved, again_denied, again_rows = restarted.judge_list(command)
    assert not again_rows  # not decided twice
    if approved is not None:
        assert again_approved is not None
        assert again_approved == approved.model_copy(update={"ts_init": again_approved.ts_init})
        assert not again_denied
    else:
        assert again_approved is None
        assert [(d.message_id, d.reason_code, d.reason) for d in again_denied] == [
            (d.message_id, d.reason_code, d.reason) for d in denied
        ]
        assert "order L9-2" in again_denied[0].reason


async def test_fills_move_positions_and_a_modify_is_judged_as_the_order_would_be(
    engine: AsyncEngine,
) -> None:
    service = await started(engine, snapshot())
    await service.set_limits(
        SetRiskLimits(
            changes={"max_position": "1"}, reason="t", requested_by="me", ts_event=TS, ts_init=TS
        )
    )
    resting = submit("rest", qty="0.5", order_type="LIMIT", price="29000")
    assert service.judge([resting]).approved
    service.on_order_event(
        OrderAccepted(
            client_order_id="rest",
            strategy_id="s1",
            instrument_id=str(BTC),
            venue_order_id="v",
            ts_event=TS,
            ts_init=TS,
        )
    )
    modify = ModifyOrder(
        client_order_id="rest",
        strategy_id="s1",
        instrument_id=str(BTC),
        quantity=Decimal("2"),
        ts_event=TS,
        ts_init=TS,
    )
    outcome, row = service.judge_modify(modify)
    assert isinstance(outcome, OrderModifyRejected)
    assert outcome.reason_code == "MAX_POSITION"
    assert row is not None
    assert row.command == "ModifyOrder"

    service.on_order_event(fill("rest", OrderSide.BUY, "0.5", "29000"))
    assert service.book.net[BTC] == Decimal("0.5")
    assert "rest" not in service.book.orders
    [denied] = service.judge([submit("more", qty="0.6")]).denied
    assert denied.reason_code == "MAX_POSITION"


async def test_a_snapshot_position_is_not_counted_twice_by_the_fills_in_it(
    engine: AsyncEngine,
) -> None:
    position = PositionView(
        strategy_id="s1",
        instrument_id=str(BTC),
        side=PositionSide.LONG,
        quantity=Decimal("0.5"),
        avg_px_open=Decimal("30000"),
        realized_pnl=Decimal(0),
        unrealized_pnl=None,
        commissions=Decimal(0),
        currency="USDT",
        ts_last=TS + 5,
    )
    service = await started(engine, snapshot(positions=(position,)))
    service.on_order_event(fill("old", OrderSide.BUY, "0.5", "30000", ts=TS + 5))
    assert service.book.net[BTC] == Decimal("0.5")
    service.on_order_event(fill("new", OrderSide.BUY, "0.1", "30000", ts=TS + 6))
    assert service.book.net[BTC] == Decimal("0.6")


async def test_the_kill_switch_persists_and_survives_a_restart(engine: AsyncEngine) -> None:
    service = await started(engine, snapshot())
    command = SetTradingState(
        scope=RiskScope.STRATEGY,
        key="s1",
        state=TradingState.HALTED,
        reason="runaway",
        requested_by="ops",
        ts_event=TS,
        ts_init=TS,
    )
    changed = await service.switch(
        command.scope, command.key, command.state, command.reason, command.requested_by, command
    )
    assert isinstance(changed, TradingStateChanged)
    assert (changed.old_state, changed.new_state, changed.changed_by) == ("ACTIVE", "HALTED", "ops")
    assert (
        await service.switch(command.scope, command.key, command.state, "again", "ops", command)
        is None
    )

    restarted = await started(engine, snapshot())
    [denied] = restarted.judge([submit("h-1")]).denied
    assert denied.reason_code == "TRADING_HALTED"
    assert "strategy s1 is HALTED: runaway" in denied.reason
    [view] = restarted.trading_states().states
    assert (view.scope, view.key, view.state, view.changed_by) == (
        "STRATEGY",
        "s1",
        "HALTED",
        "ops",
    )


async def test_limit_changes_are_audited_and_survive_a_restart(engine: AsyncEngine) -> None:
    service = await started(engine, snapshot())
    changed = await service.set_limits(
        SetRiskLimits(
            changes={"max_order_quantity": "2", "rule:buying_power": "off"},
            reason="tighter",
            requested_by="alice",
            ts_event=TS,
            ts_init=TS,
        )
    )
    assert changed == {"max_order_quantity": "2", "rule:buying_power": "off"}
    restarted = await started(engine, snapshot())
    assert restarted.limits().limits["max_order_quantity"] == "2"
    assert "buying_power" in restarted.book.limits.disabled
    audit = (await restarted.limit_changes(LimitChangesQuery(name="max_order_quantity"))).changes
    assert [(c.old_value, c.new_value, c.changed_by, c.reason) for c in audit] == [
        ("10", "2", "alice", "tighter"),
        (None, "10", "settings", "first start"),
    ]
    with pytest.raises(InvalidLimit, match="max_position"):
        await restarted.set_limits(
            SetRiskLimits.model_construct(
                changes={"max_position": "-1"},
                reason="x",
                requested_by="x",
                ts_event=TS,
                ts_init=TS,
            )
        )


async def test_a_daily_loss_beyond_the_limit_halts_the_scope_and_says_so(
    engine: AsyncEngine,
) -> None:
    service = await started(engine, snapshot())
    await service.set_limits(
        SetRiskLimits(
            changes={"daily_loss_limit": "100", "rule:buying_power": "off"},
            reason="t",
            requested_by="me",
            ts_event=TS,
            ts_init=TS,
        )
    )
    assert service.judge([submit("b", qty="1")]).approved
    assert service.on_order_event(fill("b", OrderSide.BUY, "1", "30000")) == []
    quote = QuoteTick(
        instrument_id=str(BTC),
        bid_price=Decimal("29850"),
        ask_price=Decimal("29860"),
        bid_size=Decimal(1),
        ask_size=Decimal(1),
        ts_event=TS + 2,
        ts_init=TS + 2,
    )
    breaches = service.on_price(BTC, (quote.bid_price + quote.ask_price) / 2)
    assert {(b.scope, b.limit) for b in breaches} == {
        (RiskScope.ACCOUNT, "daily_loss_limit"),
        (RiskScope.STRATEGY, "daily_loss_limit"),
        (RiskScope.INSTRUMENT, "daily_loss_limit"),
    }
    events = await service.breached(breaches[0], quote)
    breached, changed = events
    assert isinstance(breached, LimitBreached)
    assert breached.value == Decimal("145")
    assert breached.ts_cause == quote.ts_init
    assert isinstance(changed, TradingStateChanged)
    assert changed.new_state is TradingState.HALTED
    assert service.on_price(BTC, Decimal("29000")) == []  # breached once a day
    [denied] = service.judge([submit("after")]).denied
    assert denied.reason_code == "TRADING_HALTED"
