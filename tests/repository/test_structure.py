"""How the code is kept readable and layered: no function over 80 lines outside the tests; bootstrap/ imports
`components` as a package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def test_bootstrap_imports_components_as_this_checkouts_installed_package() -> None:
    """bootstrap/ is a project of its own (its program's folder first on the import path, as Pulumi's language
    host runs it): it edits no import path, and `components` resolves through the editable install in .venv."""
    edits = [
        f"{path.name}:{node.lineno}"
        for path in sorted((ROOT / "bootstrap").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys"
    ]
    assert edits == []
    # -I: neither the current folder nor PYTHONPATH on the path, only what .venv installs.
    found = subprocess.run(
        [sys.executable, "-I", "-c", "import components.settings as s; print(s.__file__)"],
        cwd=ROOT / "bootstrap",
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, found.stderr.strip().splitlines()[-1:]
    assert Path(found.stdout.strip()) == ROOT / "components" / "settings.py"
