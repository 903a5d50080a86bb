"""``ingest_trade``, the hot path's reading of an ingest trade, gives the model's answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from foxtrot.common.messages.v1 import IngestTrade
from foxtrot.common.messages.v1.ingest import ingest_trade

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
