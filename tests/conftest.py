"""Shared fixtures: the project's real stacks, planned once per session under the mock runtime."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.mock_runtime.program import Plan, list_stacks, load_project, run_program

ROOT = Path(__file__).resolve().parent.parent
STACKS = list_stacks(load_project(ROOT))


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return {stack: run_program(ROOT, stack) for stack in STACKS}


@pytest.fixture(scope="session")
def preview_plans() -> dict[str, Plan]:
    return {stack: run_program(ROOT, stack, preview=True) for stack in STACKS}


def definition_of(plan: Plan, pipeline: str = "churn") -> dict[str, Any]:
    machine = next(
        r for r in plan.of_type("aws:sfn/stateMachine:StateMachine") if r.name == f"{pipeline}-state-machine"
    )
    return json.loads(machine.inputs["definition"])


def policy_of(plan: Plan, name: str) -> dict[str, Any]:
    return json.loads(plan.named(name).inputs["policy"])
