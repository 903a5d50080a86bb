"""Pre-trade risk rules: each passes or denies with a stable code and a readable message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from foxtrot.core.enums import OrderSide, OrderType
from foxtrot.core.identifiers import AccountId, ClientOrderId, InstrumentId, StrategyId
from foxtrot.core.orders import OrderSpec
from foxtrot.core.risk import (
    DEFAULT_RULES,
    Denial,
    DenialCode,
    PreTradeContext,
    RiskLimits,
    check_max_order_notional,
    check_max_order_quantity,
    check_reference_price_known,
    evaluate,
)

D = Decimal


def market(qty: str = "2") -> OrderSpec:
    return OrderSpec(
        ClientOrderId("o-1"),
        StrategyId("s1"),
        AccountId("acc"),
        InstrumentId("BTCUSDT", "BINANCE"),
        OrderSide.BUY,
        OrderType.MARKET,
        D(qty),
    )


def limit(qty: str, price: str) -> OrderSpec:
    return OrderSpec(
        ClientOrderId("o-1"),
        StrategyId("s1"),
        AccountId("acc"),
        InstrumentId("BTCUSDT", "BINANCE"),
        OrderSide.SELL,
        OrderType.LIMIT,
        D(qty),
        price=D(price),
    )


def ctx(last_price: str | None = None, **limits: Any) -> PreTradeContext:
    return PreTradeContext(
        RiskLimits(**{k: D(v) for k, v in limits.items()}),
        D(last_price) if last_price is not None else None,
    )


# --- max order quantity ----------------------------------------------------------------


@pytest.mark.parametrize("qty", ["0.5", "1"])
def test_quantity_at_or_below_the_max_passes(qty: str) -> None:
    assert check_max_order_quantity(market(qty), ctx(max_order_quantity="1")) is None


def test_quantity_above_the_max_is_denied_saying_limit_and_quantity() -> None:
    denial = check_max_order_quantity(market("1.5"), ctx(max_order_quantity="1"))
    assert denial == Denial(DenialCode.MAX_ORDER_QUANTITY, "quantity must be at most 1, was 1.5")


def test_no_quantity_limit_lets_any_quantity_through() -> None:
    assert check_max_order_quantity(market("1000000"), ctx()) is None


# --- reference price -----------------------------------------------------------------


def test_market_order_without_a_last_price_is_denied_when_a_notional_limit_is_set() -> None:
    denial = check_reference_price_known(market(), ctx(None, max_order_notional="1000"))
    assert denial is not None
    assert denial.code == DenialCode.NO_REFERENCE_PRICE == "NO_REFERENCE_PRICE"
    assert "BTCUSDT.BINANCE" in denial.message
    assert "MARKET" in denial.message


def test_market_order_without_a_last_price_passes_when_no_notional_limit_is_set() -> None:
    assert check_reference_price_known(market(), ctx(None, max_order_quantity="10")) is None
    assert evaluate(market(), ctx(None, max_order_quantity="10")) is None


def test_limit_order_is_valued_at_its_own_price_when_no_last_price_is_known() -> None:
    assert (
        check_reference_price_known(limit("1", "50"), ctx(None, max_order_notional="100")) is None
    )
    assert evaluate(limit("1", "50"), ctx(None, max_order_notional="100")) is None


def test_reference_price_is_the_limit_price_before_the_last_price() -> None:
    context = ctx("30000")
    assert context.reference_price(limit("1", "29000")) == D(29000)
    assert context.reference_price(market()) == D(30000)


# --- max order notional ----------------------------------------------------------------


def test_notional_at_the_max_passes() -> None:
    assert check_max_order_notional(market("2"), ctx("500", max_order_notional="1000")) is None


def test_notional_above_the_max_is_denied_showing_the_arithmetic() -> None:
    denial = check_max_order_notional(market("2"), ctx("500.5", max_order_notional="1000"))
    assert denial == Denial(
        DenialCode.MAX_ORDER_NOTIONAL, "notional must be at most 1000, was 1001.0 (2 x 500.5)"
    )


def test_limit_order_notional_uses_its_limit_price_not_the_last_price() -> None:
    # 2 x 400 = 800 passes; valued at the last price it would be 2 x 600 = 1200.
    assert (
        check_max_order_notional(limit("2", "400"), ctx("600", max_order_notional="1000")) is None
    )
    denial = check_max_order_notional(limit("2", "600"), ctx("400", max_order_notional="1000"))
    assert denial is not None
    assert denial.message.endswith("(2 x 600)")


def test_notional_rule_alone_passes_an_order_it_cannot_value() -> None:
    # Valuing is check_reference_price_known's job; this rule must not raise on None.
    assert check_max_order_notional(market(), ctx(None, max_order_notional="1")) is None


# --- evaluate --------------------------------------------------------------------------


def test_evaluate_passes_an_order_every_rule_accepts() -> None:
    assert (
        evaluate(market("1"), ctx("100", max_order_quantity="1", max_order_notional="100")) is None
    )


def test_evaluate_returns_the_first_denial_in_rule_order() -> None:
    # Breaks both the quantity and the notional limits: the quantity rule comes first.
    denial = evaluate(market("5"), ctx("100", max_order_quantity="1", max_order_notional="10"))
    assert denial is not None
    assert denial.code == DenialCode.MAX_ORDER_QUANTITY


def test_evaluate_reports_a_missing_price_before_the_notional_rule_runs() -> None:
    denial = evaluate(market("1"), ctx(None, max_order_notional="10"))
    assert denial is not None
    assert denial.code == DenialCode.NO_REFERENCE_PRICE


def test_evaluate_denies_on_notional_when_quantity_is_fine() -> None:
    denial = evaluate(market("1"), ctx("11", max_order_quantity="1", max_order_notional="10"))
    assert denial is not None
    assert denial.code == DenialCode.MAX_ORDER_NOTIONAL


def test_evaluate_runs_the_rules_it_is_given_in_the_order_given() -> None:
    calls: list[str] = []

    def first(order: OrderSpec, context: PreTradeContext) -> Denial | None:
        calls.append("first")
        return None

    def second(order: OrderSpec, context: PreTradeContext) -> Denial | None:
        calls.append("second")
        return Denial("SECOND", "no")

    def third(order: OrderSpec, context: PreTradeContext) -> Denial | None:
        calls.append("third")
        return Denial("THIRD", "no")

    assert evaluate(market(), ctx(), rules=(first, second, third)) == Denial("SECOND", "no")
    assert calls == ["first", "second"]


def test_default_rules_check_quantity_then_price_then_notional() -> None:
    assert (
        check_max_order_quantity,
        check_reference_price_known,
        check_max_order_notional,
    ) == DEFAULT_RULES
