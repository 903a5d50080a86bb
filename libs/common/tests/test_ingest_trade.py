"""``ingest_trade`` and ``ingest_trades``, the hot path's reading of ingest trades, give the
model's answers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import from_json

from foxtrot.common.messages.v1 import IngestTrade
from foxtrot.common.messages.v1.ingest import (
    MAX_INGEST_TRADES,
    RefusedRow,
    ingest_trade,
    ingest_trades,
)
from foxtrot.core.enums import AggressorSide

_decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(lambda d: format(d, "f")),
    st.sampled_from(["0", "-1", "1e5", "1_000", " 1", "1.", ".5", "NaN", "1\n", "٣", ""]),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
_values: dict[str, st.SearchStrategy[Any]] = {
    "price": _decimals,
    "size": _decimals,
    "ts_event": st.one_of(st.integers(-2, 2**64), st.booleans(), st.floats(0, 1e18), st.text()),
    "trade_id": st.one_of(st.text(max_size=70), st.integers(), st.just("\ud800")),
    "aggressor_side": st.one_of(
        st.sampled_from(["BUYER", "SELLER", "NO_AGGRESSOR", "buyer", ""]), st.integers()
    ),
    "extra": st.integers(),
}


_valid: dict[str, st.SearchStrategy[Any]] = {
    "price": st.decimals(min_value="0.00000001", max_value=10**9, places=8).map(str),
    "size": st.decimals(min_value="0.001", max_value=10**6, places=3).map(str),
    "ts_event": st.integers(0, 2**63),
    "trade_id": st.text(min_size=1, max_size=64),
    "aggressor_side": st.sampled_from(["BUYER", "SELLER", "NO_AGGRESSOR"]),
}


@st.composite
def trades(draw: st.DrawFn) -> bytes:
    """A valid trade with some of its fields (often none) wrong, missing or extra."""
    body = {key: draw(strategy) for key, strategy in _valid.items()}
    for key in draw(st.sets(st.sampled_from(list(_values)), max_size=2)):
        if draw(st.booleans()):
            body[key] = draw(_values[key])
        else:
            body.pop(key, None)
    text = json.dumps(body, ensure_ascii=draw(st.booleans()))
    framing = draw(st.sampled_from(["", "", "", " ", "\ufeff"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16"]))
    return (framing + text).encode(encoding, "surrogatepass")


def _model(data: bytes) -> tuple[object, ...] | None:
    try:
        trade = IngestTrade.model_validate_json(data)
    except ValidationError:
        return None
    return trade.price, trade.size, trade.aggressor_side, trade.trade_id, trade.ts_event


def _fast(data: bytes) -> tuple[object, ...] | None:
    try:
        return ingest_trade(data)
    except ValidationError:
        return None


@settings(max_examples=600, deadline=None)
@given(trades())
@example(
    b'{"price":"9663.08","size":"0.013","ts_event":1,"trade_id":"b1","aggressor_side":"SELLER"}'
)
@example(b'{"price":5,"size":"1","ts_event":1,"trade_id":"b1"}')
@example(b'{"price":"1","price":"-1","size":"1","ts_event":1,"trade_id":"b1"}')
@example(b'{"price":"0.0","size":"1","ts_event":1,"trade_id":"b1"}')
def test_ingest_trade_answers_as_the_model_does(data: bytes) -> None:
    fast, model = _fast(data), _model(data)
    assert fast == model
    if fast is not None:
        assert [type(v) for v in fast] == [type(v) for v in model]  # type: ignore[union-attr]


def test_ingest_trade_raises_the_models_error() -> None:
    with pytest.raises(ValidationError, match="IngestTrade"):
        ingest_trade(b'{"price": 1.5, "size": "1", "ts_event": 1, "trade_id": "1"}')


# --- batches (IngestTrades) -------------------------------------------------------------------


def _json_object(data: bytes) -> bool:
    """Whether a row is a JSON object to pydantic (a batch row can be wrong, not its JSON:
    that makes the whole message malformed)."""
    try:
        return isinstance(from_json(data), dict) and data.startswith(b"{")
    except ValueError:
        return False


@st.composite
def batches(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A batch of rows, each valid or not as :func:`trades` makes them, and the rows alone."""
    rows = [draw(trades().filter(_json_object)) for _ in range(draw(st.integers(1, 6)))]
    return b'{"trades":[' + b",".join(rows) + b"]}", rows


@settings(max_examples=300, deadline=None)
@given(batches())
def test_each_batch_row_gets_the_answer_it_would_get_alone(
    batch: tuple[bytes, list[bytes]],
) -> None:
    data, rows = batch
    answers = ingest_trades(data)
    assert len(answers) == len(rows)
    for index, (answer, row) in enumerate(zip(answers, rows, strict=True)):
        alone = _model(row)
        if alone is None:
            assert isinstance(answer, RefusedRow)
            assert answer.index == index
            assert answer.reason.startswith(f"trades[{index}]: ")
        else:
            assert answer == alone
            assert [type(v) for v in answer] == [type(v) for v in alone]


def test_a_refused_row_says_which_field_and_keeps_the_row() -> None:
    good = {"price": "1.5", "size": "2", "ts_event": 5, "trade_id": "a"}
    data = json.dumps({"trades": [good, {**good, "price": "-1"}, good]}).encode()
    first, refused, last = ingest_trades(data)
    assert first == last == (Decimal("1.5"), Decimal("2"), AggressorSide.NO_AGGRESSOR, "a", 5)
    assert isinstance(refused, RefusedRow)
    assert refused.index == 1
    assert refused.reason == "trades[1]: price: Input should be greater than 0"
    assert json.loads(refused.row) == {**good, "price": "-1"}  # as it was sent


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b'{"trades": []}',
        b'{"trades": 5}',
        b'{"trades": [{}], "extra": 1}',
        b'{"trade": [{}]}',
        b"not json",
        json.dumps({"trades": [{}] * (MAX_INGEST_TRADES + 1)}).encode(),
    ],
)
def test_a_message_that_is_not_a_batch_raises_the_models_error(data: bytes) -> None:
    with pytest.raises(ValidationError, match="IngestTrades"):
        ingest_trades(data)
