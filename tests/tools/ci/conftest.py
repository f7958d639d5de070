"""The stand-in `gh` of the workflow tools' tests: it logs every call and answers a listing from listing.json."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def stand_in_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `gh` first on PATH; `--slurp` calls print listing.json (one empty page until a test writes it)."""
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "gh"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"log = open({str(log)!r}, 'a')\n"
        "stdin = sys.stdin.read() if '--input' in sys.argv else ''\n"
        "log.write(json.dumps({'argv': sys.argv[1:], 'stdin': stdin}) + '\\n')\n"
        f"print(open({str(tmp_path / 'listing.json')!r}).read() if sys.argv[-1] == '--slurp' else '{{}}')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "listing.json").write_text("[[]]")
    return tmp_path


def gh_calls(directory: Path) -> list[dict[str, Any]]:
    """The stand-in's calls, in order: {"argv": [...], "stdin": "..."}."""
    return [json.loads(line) for line in (directory / "calls.jsonl").read_text().splitlines()]
