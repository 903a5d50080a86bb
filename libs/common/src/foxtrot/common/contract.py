"""The v1 contract's JSON Schema snapshot and the check that it changes only compatibly.

Every v1 model's JSON Schema is kept in ``messages/v1/schemas/``. Because v1 models are
``extra="forbid"``, a v1 consumer refuses any field it does not know, so *any* change to
the fields of an existing model (added, removed, retyped, constraint changed, required
changed, enum value added) breaks someone. Compatible changes are: new descriptions,
titles and examples, and new models. Anything else needs a v2 model beside v1.

``python -m foxtrot.common.contract write`` refreshes the snapshot (``make schemas``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from foxtrot.common.messages.v1 import MODELS

__all__ = [
    "SNAPSHOT_DIR",
    "current_schemas",
    "incompatibilities",
    "load_snapshot",
    "write_snapshot",
]

SNAPSHOT_DIR: Final = Path(__file__).parent / "messages" / "v1" / "schemas"
_DOCUMENTATION: Final = frozenset({"title", "description", "examples"})


def current_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each v1 model as the code defines it now."""
    return {model.__name__: model.model_json_schema() for model in MODELS}


def load_snapshot(directory: Path = SNAPSHOT_DIR) -> dict[str, dict[str, Any]]:
    """The committed snapshot."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def write_snapshot(directory: Path = SNAPSHOT_DIR) -> list[Path]:
    """Write the current schemas; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def _strip_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _strip_docs(v)
            for k, v in node.items()
            if k not in _DOCUMENTATION or not isinstance(v, str | list)
        }
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


def _diff(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() - new.keys()):
            out.append(f"{path}/{key}: removed (was {json.dumps(old[key])[:120]})")
        for key in sorted(new.keys() - old.keys()):
            out.append(f"{path}/{key}: added ({json.dumps(new[key])[:120]})")
        for key in sorted(old.keys() & new.keys()):
            _diff(old[key], new[key], f"{path}/{key}", out)
    elif old != new:
        out.append(f"{path}: changed from {json.dumps(old)[:120]} to {json.dumps(new)[:120]}")


def incompatibilities(
    snapshot: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[str]:
    """Every change from ``snapshot`` to ``current`` that a v1 consumer would not survive.

    A model in ``current`` but not in the snapshot is reported too, so that it gets
    snapshotted (adding it is compatible; leaving it out of the snapshot is not).
    """
    problems: list[str] = []
    for name in sorted(snapshot.keys() - current.keys()):
        problems.append(f"{name}: v1 model removed")
    for name in sorted(current.keys() - snapshot.keys()):
        problems.append(f"{name}: new v1 model not in the snapshot; run `make schemas`")
    for name in sorted(snapshot.keys() & current.keys()):
        changes: list[str] = []
        _diff(_strip_docs(snapshot[name]), _strip_docs(current[name]), "", changes)
        problems.extend(f"{name}{change}" for change in changes)
    return problems


def main(argv: list[str]) -> int:
    """``write`` refreshes the snapshot; ``check`` prints incompatibilities."""
    if argv == ["write"]:
        for path in write_snapshot():
            print(path)
        return 0
    if argv == ["check"]:
        problems = incompatibilities(load_snapshot(), current_schemas())
        print("\n".join(problems) or "v1 contract unchanged")
        return 1 if problems else 0
    print("usage: python -m foxtrot.common.contract write|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
