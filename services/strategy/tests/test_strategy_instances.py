"""The strategy service hosting instances, on stand-ins of its ports: SmaCross on real FTX
BTC-PERP bars, faults, restarts, control errors, reloads and timers."""

from __future__ import annotations

import asyncio
import textwrap
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from strategy_testkit import (
    BARS_DURABLE,
    FIRST_ORDER_BAR,
    FIRST_SELL_BAR,
    MINUTE_NS,
    NOW,
    ORDERS_DURABLE,
    FailingPublisher,
    Host,
    filled,
    make_host,
    order_view,
    position_view,
    sma_config,
    submitted,
)

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    Bar,
    OrderDenied,
    ReloadStrategy,
    RemoveStrategy,
    ResetStrategy,
    StartStrategy,
    StopStrategy,
    StrategyFaulted,
    StrategyInstancesQuery,
    StrategyReloaded,
    StrategyRemoved,
    StrategyReset,
    StrategyStarted,
    StrategyStopped,
    SubmitOrder,
)
from foxtrot.common.publishing import derived_id
from foxtrot.common.streams import COMMANDS, EVENTS
from foxtrot.core.enums import OrderSide, OrderStatus, OrderType
from foxtrot.core.strategy import StrategyState
from foxtrot.strategy.adapters.execution_state import ExecutionSnapshot, ExecutionState
from foxtrot.strategy.adapters.instance_store import InstanceRecord, InstanceStore
from foxtrot.strategy.adapters.wire import instance_root
from foxtrot.strategy.config import StrategySettings
from foxtrot.strategy.service import Refused

SID = "sma-cross-1"


async def started(host: Host, **config: object) -> Host:
    """``host`` restored (empty) with SmaCross started on the FTX bars."""
    await host.service.restore_all()
    view = await host.service.start(
        StartStrategy(strategy="sma_cross", config=sma_config(**config), requested_by="test")
    )
    assert view.state is StrategyState.RUNNING
    return host


def closes(host: Host, sid: str = SID) -> list[float]:
    instance = host.service.instances[sid]
    assert instance.runtime is not None
    return list(instance.runtime.strategy._closes)


def window(bars: list[Bar], last: int) -> list[Bar]:
    """The 30 bars (the slow average's) up to and with ``bars[last]``."""
    return bars[last - 29 : last + 1]


async def fill(host: Host, command: SubmitOrder, ts: int, qty: Decimal | None = None) -> None:
    """Execution's events of a fill of ``command`` (submitted and accepted first)."""
    feed = host.feed(ORDERS_DURABLE)
    instance = host.service.instances[command.strategy_id]
    assert instance.runtime is not None
    order = instance.runtime.orders[command.client_order_id]
    if order.status is OrderStatus.INITIALIZED:
        for event in submitted(command, ts):
            await feed.push(event)
    await feed.push(filled(command, ts, qty))


# --- trading ---------------------------------------------------------------------------------


async def test_first_cross_sends_a_market_buy_to_risk_with_ids_from_the_bar(
    ftx_bars: list[Bar],
) -> None:
    host = await started(make_host())
    await host.bars(ftx_bars[: FIRST_ORDER_BAR + 1])

    (sent,) = [s for s in host.publish.sent if isinstance(s.message, SubmitOrder)]
    assert sent.subject == subjects.RISK_SUBMIT_ORDER
    assert sent.stream == COMMANDS
    command = sent.message
    assert isinstance(command, SubmitOrder)
    bar = ftx_bars[FIRST_ORDER_BAR]
    assert (command.side, command.order_type) == (OrderSide.BUY, OrderType.MARKET)
    assert command.quantity == Decimal("0.01")
    assert (command.strategy_id, command.account_id) == (SID, "SIM-001")
    assert command.client_order_id == f"{SID}-{bar.ts_event}-1"
    assert command.message_id == derived_id(bar.message_id, command.client_order_id)
    assert command.causation_id == bar.message_id
    assert command.correlation_id == bar.correlation_id


async def test_starting_is_announced_and_the_instance_reads_its_bars(ftx_bars: list[Bar]) -> None:
    host = await started(make_host())
    (event,) = host.events(StrategyStarted)
    assert (event.strategy_id, event.requested_by) == (SID, "test")
    assert event.strategy_path == "foxtrot.core.strategies.sma_cross:SmaCross"
    assert [s.subject for s in host.publish.sent] == [subjects.strategy_events(SID)]
    assert host.publish.sent[0].stream == EVENTS
    (view,) = (await host.service.list(StrategyInstancesQuery())).instances
    assert view.subscriptions == ("md.v1.bar.FTX.BTC-PERP.1m",)
    assert view.desired_state == "RUNNING"
    assert host.feed(BARS_DURABLE).started


async def test_with_fills_the_day_alternates_buys_and_sells(ftx_bars: list[Bar]) -> None:
    host = await started(make_host())
    for bar in ftx_bars:
        before = len(host.commands)
        await host.bars([bar])
        for command in host.commands[before:]:
            await fill(host, command, bar.ts_event + 1)

    sides = [c.side for c in host.commands]
    assert len(sides) > 10
    assert sides == [OrderSide.BUY if i % 2 == 0 else OrderSide.SELL for i in range(len(sides))]
    assert len({c.message_id for c in host.commands}) == len(sides)
    (view,) = (await host.service.list(StrategyInstancesQuery(strategy_id=SID))).instances
    assert view.open_orders == 0
    assert view.positions[0].quantity == (Decimal("0.01") if len(sides) % 2 else Decimal(0))


async def test_nothing_more_is_asked_while_an_order_is_open(ftx_bars: list[Bar]) -> None:
    host = await started(make_host())
    await host.bars(ftx_bars)  # a whole day of crosses, but nothing ever answers
    assert len(host.commands) == 1


async def test_a_denied_order_leaves_the_strategy_flat_and_free_to_buy_again(
    ftx_bars: list[Bar],
) -> None:
    host = await started(make_host())
    await host.bars(ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = host.commands
    denial = OrderDenied(
        client_order_id=buy.client_order_id,
        strategy_id=SID,
        instrument_id=buy.instrument_id,
        reason_code="MAX_ORDER_NOTIONAL",
        reason="notional must be at most 1, was 460",
        **buy.caused(ts_event=buy.ts_event, ts_init=buy.ts_init),
    )
    await host.feed(ORDERS_DURABLE).push(denial)
    await host.bars(ftx_bars[FIRST_ORDER_BAR + 1 :])
    assert [c.side for c in host.commands] == [OrderSide.BUY, OrderSide.BUY]


# --- redelivery, saving and restarts ---------------------------------------------------------


async def test_a_bar_redelivered_after_a_failed_send_is_not_shown_again_but_sent_again(
    ftx_bars: list[Bar],
) -> None:
    publish = FailingPublisher()
    host = await started(make_host(publish=publish))
    await host.bars(ftx_bars[:FIRST_ORDER_BAR])
    feed = host.feed(BARS_DURABLE)
    publish.failures = 1
    with pytest.raises(TimeoutError):
        await feed.push(ftx_bars[FIRST_ORDER_BAR])
    seen = closes(host)

    await feed.push(ftx_bars[FIRST_ORDER_BAR], seq=feed.next_seq - 1)  # the feed retries it

    assert closes(host) == seen  # shown once
    (command,) = host.commands
    assert command.message_id == derived_id(
        ftx_bars[FIRST_ORDER_BAR].message_id, f"{SID}-{ftx_bars[FIRST_ORDER_BAR].ts_event}-1"
    )


async def test_the_state_is_saved_before_the_bar_that_ordered_is_acknowledged(
    ftx_bars: list[Bar],
) -> None:
    host = await started(make_host())
    await host.bars(ftx_bars[:FIRST_ORDER_BAR])
    feed = host.feed(BARS_DURABLE)
    assert feed.acknowledged_seq == 0  # bars that asked for nothing wait for a save
    await host.bars(ftx_bars[FIRST_ORDER_BAR : FIRST_ORDER_BAR + 1])

    # Saved while it was handled; acknowledged by the next save, which it asks for.
    assert feed.acknowledged_seq == FIRST_ORDER_BAR
    await host.service.save_changed()
    assert feed.acknowledged_seq == FIRST_ORDER_BAR + 1
    saved = host.store.rows[SID].saved_state
    assert saved is not None
    assert saved["applied"][BARS_DURABLE] == FIRST_ORDER_BAR + 1
    assert saved["runtime"]["order_ids"] == [ftx_bars[FIRST_ORDER_BAR].ts_event, 1]
    assert len(saved["runtime"]["strategy"]["closes"]) == 30
    (in_flight,) = saved["open_orders"]
    assert in_flight["client_order_id"] == host.commands[0].client_order_id


async def test_bars_that_ordered_nothing_are_acknowledged_by_the_periodic_save(
    ftx_bars: list[Bar],
) -> None:
    host = await started(make_host())
    await host.bars(ftx_bars[:10])
    await host.service.save_changed()
    assert host.feed(BARS_DURABLE).acknowledged_seq == 10
    assert host.store.rows[SID].saved_state["applied"][BARS_DURABLE] == 10


async def test_a_restarted_service_resumes_with_the_saved_state_and_sends_nothing_again(
    ftx_bars: list[Bar],
) -> None:
    first = await started(make_host())
    await first.bars(ftx_bars[: FIRST_ORDER_BAR + 3])  # the order, then two bars unsaved
    (buy,) = first.commands
    bar_ts = ftx_bars[FIRST_ORDER_BAR].ts_event
    # Execution took the order and filled it while the service was down.
    execution = ExecutionState(
        snapshots={
            SID: ExecutionSnapshot(
                positions=(position_view(SID, Decimal("0.01"), Decimal("46000"), bar_ts + 5),),
                orders=(),
            )
        },
        known={
            buy.client_order_id: order_view(
                buy, OrderStatus.FILLED, bar_ts + 5, Decimal("0.01"), Decimal("46000")
            )
        },
    )

    second = make_host(store=first.store, execution=execution)
    await second.service.restore_all()
    feed = second.feed(BARS_DURABLE)
    assert feed.started
    # What the saved state held: the closes up to the bar that ordered.
    assert closes(second) == [float(b.close) for b in window(ftx_bars, FIRST_ORDER_BAR)]
    # The two bars the saved state lacks come again (with their stream sequences), then on.
    feed.next_seq = FIRST_ORDER_BAR + 2
    await second.bars(ftx_bars[FIRST_ORDER_BAR + 1 : FIRST_SELL_BAR + 1])

    (sell,) = second.commands  # no second buy: the position came from execution
    assert sell.side is OrderSide.SELL
    assert sell.client_order_id == f"{SID}-{ftx_bars[FIRST_SELL_BAR].ts_event}-1"
    assert closes(second) == [float(b.close) for b in window(ftx_bars, FIRST_SELL_BAR)]
    (restarted,) = second.events(StrategyStarted)
    assert restarted.requested_by == "restart"


async def test_a_fill_execution_already_counted_is_not_counted_again_after_a_restart(
    ftx_bars: list[Bar],
) -> None:
    first = await started(make_host(), trade_size="0.03")
    await first.bars(ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = first.commands
    ts = ftx_bars[FIRST_ORDER_BAR].ts_event
    await fill(first, buy, ts + 1, Decimal("0.01"))  # handled, but not acknowledged
    execution = ExecutionState(
        snapshots={
            SID: ExecutionSnapshot(
                positions=(position_view(SID, Decimal("0.01"), Decimal("46000"), ts + 1),),
                orders=(
                    order_view(
                        buy, OrderStatus.PARTIALLY_FILLED, ts + 1, Decimal("0.01"), Decimal(46000)
                    ),
                ),
            )
        }
    )
    second = make_host(store=first.store, execution=execution)
    await second.service.restore_all()
    orders = second.feed(ORDERS_DURABLE)
    for event in [*submitted(buy, ts + 1), filled(buy, ts + 1, Decimal("0.01"))]:
        await orders.push(event)  # redelivered: execution's snapshot holds them
    (view,) = (await second.service.list(StrategyInstancesQuery())).instances
    assert view.positions[0].quantity == Decimal("0.01")
    assert view.open_orders == 1

    await orders.push(filled(buy, ts + 2, Decimal("0.02")))  # new
    (view,) = (await second.service.list(StrategyInstancesQuery())).instances
    assert view.positions[0].quantity == Decimal("0.03")
    assert view.open_orders == 0


async def test_an_order_still_on_its_way_at_a_restart_is_known_to_the_restarted_strategy(
    ftx_bars: list[Bar],
) -> None:
    first = await started(make_host())
    await first.bars(ftx_bars[: FIRST_ORDER_BAR + 1])
    (buy,) = first.commands
    second = make_host(store=first.store)  # execution has not heard of the order yet
    await second.service.restore_all()
    (view,) = (await second.service.list(StrategyInstancesQuery())).instances
    assert view.open_orders == 1
    await fill(second, buy, ftx_bars[FIRST_ORDER_BAR].ts_event + 1)
    (view,) = (await second.service.list(StrategyInstancesQuery())).instances
    assert view.positions[0].quantity == Decimal("0.01")


# --- faults ----------------------------------------------------------------------------------


async def test_an_instance_that_raises_is_faulted_and_the_others_run_on(
    ftx_bars: list[Bar],
) -> None:
    host = await started(make_host())
    faulty = await host.service.start(
        StartStrategy(
            strategy="strategy_testkit:RaisesOnBar",
            config={"strategy_id": "faulty", "fail_after": 5},
        )
    )
    assert faulty.state is StrategyState.RUNNING
    faulty_bars = "strategy-faulty-bar-FTX-BTC-PERP-1m"
    for bar in ftx_bars[: FIRST_ORDER_BAR + 1]:
        await host.bars([bar], faulty_bars)  # never raises: the fault is the instance's
        await host.bars([bar])

    (fault,) = host.events(StrategyFaulted)
    assert (fault.strategy_id, fault.handler) == ("faulty", "on_bar")
    assert "RuntimeError: bar 6 is one too many" in fault.error
    assert fault.causation_id == ftx_bars[5].message_id
    (view,) = (await host.service.list(StrategyInstancesQuery(strategy_id="faulty"))).instances
    assert view.state is StrategyState.FAULTED
    assert "bar 6 is one too many" in (view.fault or "")
    assert host.store.rows["faulty"].state is StrategyState.FAULTED
    await host.service.save_changed()
    assert host.feed(faulty_bars).acknowledged_seq == FIRST_ORDER_BAR + 1  # consumed, not kept
    assert len(host.commands) == 1  # sma-cross-1 ran on and ordered at its cross

    with pytest.raises(Refused, match="faulted") as refused:
        await host.service.start(StartStrategy(strategy_id="faulty"))
    assert refused.value.code == "CONFLICT"
    reset = await host.service.reset(ResetStrategy(strategy_id="faulty"))
    assert (reset.state, reset.fault) == (StrategyState.READY, None)
    assert host.events(StrategyReset)
    again = await host.service.start(StartStrategy(strategy_id="faulty"))
    assert again.state is StrategyState.RUNNING


async def test_a_faulted_instance_stays_faulted_across_a_restart(ftx_bars: list[Bar]) -> None:
    host = make_host()
    await host.service.restore_all()
    await host.service.start(
        StartStrategy(strategy="strategy_testkit:RaisesOnBar", config={"strategy_id": "faulty"})
    )
    await host.bars(ftx_bars[:1], "strategy-faulty-bar-FTX-BTC-PERP-1m")
    again = make_host(store=host.store)
    await again.service.restore_all()
    (view,) = (await again.service.list(StrategyInstancesQuery())).instances
    assert view.state is StrategyState.FAULTED
    assert "on_bar" in (view.fault or "")
    assert again.events(StrategyStarted) == []
    # Its bars consumer is deleted: started again, it begins with new bars, not a backlog.
    assert again.feed("strategy-faulty-bar-FTX-BTC-PERP-1m").deleted
    await again.service.reset(ResetStrategy(strategy_id="faulty"))
    restarted = await again.service.start(StartStrategy(strategy_id="faulty"))
    assert restarted.state is StrategyState.RUNNING
    assert again.feed("strategy-faulty-bar-FTX-BTC-PERP-1m").started


# --- control ---------------------------------------------------------------------------------


async def test_control_refusals_name_what_is_wrong() -> None:
    host = await started(make_host())
    service = host.service

    with pytest.raises(Refused, match="no_such_strategy") as unknown:
        await service.start(StartStrategy(strategy="no_such_strategy", config={"strategy_id": "x"}))
    assert unknown.value.code == "INVALID"
    with pytest.raises(Refused, match="trade_size") as invalid:
        await service.start(
            StartStrategy(strategy="sma_cross", config=sma_config(strategy_id="x", trade_size="-1"))
        )
    assert invalid.value.code == "INVALID"
    with pytest.raises(Refused, match="fast_period < slow_period"):
        await service.start(
            StartStrategy(strategy="sma_cross", config=sma_config(strategy_id="x", fast_period=40))
        )
    with pytest.raises(Refused, match="exists already") as duplicate:
        await service.start(StartStrategy(strategy="sma_cross", config=sma_config(fast_period=5)))
    assert duplicate.value.code == "CONFLICT"
    with pytest.raises(Refused, match="no strategy instance nope") as missing:
        await service.stop(StopStrategy(strategy_id="nope"))
    assert missing.value.code == "NOT_FOUND"
    with pytest.raises(Refused, match="running") as running:
        await service.remove(RemoveStrategy(strategy_id=SID))
    assert running.value.code == "CONFLICT"
    assert list(service.instances) == [SID]

    # The same request again only starts it.
    view = await service.start(StartStrategy(strategy="sma_cross", config=sma_config()))
    assert view.state is StrategyState.RUNNING


async def test_stop_then_remove_deletes_the_consumers_and_the_saved_state(
    ftx_bars: list[Bar],
) -> None:
    host = await started(make_host())
    await host.bars(ftx_bars[:5])
    stopped = await host.service.stop(StopStrategy(strategy_id=SID, requested_by="ops"))
    assert (stopped.state, stopped.desired_state) == (StrategyState.STOPPED, "STOPPED")
    assert host.feed(BARS_DURABLE).deleted
    assert stopped.subscriptions == ()
    assert host.events(StrategyStopped)[0].requested_by == "ops"

    restarted = await host.service.start(StartStrategy(strategy_id=SID))
    assert restarted.state is StrategyState.RUNNING
    assert host.feed(BARS_DURABLE).started  # a new consumer: new bars only
    await host.service.stop(StopStrategy(strategy_id=SID))

    removed = await host.service.remove(RemoveStrategy(strategy_id=SID))
    assert removed.strategy_id == SID
    assert SID not in host.store.rows
    assert host.feed(ORDERS_DURABLE).deleted
    assert host.events(StrategyRemoved)
    assert (await host.service.list(StrategyInstancesQuery())).instances == ()


async def test_the_settings_instance_is_created_when_none_is_stored(
    ftx_bars: list[Bar], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "FOXTROT_STRATEGY_ID": "trend-7",
        "FOXTROT_ACCOUNT_ID": "SIM-042",
        "FOXTROT_FAST_PERIOD": "3",
        "FOXTROT_SLOW_PERIOD": "8",
        "FOXTROT_TRADE_SIZE": "0.25",
    }.items():
        monkeypatch.setenv(name, value)
    settings = StrategySettings()
    host = make_host(**{**settings.model_dump(), "seed_instance": True, "fill_wait_s": 0})
    await host.service.restore_all()

    (view,) = (await host.service.list(StrategyInstancesQuery())).instances
    assert (view.strategy_id, view.state) == ("trend-7", StrategyState.RUNNING)
    assert view.config["trade_size"] == "0.25"
    await host.bars(ftx_bars[:FIRST_ORDER_BAR], "strategy-trend-7-bar-FTX-BTC-PERP-1m")
    (command,) = host.commands  # faster averages cross sooner than 10/30
    assert (command.strategy_id, command.account_id) == ("trend-7", "SIM-042")
    assert command.quantity == Decimal("0.25")

    again = make_host(store=host.store, **{**settings.model_dump(), "seed_instance": True})
    await again.service.restore_all()
    assert list(again.service.instances) == ["trend-7"]  # created once


def test_settings_refuse_a_strategy_id_that_is_no_subject_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOXTROT_STRATEGY_ID", "sma.cross")
    with pytest.raises(ValueError, match="strategy_id"):
        StrategySettings()


def test_available_strategies_list_sma_cross_with_its_config_schema() -> None:
    host = make_host()
    offered = {s.name: s for s in host.service.available().strategies}
    sma = offered["sma_cross"]
    assert sma.path == "foxtrot.core.strategies.sma_cross:SmaCross"
    assert sma.config_schema is not None
    assert "fast_period" in sma.config_schema["properties"]
    assert sma.error is None


# --- reloads ---------------------------------------------------------------------------------


def _write_strategy(directory: Path, name: str, step: int, padding: str = "") -> None:
    (directory / f"{name}.py").write_text(
        textwrap.dedent(
            f'''
            """A strategy a test edits{padding}."""
            from foxtrot.core.identifiers import InstrumentId
            from foxtrot.core.strategy import Strategy
            from strategy_testkit import BarsConfig


            class Counter(Strategy[BarsConfig]):
                config_class = BarsConfig

                def __init__(self, config):
                    super().__init__(config)
                    self.seen = 0

                def on_start(self):
                    self.subscribe_bars(InstrumentId.parse(self.config.instrument_id), "1m")

                def on_bar(self, bar):
                    self.seen += {step}

                def on_save(self):
                    return {{"seen": self.seen}}

                def on_load(self, state):
                    self.seen = state.get("seen", 0)
            '''
        )
    )


async def test_a_reload_runs_the_edited_code_with_the_state_kept(
    ftx_bars: list[Bar], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"edited_{uuid.uuid4().hex[:8]}"
    _write_strategy(tmp_path, module, step=1)
    monkeypatch.syspath_prepend(str(tmp_path))
    host = make_host()
    await host.service.restore_all()
    await host.service.start(
        StartStrategy(strategy=f"{module}:Counter", config={"strategy_id": "counter"})
    )
    durable = "strategy-counter-bar-FTX-BTC-PERP-1m"
    await host.bars(ftx_bars[:5], durable)

    _write_strategy(tmp_path, module, step=100, padding=" (now counting in hundreds)")
    view = await host.service.reload(
        ReloadStrategy(strategy_id="counter", config={"fail_after": 3}, requested_by="dev")
    )
    assert view.state is StrategyState.RUNNING
    assert view.config["fail_after"] == 3
    (reloaded,) = host.events(StrategyReloaded)
    assert (reloaded.config_changed, reloaded.requested_by) == (True, "dev")
    assert not host.feed(durable).deleted  # the same consumer reads on: no bar is lost
    await host.bars(ftx_bars[5:7], durable)
    runtime = host.service.instances["counter"].runtime
    assert runtime is not None
    assert runtime.strategy.seen == 5 + 200


async def test_a_reload_with_a_bad_config_changes_nothing() -> None:
    host = await started(make_host())
    with pytest.raises(Refused, match="slow_period") as refused:
        await host.service.reload(ReloadStrategy(strategy_id=SID, config={"slow_period": 1}))
    assert refused.value.code == "INVALID"
    (view,) = (await host.service.list(StrategyInstancesQuery())).instances
    assert view.state is StrategyState.RUNNING
    assert view.config["slow_period"] == 30
    assert host.events(StrategyReloaded) == []


async def test_a_reload_cannot_move_an_instance_to_another_account() -> None:
    host = await started(make_host())
    with pytest.raises(Refused, match="account SIM-001") as refused:
        await host.service.reload(
            ReloadStrategy(strategy_id=SID, config=sma_config(account_id="SIM-002"))
        )
    assert refused.value.code == "INVALID"
    assert host.events(StrategyReloaded) == []


# --- timers ----------------------------------------------------------------------------------


async def test_timers_fire_on_wall_time_and_their_orders_carry_the_timers_time() -> None:
    host = make_host()
    await host.service.restore_all()
    await host.service.start(
        StartStrategy(strategy="strategy_testkit:BuysOnTimer", config={"strategy_id": "timed"})
    )
    instance = host.service.instances["timed"]
    assert instance.next_timer_ns() == NOW + MINUTE_NS
    await instance.fire_timers()
    assert host.commands == []  # not due yet

    host.clock[0] = NOW + MINUTE_NS + 5
    await instance.fire_timers()
    (command,) = host.commands
    assert command.client_order_id == f"timed-{NOW + MINUTE_NS}-1"
    assert command.message_id == derived_id(instance_root("timed"), command.client_order_id)
    assert instance.next_timer_ns() == NOW + 2 * MINUTE_NS
    saved = host.store.rows["timed"].saved_state
    assert saved is not None
    assert saved["runtime"]["order_ids"] == [NOW + MINUTE_NS, 1]


async def test_an_instance_store_refuses_an_id_in_use() -> None:
    store = InstanceStore()
    host = await started(make_host(store=store))
    with pytest.raises(ValueError, match="exists already"):
        await store.insert(host.store.rows[SID])


# --- one instance's failures stay its own ----------------------------------------------------


class _BrokenSnapshotFor(ExecutionState):
    """Execution whose answer for one strategy breaks in a way that is not a timeout."""

    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken

    async def snapshot(self, strategy_id: str) -> ExecutionSnapshot:
        if strategy_id == self.broken:
            raise ValueError("a position view that makes no sense")
        return await super().snapshot(strategy_id)


class _StoreRefusing(InstanceStore):
    """PostgreSQL refusing one instance's writes (say a state it cannot store)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: str | None = None

    async def update(self, record: InstanceRecord) -> None:
        if record.strategy_id == self.refused:
            raise ValueError("unsupported Unicode escape sequence")
        await super().update(record)


async def test_an_instance_that_cannot_be_restored_is_set_aside_and_the_others_come_back(
    ftx_bars: list[Bar],
) -> None:
    first = await started(make_host())
    await first.service.start(
        StartStrategy(strategy="sma_cross", config=sma_config(strategy_id="other"))
    )
    await first.service.close()
    second = make_host(store=first.store, execution=_BrokenSnapshotFor(SID))
    await second.service.restore_all()

    assert second.service.restored.is_set()  # control and readiness go on
    listed = await second.service.list(StrategyInstancesQuery())
    states = {view.strategy_id: view for view in listed.instances}
    assert states["other"].state is StrategyState.RUNNING
    assert states[SID].state is StrategyState.FAULTED
    assert "a position view that makes no sense" in (states[SID].fault or "")
    assert second.service.instances[SID].runtime is None  # it reads nothing
    assert BARS_DURABLE not in second.feeds.feeds


async def test_a_failing_create_leaves_nothing_behind() -> None:
    host = make_host(execution=_BrokenSnapshotFor(SID))
    await host.service.restore_all()
    with pytest.raises(ValueError, match="makes no sense"):
        await host.service.start(StartStrategy(strategy="sma_cross", config=sma_config()))
    assert SID not in host.service.instances
    assert await host.store.load_all() == []
    assert host.feeds.made
    assert all(feed.deleted for feed in host.feeds.made)


async def test_one_instance_that_cannot_be_saved_does_not_keep_the_others_unsaved(
    ftx_bars: list[Bar],
) -> None:
    store = _StoreRefusing()
    host = await started(make_host(store=store))
    await host.service.start(
        StartStrategy(strategy="sma_cross", config=sma_config(strategy_id="other"))
    )
    store.refused = SID
    await host.bars(ftx_bars[:3])
    await host.service.save_changed()
    assert not host.service.instances["other"].needs_saving()
    assert host.service.instances[SID].needs_saving()  # tried again at the next save


async def test_a_control_request_that_waited_behind_a_remove_finds_no_instance() -> None:
    host = await started(make_host())
    await host.service.stop(StopStrategy(strategy_id=SID))
    instance = host.service.instances[SID]
    async with instance.lock:  # a remove holds the lock; a reset waits for it
        pending = asyncio.create_task(host.service.reset(ResetStrategy(strategy_id=SID)))
        await asyncio.sleep(0)
        del host.service.instances[SID]
    with pytest.raises(Refused) as refused:
        await pending
    assert refused.value.code == "NOT_FOUND"


async def test_removing_an_instance_that_cannot_be_built_deletes_its_consumers_from_before(
    ftx_bars: list[Bar],
) -> None:
    first = await started(make_host())
    await first.bars(ftx_bars[:3])
    await first.service.close()  # saved while running: its consumers stay for the next start
    first.store.rows[SID].strategy_path = "strategy_testkit:NoSuchStrategy"  # its code is gone
    second = make_host(store=first.store)
    await second.service.restore_all()
    assert second.service.instances[SID].runtime is None
    assert second.feeds.made == []  # it reads nothing ...

    await second.service.remove(RemoveStrategy(strategy_id=SID))
    deleted = {feed.durable: feed.stream.name for feed in second.feeds.made if feed.deleted}
    assert deleted == {  # ... but what it read before is deleted with it
        f"strategy-{SID}-orders": EVENTS.name,
        f"strategy-{SID}-account": EVENTS.name,
        BARS_DURABLE: "FOXTROT_MARKET_DATA",
    }
