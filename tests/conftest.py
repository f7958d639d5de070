"""Shared fixtures: the project's real stacks, planned once per session under the mock runtime."""

from __future__ import annotations

import fcntl
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from tools.mock_runtime.program import Plan, list_stacks, load_project, run_program

ROOT = Path(__file__).resolve().parent.parent
STACKS = list_stacks(load_project(ROOT))
T = TypeVar("T")


def _once_per_run(request: pytest.FixtureRequest, name: str, make: Callable[[], T]) -> T:
    """`make()` once for the whole run. Under pytest-xdist each worker is a process of its own: the first to
    need the value makes it and leaves it (pickled) in the run's shared temporary folder, the others read it."""
    if getattr(request.config, "workerinput", None) is None:
        return make()
    folder = request.getfixturevalue("tmp_path_factory").getbasetemp().parent
    path = folder / f"{name}.pickle"
    with (folder / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            return cast(T, pickle.loads(path.read_bytes()))
        value = make()
        partial = path.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(value))
        partial.replace(path)  # whole or absent, even if this worker is stopped while writing
        return value


@pytest.fixture(scope="session")
def plans(request: pytest.FixtureRequest) -> dict[str, Plan]:
    return _once_per_run(request, "plans", lambda: {stack: run_program(ROOT, stack) for stack in STACKS})


@pytest.fixture(scope="session")
def preview_plans(request: pytest.FixtureRequest) -> dict[str, Plan]:
    return _once_per_run(
        request, "preview-plans", lambda: {stack: run_program(ROOT, stack, preview=True) for stack in STACKS}
    )


def definition_of(plan: Plan, pipeline: str = "tumor") -> dict[str, Any]:
    machine = next(
        r for r in plan.of_type("aws:sfn/stateMachine:StateMachine") if r.name == f"{pipeline}-state-machine"
    )
    return json.loads(machine.inputs["definition"])


def policy_of(plan: Plan, name: str) -> dict[str, Any]:
    return json.loads(plan.named(name).inputs["policy"])


@pytest.fixture(scope="session")
def local_run(request: pytest.FixtureRequest) -> dict[str, Any]:
    """`ml-pipelines run-local --stack dev --json`, once per run: dev's pipelines trained, gated and served here."""

    def make() -> dict[str, Any]:
        import contextlib
        import io

        from tools.run_local.__main__ import main

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["--stack", "dev", "--json", "--cwd", str(ROOT)])
        return {"code": code, **json.loads(out.getvalue())}

    return _once_per_run(request, "local-run", make)
