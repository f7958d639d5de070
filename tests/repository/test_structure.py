"""How the code is kept readable: no function over 80 lines outside the tests."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

SOURCES = ["components", "functions", "policies", "tools", "bootstrap", "bench"]
MAX_LINES = 80


def test_no_function_is_longer_than_80_lines() -> None:
    files = [p for folder in SOURCES for p in (ROOT / folder).rglob("*.py")] + [ROOT / "ml_pipelines_cli.py"]
    long = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []
