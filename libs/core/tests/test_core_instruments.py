"""Instrument trading rules: tick, lot, min/max quantity, min notional, precision."""

from __future__ import annotations

from decimal import Decimal

import pytest

from foxtrot.core.errors import InvalidOrder
from foxtrot.core.identifiers import InstrumentId
from foxtrot.core.instruments import Instrument


def btcusdt(**overrides: object) -> Instrument:
    fields: dict[str, object] = {
        "instrument_id": InstrumentId("BTCUSDT", "BINANCE"),
        "base_currency": "BTC",
        "quote_currency": "USDT",
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal("0.00001"),
        "min_quantity": Decimal("0.00001"),
        "max_quantity": Decimal("9000"),
        "min_notional": Decimal("5"),
    }
    fields.update(overrides)
    return Instrument(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("price", "problem"),
    [
        ("43250.10", None),
        ("43250.105", "price must be a multiple of tick size 0.01, was 43250.105"),
        ("0", "price must be positive, was 0"),
        ("-1", "price must be positive, was -1"),
    ],
)
def test_prices_must_be_positive_multiples_of_the_tick(price: str, problem: str | None) -> None:
    assert btcusdt().price_problem(Decimal(price)) == problem


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        ("0.015", None),
        ("0.000015", "quantity must be a multiple of lot size 0.00001, was 0.000015"),
        ("9000.00001", "quantity must be at most 9000, was 9000.00001"),
        ("0", "quantity must be positive, was 0"),
    ],
)
def test_quantities_must_be_on_the_lot_and_within_limits(
    quantity: str, problem: str | None
) -> None:
    assert btcusdt().quantity_problem(Decimal(quantity)) == problem


def test_a_quantity_below_the_minimum_is_refused_even_on_the_lot() -> None:
    instrument = btcusdt(min_quantity=Decimal("0.001"))
    assert instrument.quantity_problem(Decimal("0.0005")) == (
        "quantity must be at least 0.001, was 0.0005"
    )


def test_min_notional_is_checked_in_the_quote_currency() -> None:
    problem = btcusdt().notional_problem(Decimal("100"), Decimal("0.04"))
    assert problem == "notional must be at least 5 USDT, was 4.00 (0.04 x 100)"
    assert btcusdt().notional_problem(Decimal("100"), Decimal("0.05")) is None
    assert btcusdt(min_notional=None).notional_problem(Decimal("1"), Decimal("0.001")) is None


def test_precision_follows_tick_and_lot_sizes() -> None:
    instrument = btcusdt(tick_size=Decimal("0.50"), lot_size=Decimal("1"))
    assert (instrument.price_precision, instrument.size_precision) == (1, 0)
    assert (btcusdt().price_precision, btcusdt().size_precision) == (2, 5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tick_size": Decimal(0)}, "tick_size must be positive, was 0"),
        ({"lot_size": Decimal("-1")}, "lot_size must be positive, was -1"),
        ({"min_quantity": Decimal("-1")}, "min_quantity must not be negative"),
        ({"max_quantity": Decimal("0.000001")}, "max_quantity must be at least min_quantity"),
    ],
)
def test_inconsistent_rules_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOrder, match=message):
        btcusdt(**overrides)
