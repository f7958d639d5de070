"""tools/mock_runtime/program.py: runs of a program in one process stay apart, a failed one included."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import pytest

from tools.mock_runtime.mocks import AwsMocks
from tools.mock_runtime.program import run_program


def test_a_failed_run_returns_only_once_its_threads_are_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When one registration fails, Pulumi stops waiting for the others: the run returns only once the mock
    monitor's threads have answered them (nothing of a run happens after it returned). And the next run in
    the same process completes: each run has its own set of pending outputs (the mock settings leave it
    unset, and Pulumi's context properties then fall back to the first set ever made, where the failed run's
    futures, bound to its closed loop, would be awaited forever)."""
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


def test_an_error_other_than_the_runs_own_is_still_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The futures that carry a failed run's error are not logged again; a background task's error is."""
    (tmp_path / "Pulumi.yaml").write_text("name: failing\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import asyncio\nimport pulumi\n\n"
        "async def background():\n    raise KeyError('background problem')\n\n"
        "kept = asyncio.ensure_future(background())\n"
        "pulumi.export('x', pulumi.Output.from_input(1).apply(lambda v: 1 / 0))\n"
    )
    with pytest.raises(ZeroDivisionError):
        run_program(tmp_path, "dev")
    gc.collect()
    logged = [r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records if r.name == "asyncio"]
    assert any("never retrieved" in m and "background problem" in m for m in logged), logged
    assert not any("division by zero" in m for m in logged), logged
