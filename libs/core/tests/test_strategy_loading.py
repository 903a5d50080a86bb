"""Strategy classes are found by entry point or module:Class, built from plain config, and
picked up afresh after their code changed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from foxtrot.core.strategies.sma_cross import SmaCross
from foxtrot.core.strategy import (
    StrategyNotFound,
    available_strategies,
    build_strategy,
    resolve_strategy,
)

SOURCE = """
from foxtrot.core.strategy import Strategy, StrategyConfig


class Config(StrategyConfig):
    threshold: int = {default}


class Edited(Strategy[Config]):
    config_class = Config
    VERSION = {version}
"""


def write_module(directory: Path, name: str, version: int, default: int = 1) -> None:
    text = textwrap.dedent(SOURCE.format(version=version, default=default))
    (directory / f"{name}.py").write_text(text)


def test_the_sample_strategy_is_offered_by_entry_point() -> None:
    assert available_strategies()["sma_cross"] == "foxtrot.core.strategies.sma_cross:SmaCross"
    assert resolve_strategy("sma_cross") is SmaCross


def test_a_strategy_is_built_from_its_name_and_plain_config_values() -> None:
    strategy = build_strategy(
        "sma_cross",
        {"strategy_id": "s1", "instrument_id": "BTC-PERP.FTX", "fast_period": 3, "slow_period": 7},
    )
    assert isinstance(strategy, SmaCross)
    assert (strategy.id, strategy.config.fast_period) == ("s1", 3)


def test_a_bad_config_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"invalid config for SmaCross:.*slow_period"):
        build_strategy(
            "sma_cross", {"strategy_id": "s1", "instrument_id": "X.Y", "slow_period": "many"}
        )
    with pytest.raises(ValueError, match="extra_field"):
        build_strategy("sma_cross", {"strategy_id": "s1", "instrument_id": "X.Y", "extra_field": 1})


def test_unknown_names_and_paths_are_refused_with_what_is_known() -> None:
    with pytest.raises(StrategyNotFound, match=r"entry point name \(.*sma_cross.*\)"):
        resolve_strategy("no_such_strategy")
    with pytest.raises(StrategyNotFound, match=r"cannot import strategy module 'no\.such\.module'"):
        resolve_strategy("no.such.module:Thing")
    with pytest.raises(StrategyNotFound, match="must name a subclass of foxtrot Strategy"):
        resolve_strategy("decimal:Decimal")


def test_reload_picks_up_edited_code_and_new_config_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    write_module(tmp_path, "foxtrot_reload_probe", version=1, default=1)
    first = build_strategy("foxtrot_reload_probe:Edited", {"strategy_id": "e"})
    write_module(tmp_path, "foxtrot_reload_probe", version=2, default=5)
    unchanged = resolve_strategy("foxtrot_reload_probe:Edited")
    again = build_strategy("foxtrot_reload_probe:Edited", {"strategy_id": "e"}, reload=True)
    assert type(first).VERSION == 1  # type: ignore[attr-defined]
    assert unchanged is type(first)  # without reload the imported class stays
    assert type(again).VERSION == 2  # type: ignore[attr-defined]
    assert again.config.threshold == 5
