"""The v1 wire models: decimals as strings, strict envelopes, conversions to and from core."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from foxtrot.common.messages.v1 import (
    Bar,
    SubmitOrder,
    TradeTick,
    new_envelope,
)
from foxtrot.core.enums import OrderSide, OrderType, TimeInForce
from foxtrot.core.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
)
from foxtrot.core.orders import OrderSpec

BTC = InstrumentId("BTCUSDT", "BINANCE")
ENVELOPE = {"message_id", "correlation_id", "causation_id", "ts_event", "ts_init"}


def trade_json(**overrides: Any) -> str:
    fields: dict[str, Any] = {
        "instrument_id": "BTCUSDT.BINANCE",
        "price": "101.25",
        "size": "0.5",
        "aggressor_side": "BUYER",
        "trade_id": "t-1",
        "ts_event": 1,
        "ts_init": 2,
    }
    fields.update(overrides)
    return json.dumps(fields)


def trade(**overrides: Any) -> TradeTick:
    return TradeTick.model_validate_json(trade_json(**overrides))


def refusal(json_text: str, model: Any = TradeTick) -> str:
    with pytest.raises(ValidationError) as err:
        model.model_validate_json(json_text)
    return str(err.value)


# --- decimals --------------------------------------------------------------------------


def test_decimals_travel_as_json_strings_with_their_digits_kept() -> None:
    wire = json.loads(trade(price="101.250", size="0.00000001").to_json())
    assert wire["price"] == "101.250"
    assert wire["size"] == "0.00000001"


def test_decoded_prices_are_exact_decimals() -> None:
    assert trade(price="0.1").price + Decimal("0.2") == Decimal("0.3")


def test_json_float_price_is_refused_with_a_message_asking_for_a_string() -> None:
    message = refusal(trade_json(price=101.25))
    assert "price" in message
    assert 'must be a decimal string such as "101.25", not a JSON number (101.25)' in message


@pytest.mark.parametrize("raw", ['"NaN"', '"Infinity"', '"-Infinity"', '"sNaN"', "NaN", "Infinity"])
def test_nan_and_infinity_are_refused(raw: str) -> None:
    text = trade_json().replace('"price": "101.25"', f'"price": {raw}')
    assert "price" in refusal(text)


@pytest.mark.parametrize("raw", ['"abc"', '""', "true", "[1]"])
def test_non_numeric_price_is_refused(raw: str) -> None:
    text = trade_json().replace('"price": "101.25"', f'"price": {raw}')
    assert "must be a decimal string" in refusal(text)


def test_json_integer_price_is_accepted_as_an_exact_decimal() -> None:
    tick = trade(price=101)
    assert tick.price == Decimal(101)
    assert json.loads(tick.to_json())["price"] == "101"


@pytest.mark.parametrize("price", ["0", "-1"])
def test_non_positive_price_is_refused(price: str) -> None:
    assert "greater than 0" in refusal(trade_json(price=price))


# --- envelope ----------------------------------------------------------------------------


def test_models_are_frozen() -> None:
    tick = trade()
    with pytest.raises(ValidationError, match="frozen"):
        tick.price = Decimal(1)  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    assert "extra_forbidden" in refusal(trade_json(venue_time=3))


def test_correlation_id_defaults_to_message_id() -> None:
    tick = trade()
    assert tick.correlation_id == tick.message_id
    assert tick.causation_id is None
    assert trade().message_id != tick.message_id  # a fresh id per message


def test_given_correlation_id_is_kept() -> None:
    flow = uuid4()
    tick = trade(correlation_id=str(flow))
    assert tick.correlation_id == flow != tick.message_id


def test_caused_links_a_new_message_into_the_same_flow() -> None:
    first = trade()
    body = first.model_dump(exclude=ENVELOPE)
    second = TradeTick(**body, **first.caused(ts_event=3, ts_init=4))
    assert second.correlation_id == first.correlation_id
    assert second.causation_id == first.message_id
    assert second.message_id not in (first.message_id, first.correlation_id)
    third = TradeTick(**body, **new_envelope(5, 6, cause=second))
    assert (third.correlation_id, third.causation_id) == (first.correlation_id, second.message_id)
    assert (third.ts_event, third.ts_init) == (5, 6)


def test_new_envelope_without_a_cause_starts_a_new_flow() -> None:
    tick = TradeTick(**trade().model_dump(exclude=ENVELOPE), **new_envelope(5, 6))
    assert tick.correlation_id == tick.message_id
    assert tick.causation_id is None


def test_json_round_trip_gives_an_equal_message() -> None:
    tick = trade()
    assert TradeTick.from_json(tick.to_json()) == tick


@pytest.mark.parametrize("ts", ['"1"', "-1", "1.5"])
def test_unix_nanos_refuses_strings_negatives_and_fractions(ts: str) -> None:
    text = trade_json().replace('"ts_event": 1', f'"ts_event": {ts}')
    assert "ts_event" in refusal(text)


@pytest.mark.parametrize("instrument_id", ["BTCUSDT", "BTCUSDT.", ".BINANCE", "BTC USDT.X"])
def test_instrument_id_without_a_venue_or_with_bad_characters_is_refused(
    instrument_id: str,
) -> None:
    assert "instrument_id" in refusal(trade_json(instrument_id=instrument_id))


# --- orders ------------------------------------------------------------------------------


def limit_spec() -> OrderSpec:
    return OrderSpec(
        ClientOrderId("o-1"),
        StrategyId("s1"),
        AccountId("acc"),
        BTC,
        OrderSide.SELL,
        OrderType.LIMIT,
        Decimal("0.25"),
        time_in_force=TimeInForce.GTD,
        price=Decimal("30000.5"),
        expire_time_ns=10**18,
        post_only=True,
    )


def test_submit_order_round_trips_to_and_from_core() -> None:
    spec = limit_spec()
    wire = SubmitOrder.from_core(spec, ts_event=1, ts_init=2)
    assert wire.to_core() == spec
    assert SubmitOrder.from_json(wire.to_json()).to_core() == spec
    assert json.loads(wire.to_json())["price"] == "30000.5"


def test_limit_order_without_a_price_is_refused_at_the_wire() -> None:
    payload = json.loads(SubmitOrder.from_core(limit_spec(), ts_event=1, ts_init=2).to_json())
    del payload["price"]
    assert "a LIMIT order needs a price" in refusal(json.dumps(payload), SubmitOrder)


def test_market_order_with_a_price_is_refused_at_the_wire() -> None:
    payload = json.loads(SubmitOrder.from_core(limit_spec(), ts_event=1, ts_init=2).to_json())
    payload.update(order_type="MARKET", time_in_force="GTC", expire_time_ns=None, post_only=False)
    assert "a MARKET order takes no price" in refusal(json.dumps(payload), SubmitOrder)


# --- market data -------------------------------------------------------------------------


def bar_json(**overrides: Any) -> str:
    fields = {
        "instrument_id": "BTCUSDT.BINANCE",
        "spec": "1m",
        "open": "100",
        "high": "110",
        "low": "90",
        "close": "105",
        "volume": "3",
        "ts_event": 1,
        "ts_init": 1,
    }
    return json.dumps({**fields, **overrides})


def test_consistent_bar_converts_to_a_core_bar() -> None:
    core_bar = Bar.model_validate_json(bar_json()).to_core()
    assert (core_bar.instrument_id, core_bar.high, core_bar.close) == (
        BTC,
        Decimal(110),
        Decimal(105),
    )
    assert Bar.from_core(core_bar).to_core() == core_bar


@pytest.mark.parametrize(
    "overrides", [{"high": "104"}, {"low": "101"}, {"open": "111"}, {"close": "89"}]
)
def test_bar_with_inconsistent_ohlc_is_refused(overrides: dict[str, str]) -> None:
    assert "need low <= open, close <= high" in refusal(bar_json(**overrides), Bar)
