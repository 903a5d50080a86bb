"""The v1 OrderBookDeltas wire model: shape, validation and conversion to and from core."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from foxtrot.common.messages.v1 import MODELS, BookDelta, OrderBookDeltas
from foxtrot.core import book as core
from foxtrot.core.book import BookAction, BookSide
from foxtrot.core.identifiers import InstrumentId

XRP = InstrumentId("XRPUSDT", "BYBIT")


def domain_batch(**overrides: Any) -> core.OrderBookDeltas:
    fields: dict[str, Any] = {
        "instrument_id": XRP,
        "deltas": (
            core.OrderBookDelta(
                BookAction.UPDATE, BookSide.BID, Decimal("1.9531"), Decimal("6198")
            ),
            core.OrderBookDelta(BookAction.DELETE, BookSide.ASK, Decimal("1.9538"), Decimal("0")),
        ),
        "sequence": 20_254_870,
        "ts_event": 1_733_011_200_691_000_000,
        "ts_init": 1_733_011_200_693_000_000,
    }
    fields.update(overrides)
    return core.OrderBookDeltas(**fields)


def wire(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "instrument_id": "XRPUSDT.BYBIT",
        "sequence": 7,
        "ts_event": 1,
        "ts_init": 2,
        "deltas": [{"action": "UPDATE", "side": "BID", "price": "1.5", "size": "2"}],
    }
    fields.update(overrides)
    return fields


def refusal(fields: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as err:
        OrderBookDeltas.model_validate_json(json.dumps(fields))
    return str(err.value)


def test_order_book_deltas_is_in_the_v1_contract() -> None:
    assert OrderBookDeltas in MODELS


def test_domain_batch_survives_the_wire_unchanged() -> None:
    batch = domain_batch(previous_sequence=20_254_869)
    message = OrderBookDeltas.from_core(batch)
    assert OrderBookDeltas.from_json(message.to_json()).to_core() == batch


def test_snapshot_flag_and_clear_survive_the_wire() -> None:
    clear = core.OrderBookDelta(BookAction.CLEAR, None, Decimal(0), Decimal(0))
    add = core.OrderBookDelta(BookAction.ADD, BookSide.ASK, Decimal("1.9532"), Decimal("10"))
    batch = domain_batch(deltas=(clear, add), is_snapshot=True)
    assert OrderBookDeltas.from_json(OrderBookDeltas.from_core(batch).to_json()).to_core() == batch


def test_prices_and_sizes_travel_as_strings_with_their_digits() -> None:
    payload = json.loads(OrderBookDeltas.from_core(domain_batch()).to_json())
    assert payload["type"] == "OrderBookDeltas"
    assert payload["deltas"][0] == {
        "action": "UPDATE",
        "side": "BID",
        "price": "1.9531",
        "size": "6198",
    }
    assert payload["previous_sequence"] is None
    assert payload["is_snapshot"] is False


def test_minimal_external_payload_is_accepted_with_defaults() -> None:
    message = OrderBookDeltas.model_validate_json(json.dumps(wire()))
    assert (message.is_snapshot, message.previous_sequence) == (False, None)
    assert message.deltas == (
        BookDelta(
            action=BookAction.UPDATE, side=BookSide.BID, price=Decimal("1.5"), size=Decimal(2)
        ),
    )


@pytest.mark.parametrize(
    ("delta", "reason"),
    [
        ({"action": "UPDATE", "price": "1.5", "size": "2"}, "needs side BID or ASK"),
        ({"action": "ADD", "side": "BID", "price": "0", "size": "2"}, "price above 0"),
        ({"action": "UPDATE", "side": "ASK", "price": "1.5", "size": "0"}, "size above 0"),
        (
            {"action": "CLEAR", "side": "BID", "price": "0", "size": "0"},
            "CLEAR delta has side null",
        ),
        ({"action": "CLEAR", "price": "1", "size": "0"}, "CLEAR delta has side null"),
        (
            {"action": "UPDATE", "side": "BID", "price": "1.5", "size": "-1"},
            "greater than or equal",
        ),
        ({"action": "UPDATE", "side": "BID", "price": 1.5, "size": "1"}, "not a JSON number"),
        ({"action": "MODIFY", "side": "BID", "price": "1.5", "size": "1"}, "action"),
        ({"action": "UPDATE", "side": "BUY", "price": "1.5", "size": "1"}, "side"),
    ],
    ids=[
        "no-side",
        "zero-price",
        "update-to-zero",
        "clear-with-side",
        "clear-with-price",
        "negative-size",
        "float-price",
        "unknown-action",
        "order-side",
    ],
)
def test_inconsistent_delta_is_refused_saying_why(delta: dict[str, Any], reason: str) -> None:
    assert reason in refusal(wire(deltas=[delta]))


def test_delete_with_size_zero_is_accepted() -> None:
    delta = {"action": "DELETE", "side": "ASK", "price": "1.5", "size": "0"}
    assert OrderBookDeltas.model_validate_json(json.dumps(wire(deltas=[delta])))


def test_empty_batch_is_refused() -> None:
    assert "at least 1" in refusal(wire(deltas=[]))


def test_negative_sequence_and_unknown_fields_are_refused() -> None:
    assert "sequence" in refusal(wire(sequence=-1))
    assert "Extra inputs" in refusal(wire(depth=10))
    delta = {"action": "UPDATE", "side": "BID", "price": "1.5", "size": "2", "orders": 3}
    assert "Extra inputs" in refusal(wire(deltas=[delta]))
