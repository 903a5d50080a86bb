"""OrderSpec validation: an order whose fields contradict each other is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.enums import OrderSide, OrderType, TimeInForce
from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
)
from foxtrot.core.orders import OrderSpec

BTC = InstrumentId("BTCUSDT", "BINANCE")
CID = ClientOrderId("o-1")


def spec(**overrides: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": CID,
        "strategy_id": StrategyId("s1"),
        "account_id": AccountId("acc"),
        "instrument_id": BTC,
        "side": OrderSide.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Decimal(4),
        "price": Decimal(100),
    }
    fields.update(overrides)
    return OrderSpec(**fields)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quantity": Decimal(0)}, "quantity must be positive, was 0"),
        ({"quantity": Decimal("-1.5")}, "quantity must be positive, was -1.5"),
        ({"price": None}, "a LIMIT order needs a price"),
        ({"order_type": OrderType.MARKET}, "a MARKET order takes no price, was 100"),
        ({"price": Decimal(0)}, "price must be positive, was 0"),
        (
            {"order_type": OrderType.STOP_MARKET, "price": None},
            "a STOP_MARKET order needs a trigger price",
        ),
        ({"time_in_force": TimeInForce.GTD}, "expire_time_ns is required with GTD"),
        ({"expire_time_ns": 5}, "only with GTD"),
        (
            {"order_type": OrderType.STOP_LIMIT, "trigger_price": Decimal(99), "post_only": True},
            "post_only needs a LIMIT order, was STOP_LIMIT",
        ),
    ],
)
def test_order_spec_with_contradictory_fields_is_refused_with_a_clear_message(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidOrder, match=message):
        spec(**overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"order_type": OrderType.MARKET, "price": None},
        {"order_type": OrderType.STOP_LIMIT, "trigger_price": Decimal(99)},
        {"order_type": OrderType.STOP_MARKET, "price": None, "trigger_price": Decimal(99)},
        {"time_in_force": TimeInForce.GTD, "expire_time_ns": 1_700_000_000_000_000_000},
        {"post_only": True},
    ],
)
def test_consistent_order_spec_is_accepted(overrides: dict[str, Any]) -> None:
    assert spec(**overrides).quantity == Decimal(4)


def test_trigger_price_on_an_untriggered_order_type_is_refused() -> None:
    with pytest.raises(InvalidOrder):
        spec(order_type=OrderType.MARKET, price=None, trigger_price=Decimal(99))


def test_non_positive_trigger_price_is_refused() -> None:
    with pytest.raises(InvalidOrder):
        spec(order_type=OrderType.STOP_MARKET, price=None, trigger_price=Decimal(-5))
