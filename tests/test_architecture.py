"""The layout's rules: services never import each other; libs/core does no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "libs" / "core" / "src" / "foxtrot" / "core"


def test_import_contracts_hold() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_core_never_reads_the_clock_or_uses_asyncio() -> None:
    # Time comes in as data: that is what makes replay, backtests and property tests work.
    forbidden_modules = {"asyncio", "time", "socket", "subprocess", "threading"}
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            elif isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today"):
                offenders.append(f"{path.name}:{getattr(node, 'lineno', 0)} calls .{node.attr}()")
            offenders += [
                f"{path.name}:{getattr(node, 'lineno', 0)} imports {n}"
                for n in names
                if n in forbidden_modules
            ]
    assert offenders == []
