"""Finding strategy classes: by entry point name or by a ``module:Class`` path, and again
after their code changed.

Packages offer strategies under the ``foxtrot.strategies`` entry point group::

    [project.entry-points."foxtrot.strategies"]
    sma_cross = "foxtrot.core.strategies.sma_cross:SmaCross"

and any importable class can be named by its path, ``my_package.my_module:MyStrategy``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, Final

from pydantic import ValidationError

from foxtrot.core.strategy.config import StrategyConfig
from foxtrot.core.strategy.strategy import Strategy

__all__ = [
    "ENTRY_POINT_GROUP",
    "StrategyNotFound",
    "available_strategies",
    "build_strategy",
    "resolve_strategy",
    "strategy_path",
]

ENTRY_POINT_GROUP: Final = "foxtrot.strategies"


class StrategyNotFound(LookupError):
    """No strategy class answers to that name or path."""


def available_strategies() -> dict[str, str]:
    """Strategies offered by installed packages: entry point name -> ``module:Class``."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def strategy_path(name_or_path: str) -> str:
    """The ``module:Class`` path of an entry point name, or the path itself."""
    if ":" in name_or_path:
        return name_or_path
    known = available_strategies()
    if name_or_path not in known:
        raise StrategyNotFound(
            f"strategy must be an entry point name ({', '.join(sorted(known)) or 'none installed'})"
            f" or a module:Class path, was {name_or_path!r}"
        )
    return known[name_or_path]


def resolve_strategy(name_or_path: str, *, reload: bool = False) -> type[Strategy[Any]]:
    """The strategy class named; with ``reload`` its module is imported afresh, so edited
    code takes effect without restarting the process."""
    path = strategy_path(name_or_path)
    module_name, _, class_name = path.partition(":")
    try:
        module = sys.modules.get(module_name)
        if module is not None and reload:
            importlib.invalidate_caches()
            module = importlib.reload(module)
        elif module is None:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StrategyNotFound(f"cannot import strategy module {module_name!r}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyNotFound(f"{path} must name a subclass of foxtrot Strategy, was {cls!r}")
    return cls


def build_strategy(
    name_or_path: str, config: Mapping[str, Any], *, reload: bool = False
) -> Strategy[Any]:
    """A strategy instance from its class name or path and its config as plain values;
    raises ``ValueError`` naming every field the config gets wrong."""
    cls = resolve_strategy(name_or_path, reload=reload)
    try:
        validated: StrategyConfig = cls.config_class.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}, was {e['input']!r}"
            if e["type"] != "missing"
            else f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors()
        )
        raise ValueError(f"invalid config for {cls.__name__}: {problems}") from None
    return cls(validated)
