"""The v1 instrument messages and subjects: shape, validation, conversion to and from core."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from foxtrot.common import subjects
from foxtrot.common.messages.v1 import (
    MODELS,
    IngestInstrument,
    Instrument,
    InstrumentsQuery,
    InstrumentsReply,
    InstrumentView,
)
from foxtrot.common.streams import MARKET_DATA
from foxtrot.core import instruments as core
from foxtrot.core.identifiers import InstrumentId

BTC = InstrumentId("BTCUSDT", "BINANCE")


def domain(**overrides: Any) -> core.Instrument:
    instrument = core.Instrument(
        BTC,
        "BTC",
        "USDT",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"),
        min_quantity=Decimal("0.00001"),
        max_quantity=Decimal("9000"),
        min_notional=Decimal("5"),
    )
    return dataclasses.replace(instrument, **overrides)


def wire(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "instrument_id": "BTCUSDT.BINANCE",
        "base_currency": "BTC",
        "quote_currency": "USDT",
        "tick_size": "0.01",
        "lot_size": "0.00001",
        "min_quantity": "0.00001",
        "max_quantity": "9000",
        "min_notional": "5",
        "price_precision": 2,
        "size_precision": 5,
        "tradable": True,
        "ts_event": 1_700_000_000_000_000_000,
        "ts_init": 1_700_000_000_000_000_001,
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not ...}


def refusal(model: type[BaseModel], fields: dict[str, Any]) -> list[ErrorDetails]:
    with pytest.raises(ValidationError) as err:
        model.model_validate_json(json.dumps(fields))
    return err.value.errors(include_url=False)


@pytest.mark.parametrize(
    "model", [Instrument, IngestInstrument, InstrumentsQuery, InstrumentsReply]
)
def test_instrument_models_are_in_the_v1_contract(model: type[BaseModel]) -> None:
    assert model in MODELS


@pytest.mark.parametrize(
    "instrument",
    [
        domain(),
        domain(max_quantity=None, min_notional=None, tradable=False),
        domain(tick_size=Decimal("0.5"), lot_size=Decimal("10"), min_quantity=Decimal(0)),
    ],
)
def test_domain_instrument_survives_the_wire_unchanged(instrument: core.Instrument) -> None:
    message = Instrument.from_core(instrument, ts_event=1, ts_init=2)

    decoded = Instrument.from_json(message.to_json())

    assert decoded == message
    assert decoded.to_core() == instrument
    assert InstrumentView.from_core(instrument).to_core() == instrument


def test_precision_travels_beside_the_sizes_it_comes_from() -> None:
    body = json.loads(Instrument.from_core(domain(), ts_event=1, ts_init=2).to_json())

    assert body["type"] == "Instrument"
    assert (body["tick_size"], body["price_precision"]) == ("0.01", 2)
    assert (body["lot_size"], body["size_precision"]) == ("0.00001", 5)
    assert body["max_quantity"] == "9000"


def test_padded_tick_size_has_the_precision_of_its_value() -> None:
    message = Instrument.model_validate_json(json.dumps(wire(tick_size="0.01000000")))

    assert message.price_precision == 2


@pytest.mark.parametrize(
    ("fields", "field_name", "words"),
    [
        ({"price_precision": 3}, "price_precision", "must be 2, the decimal places of tick_size"),
        ({"size_precision": 8}, "size_precision", "must be 5, the decimal places of lot_size"),
        ({"tick_size": "0"}, "tick_size", "greater than 0"),
        ({"lot_size": "-0.1"}, "lot_size", "greater than 0"),
        ({"min_quantity": "-1"}, "min_quantity", "greater than or equal to 0"),
        ({"max_quantity": "0.000001"}, "max_quantity", "at least min_quantity 0.00001"),
        ({"tick_size": 0.01}, "tick_size", "not a JSON number"),
        ({"base_currency": "BT C"}, "base_currency", "pattern"),
        ({"instrument_id": "BTCUSDT"}, "instrument_id", "pattern"),
        ({"lot_size": ...}, "lot_size", "required"),
        ({"tick": "0.01"}, "tick", "Extra inputs"),
    ],
)
def test_bad_instrument_is_refused_naming_the_field(
    fields: dict[str, Any], field_name: str, words: str
) -> None:
    errors = refusal(Instrument, wire(**fields))

    (error,) = [e for e in errors if e["loc"] == (field_name,)]
    assert words in error["msg"]


def test_ingest_instrument_needs_only_currencies_tick_and_lot() -> None:
    ingest = IngestInstrument.model_validate_json(
        '{"base_currency": "ETH", "quote_currency": "USDT", "tick_size": "0.01",'
        ' "lot_size": "0.0001"}'
    )

    instrument = ingest.to_core(InstrumentId("ETHUSDT", "BINANCE"))

    assert instrument == core.Instrument(
        InstrumentId("ETHUSDT", "BINANCE"),
        "ETH",
        "USDT",
        Decimal("0.01"),
        Decimal("0.0001"),
        Decimal(0),
    )
    assert instrument.tradable
    assert ingest.ts_event is None


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"max_quantity": "1", "min_quantity": "2"}, "max_quantity"),
        ({"price_precision": 2}, "price_precision"),  # derived, so not accepted
        ({"tick_size": "0"}, "tick_size"),
    ],
)
def test_bad_ingest_instrument_is_refused_naming_the_field(
    fields: dict[str, Any], field_name: str
) -> None:
    base = {"base_currency": "BTC", "quote_currency": "USDT", "tick_size": "0.1", "lot_size": "1"}

    errors = refusal(IngestInstrument, {**base, **fields})

    assert [e["loc"] for e in errors] == [(field_name,)]


def test_instruments_query_pages_at_most_2000() -> None:
    assert refusal(InstrumentsQuery, {"limit": 2001})[0]["loc"] == ("limit",)
    assert InstrumentsQuery().limit == 1000


def test_instrument_subjects_put_venue_before_symbol() -> None:
    assert subjects.instrument(BTC) == "md.v1.instrument.BINANCE.BTCUSDT"
    assert subjects.ingest_instrument(BTC) == "md.v1.ingest.instrument.BINANCE.BTCUSDT"
    assert subjects.QRY_MD_INSTRUMENTS == "qry.v1.md.instruments"


def test_instrument_subjects_match_their_wildcards_and_stream(
    subject_matches: Callable[[str, str], bool],
) -> None:
    assert subject_matches(subjects.MD_ALL_INSTRUMENTS, subjects.instrument(BTC))
    assert subject_matches(subjects.INGEST_INSTRUMENTS, subjects.ingest_instrument(BTC))
    assert any(subject_matches(s, subjects.instrument(BTC)) for s in MARKET_DATA.subjects)
