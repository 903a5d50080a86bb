"""ExecutionEngine: routing to venue or emulator, contingent order lists, modify and cancel."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foxtrot.core.contingencies import bracket, check_order_list
from foxtrot.core.data import TradeTick
from foxtrot.core.enums import AggressorSide, ContingencyType, OrderSide, OrderStatus, OrderType
from foxtrot.core.errors import InvalidOrder, OrderNotWorking
from foxtrot.core.events import (
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderTriggered,
    OrderUpdated,
)
from foxtrot.core.execution import ExecutionEngine
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from foxtrot.core.order_spec import OrderSpec
from foxtrot.core.orders import Order
from foxtrot.core.venue import SimulatedVenue

BTC = InstrumentId("BTCUSDT", "SIM")
D = Decimal
C = ClientOrderId


def spec(cid: str, side: OrderSide, order_type: OrderType, qty: str = "2", **f: Any) -> OrderSpec:
    return OrderSpec(
        client_order_id=C(cid),
        strategy_id=StrategyId("s1"),
        account_id=AccountId("acc"),
        instrument_id=BTC,
        side=side,
        order_type=order_type,
        quantity=D(qty),
        **f,
    )


def trade(price: str, ts: int, size: str = "100") -> TradeTick:
    return TradeTick(BTC, D(price), D(size), AggressorSide.BUYER, TradeId(str(ts)), ts, ts)


def engine_at(price: str = "100") -> ExecutionEngine[SimulatedVenue]:
    engine = ExecutionEngine(SimulatedVenue("SIM"))
    engine.on_trade(trade(price, 1))
    return engine


def a_bracket(entry_qty: str = "2") -> tuple[OrderSpec, OrderSpec, OrderSpec]:
    return bracket(
        spec("entry", OrderSide.BUY, OrderType.LIMIT, entry_qty, price=D(99)),
        spec("sl", OrderSide.SELL, OrderType.STOP_MARKET, entry_qty, trigger_price=D(95)),
        spec("tp", OrderSide.SELL, OrderType.LIMIT, entry_qty, price=D(105)),
        order_list_id="L1",
    )


def status(engine: ExecutionEngine[SimulatedVenue], cid: str) -> OrderStatus:
    return engine.orders[C(cid)].status


def names(events: list[OrderEvent]) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.client_order_id) for e in events]


# --- routing ----------------------------------------------------------------------------


def test_a_native_type_goes_to_the_venue_and_a_stop_is_held_by_the_emulator() -> None:
    engine = engine_at()
    limit = engine.submit(spec("lim", OrderSide.BUY, OrderType.LIMIT, price=D(99)), 2)
    stop = engine.submit(spec("stp", OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=D(95)), 3)
    assert names(limit) == [("OrderSubmitted", "lim"), ("OrderAccepted", "lim")]
    assert names(stop) == [("OrderSubmitted", "stp"), ("OrderAccepted", "stp")]
    assert engine.orders[C("stp")].venue_order_id == "EMULATED-stp"
    assert [s.client_order_id for s in engine.venue.open_orders()] == ["lim"]
    assert [s.client_order_id for s in engine.emulator.held()] == ["stp"]


def test_a_triggered_stop_that_its_venue_refuses_ends_rejected_with_the_venues_reason() -> None:
    engine = engine_at()
    # Reduce-only with no position to reduce: the venue refuses it once it is released.
    stop = spec("stp", OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=D(95), reduce_only=True)
    engine.submit(stop, 2)
    events = engine.on_trade(trade("94", 3))
    assert [type(e).__name__ for e in events] == ["OrderTriggered", "OrderRejected"]
    assert events[-1].reason_code == "REDUCE_ONLY_WOULD_INCREASE"  # type: ignore[union-attr]
    assert status(engine, "stp") is OrderStatus.REJECTED


def test_a_single_submit_refuses_contingent_orders_and_reused_ids() -> None:
    engine = engine_at()
    entry, _, _ = a_bracket()
    with pytest.raises(InvalidOrder, match="order list"):
        engine.submit(entry, 2)
    engine.submit(spec("x", OrderSide.BUY, OrderType.LIMIT, price=D(99)), 2)
    with pytest.raises(InvalidOrder, match="already in use"):
        engine.submit(spec("x", OrderSide.BUY, OrderType.LIMIT, price=D(98)), 3)


# --- brackets (OTO + OCO) --------------------------------------------------------------


def test_bracket_children_wait_until_the_entry_fills_then_take_profit_cancels_stop_loss() -> None:
    engine = engine_at()
    events = engine.submit_list(a_bracket(), 2)
    assert names(events) == [("OrderSubmitted", "entry"), ("OrderAccepted", "entry")]
    assert status(engine, "sl") is status(engine, "tp") is OrderStatus.INITIALIZED

    events = engine.on_trade(trade("98", 3))  # the entry fills
    assert ("OrderFilled", "entry") in names(events)
    assert status(engine, "sl") is OrderStatus.ACCEPTED  # held by the emulator
    assert status(engine, "tp") is OrderStatus.ACCEPTED  # resting at the venue

    events = engine.on_trade(trade("106", 4))  # the take-profit fills
    assert names(events) == [
        ("OrderFilled", "tp"),
        ("OrderPendingCancel", "sl"),
        ("OrderCanceled", "sl"),
    ]
    assert engine.on_trade(trade("90", 5)) == []  # the stop-loss is gone


def test_bracket_stop_loss_triggers_and_cancels_the_take_profit() -> None:
    engine = engine_at()
    engine.submit_list(a_bracket(), 2)
    engine.on_trade(trade("98", 3))
    events = engine.on_trade(trade("94", 4))  # stop triggers: released as a market order
    assert names(events) == [("OrderTriggered", "sl")]
    events = engine.on_trade(trade("93", 5))
    assert names(events) == [
        ("OrderFilled", "sl"),
        ("OrderPendingCancel", "tp"),
        ("OrderCanceled", "tp"),
    ]


def test_partly_filled_entry_releases_children_at_the_filled_quantity_and_grows_them() -> None:
    engine = engine_at()
    engine.submit_list(a_bracket(entry_qty="2"), 2)
    events = engine.on_trade(trade("98", 3, size="0.5"))
    assert names(events) == [
        ("OrderFilled", "entry"),
        ("OrderUpdated", "sl"),
        ("OrderSubmitted", "sl"),
        ("OrderAccepted", "sl"),
        ("OrderUpdated", "tp"),
        ("OrderSubmitted", "tp"),
        ("OrderAccepted", "tp"),
    ]
    assert engine.orders[C("sl")].spec.quantity == engine.orders[C("tp")].spec.quantity == D("0.5")
    events = engine.on_trade(trade("98", 4, size="1"))
    updates = [e for e in events if isinstance(e, OrderUpdated)]
    assert {(u.client_order_id, u.quantity) for u in updates} == {
        ("sl", D("1.5")),
        ("tp", D("1.5")),
    }
    assert engine.orders[C("tp")].spec.quantity == D("1.5")


def test_entry_canceled_before_any_fill_cancels_its_waiting_children() -> None:
    engine = engine_at()
    engine.submit_list(a_bracket(), 2)
    events = engine.cancel(C("entry"), 3)
    assert names(events) == [
        ("OrderPendingCancel", "entry"),
        ("OrderCanceled", "entry"),
        ("OrderCanceled", "sl"),
        ("OrderCanceled", "tp"),
    ]


def test_order_list_checks_say_what_is_wrong() -> None:
    entry, sl, tp = a_bracket()
    with pytest.raises(InvalidOrder, match="parent's quantity 2, was 1"):
        check_order_list([entry, dataclasses.replace(sl, quantity=D(1)), tp])
    with pytest.raises(InvalidOrder, match="must go both ways"):
        check_order_list([entry, dataclasses.replace(sl, linked_order_ids=(C("entry"),)), tp])
    with pytest.raises(InvalidOrder, match="not in the list"):
        check_order_list([entry, sl])


# --- OCO ------------------------------------------------------------------------------------


def oco_pair() -> list[OrderSpec]:
    links = {"contingency_type": ContingencyType.OCO, "order_list_id": "L2"}
    return [
        spec(
            "low",
            OrderSide.BUY,
            OrderType.LIMIT,
            price=D(95),
            linked_order_ids=(C("high"),),
            **links,
        ),
        spec(
            "high",
            OrderSide.BUY,
            OrderType.STOP_MARKET,
            trigger_price=D(105),
            linked_order_ids=(C("low"),),
            **links,
        ),
    ]


def test_oco_partial_fill_trims_the_other_and_a_full_fill_cancels_it() -> None:
    engine = engine_at()
    engine.submit_list(oco_pair(), 2)
    events = engine.on_trade(trade("94", 3, size="0.5"))
    assert names(events) == [("OrderFilled", "low"), ("OrderUpdated", "high")]
    assert engine.orders[C("high")].spec.quantity == D("1.5")
    events = engine.on_trade(trade("94", 4, size="5"))
    assert names(events) == [
        ("OrderFilled", "low"),
        ("OrderPendingCancel", "high"),
        ("OrderCanceled", "high"),
    ]


def test_oco_member_canceled_cancels_the_other() -> None:
    engine = engine_at()
    engine.submit_list(oco_pair(), 2)
    events = engine.cancel(C("high"), 3)
    assert [n for n in names(events) if n[0] == "OrderCanceled"] == [
        ("OrderCanceled", "high"),
        ("OrderCanceled", "low"),
    ]


# --- modify and cancel ----------------------------------------------------------------------


def test_modify_of_an_emulated_stop_answers_at_once_and_the_new_trigger_is_used() -> None:
    engine = engine_at()
    engine.submit(spec("stp", OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=D(90)), 2)
    events = engine.modify(C("stp"), 3, trigger_price=D(97))
    assert names(events) == [("OrderPendingUpdate", "stp"), ("OrderUpdated", "stp")]
    assert status(engine, "stp") is OrderStatus.ACCEPTED
    assert [type(e) for e in engine.on_trade(trade("96", 4))] == [OrderTriggered]


def test_modify_that_contradicts_the_order_is_refused_and_it_works_on() -> None:
    engine = engine_at()
    engine.submit(
        spec("sl", OrderSide.SELL, OrderType.STOP_LIMIT, price=D(89), trigger_price=D(90)), 2
    )
    events = engine.modify(C("sl"), 3, quantity=D(-1))
    assert [type(e).__name__ for e in events] == ["OrderPendingUpdate", "OrderModifyRejected"]
    assert status(engine, "sl") is OrderStatus.ACCEPTED


def test_cancel_of_an_emulated_order_means_it_never_triggers() -> None:
    engine = engine_at()
    engine.submit(spec("stp", OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=D(95)), 2)
    assert [type(e) for e in engine.cancel(C("stp"), 3)][-1] is OrderCanceled
    assert engine.on_trade(trade("90", 4)) == []


def test_modify_or_cancel_of_an_order_that_is_not_working_is_refused_with_why() -> None:
    engine = engine_at()
    with pytest.raises(OrderNotWorking, match="unknown"):
        engine.cancel(C("nope"), 2)
    engine.submit(spec("m", OrderSide.BUY, OrderType.MARKET), 3)
    engine.on_trade(trade("100", 4))
    with pytest.raises(OrderNotWorking, match="FILLED"):
        engine.modify(C("m"), 5, quantity=D(3))


# --- restart ----------------------------------------------------------------------------------


def test_restored_emulated_order_and_waiting_child_carry_on_after_a_restart() -> None:
    entry, sl, tp = a_bracket()
    engine = ExecutionEngine(SimulatedVenue("SIM"))
    filled_entry = Order(entry, status=OrderStatus.FILLED, filled_qty=D(2), avg_px=D(99))
    stop = Order(sl, status=OrderStatus.ACCEPTED)
    take = Order(tp, status=OrderStatus.ACCEPTED, venue_order_id=VenueOrderId("SIM-tp"))
    engine.venue.restore_position(BTC, D(2))
    for order in (filled_entry, stop, take):
        engine.restore(order)
    events = engine.on_trade(trade("94", 5))
    assert names(events)[0] == ("OrderTriggered", "sl")
    events = engine.on_trade(trade("93", 6))
    assert names(events) == [
        ("OrderFilled", "sl"),
        ("OrderPendingCancel", "tp"),
        ("OrderCanceled", "tp"),
    ]


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    moves=st.lists(st.integers(min_value=-3, max_value=3), min_size=1, max_size=60),
    sizes=st.lists(st.sampled_from(["0.25", "0.5", "1", "3"]), min_size=60, max_size=60),
)
def test_a_bracket_never_sells_more_than_its_entry_bought(
    moves: list[int], sizes: list[str]
) -> None:
    engine = engine_at("100")
    engine.submit_list(a_bracket(), 2)
    price = 100
    bought = sold = D(0)
    for step, (move, size) in enumerate(zip(moves, sizes, strict=False), start=3):
        price += move
        for event in engine.on_trade(trade(str(price), step, size=size)):
            if isinstance(event, OrderFilled):
                if event.side is OrderSide.BUY:
                    bought += event.last_qty
                else:
                    sold += event.last_qty
            assert sold <= bought <= D(2)
    for order in engine.orders.values():
        assert order.filled_qty <= order.spec.quantity
