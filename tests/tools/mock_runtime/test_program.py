"""tools/mock_runtime/program.py: runs of a program in one process stay apart, a failed one included."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tools.mock_runtime.mocks import AwsMocks
from tools.mock_runtime.program import run_program


def test_a_failed_run_returns_only_once_its_threads_are_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mock monitor answers in executor threads. When one registration fails, Pulumi stops waiting for the
    others; a thread still answering after the run returned would track its futures in the next run's settings
    (Pulumi's context properties fall back to the last value set) and leave that run waiting forever."""
    (tmp_path / "Pulumi.yaml").write_text("name: failing\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text('import pulumi_aws as aws\naws.s3.Bucket("slow")\naws.s3.Bucket("fails")\n')
    answered: list[str] = []
    original = AwsMocks.new_resource

    def new_resource(self: AwsMocks, args: Any) -> Any:
        if args.name == "fails":
            raise RuntimeError("the mocks refuse this one")
        time.sleep(0.5)
        result = original(self, args)
        answered.append(args.name)
        return result

    monkeypatch.setattr(AwsMocks, "new_resource", new_resource)
    with pytest.raises(Exception, match="the mocks refuse this one"):
        run_program(tmp_path, "dev")
    assert answered == ["slow"]
    monkeypatch.undo()

    # And the next run, in the same process, completes.
    buckets = run_program(tmp_path, "dev", preview=True).of_type("aws:s3/bucket:Bucket")
    assert sorted(r.name for r in buckets) == ["fails", "slow"]
