"""The v1 JSON Schema snapshot and the compatibility check that guards it."""

from __future__ import annotations

import copy
from typing import Literal

from pydantic import Field

from foxtrot.common.contract import current_schemas, incompatibilities, load_snapshot
from foxtrot.common.messages.v1 import MODELS, Message, TradeTick


def test_every_v1_model_matches_its_committed_schema_snapshot() -> None:
    problems = incompatibilities(load_snapshot(), current_schemas())
    assert problems == [], "v1 contract changed incompatibly:\n" + "\n".join(problems)


def test_snapshot_covers_every_v1_model() -> None:
    assert set(load_snapshot()) == {model.__name__ for model in MODELS}


def _schemas_with(model: type[Message], name: str) -> dict[str, dict[str, object]]:
    schemas = current_schemas()
    schemas[name] = model.model_json_schema()
    return schemas


def test_adding_an_optional_field_to_a_v1_model_is_incompatible() -> None:
    class TradeTickWithVenueTime(TradeTick):
        ts_venue: int | None = None

    problems = incompatibilities(
        current_schemas(), _schemas_with(TradeTickWithVenueTime, "TradeTick")
    )
    assert any("TradeTick/properties/ts_venue: added" in p for p in problems), problems


def test_removing_a_field_is_incompatible() -> None:
    old = current_schemas()
    new = copy.deepcopy(old)
    del new["TradeTick"]["properties"]["trade_id"]
    new["TradeTick"]["required"].remove("trade_id")
    problems = incompatibilities(old, new)
    assert "TradeTick/properties/trade_id: removed" in " ".join(problems)
    assert any(p.startswith("TradeTick/required") for p in problems)


def test_tightening_a_constraint_is_incompatible() -> None:
    class StricterTradeTick(Message):
        type: Literal["TradeTick"] = "TradeTick"
        trade_id: str = Field(max_length=8)

    old = {"X": TradeTick.model_json_schema()}
    new = {"X": StricterTradeTick.model_json_schema()}
    assert incompatibilities(old, new)


def test_adding_an_enum_value_is_incompatible() -> None:
    old = current_schemas()
    new = copy.deepcopy(old)
    new["TradeTick"]["$defs"]["AggressorSide"]["enum"].append("BOTH")
    assert any("AggressorSide/enum" in p for p in incompatibilities(old, new))


def test_changing_only_descriptions_is_compatible() -> None:
    old = current_schemas()
    new = copy.deepcopy(old)
    new["TradeTick"]["description"] = "reworded"
    new["TradeTick"]["properties"]["price"]["description"] = "the price, reworded"
    assert incompatibilities(old, new) == []


def test_removed_model_and_unsnapshotted_model_are_reported() -> None:
    old = current_schemas()
    new = copy.deepcopy(old)
    new["BrandNew"] = new.pop("QuoteTick")
    problems = incompatibilities(old, new)
    assert "QuoteTick: v1 model removed" in problems
    assert any(p.startswith("BrandNew: new v1 model") for p in problems)
