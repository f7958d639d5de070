"""The offline preview checks each resource as the program registers it (`check.Stream`): the packs see what the
sequential `check` shows them, in the plan's order, and a failing program's partial check is dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tools.mock_runtime.program import Resource, run_program
from tools.offline_preview import check as checking
from tools.offline_preview.analyzer import PackError, PolicyPack, RecordingPack

GRANTS = ROOT / "tests/policies/programs/grants"


@pytest.mark.parametrize("directory", [ROOT, GRANTS], ids=["the project", "a program using the default provider"])
def test_each_resource_is_handed_on_as_registered_in_the_plans_order(directory: Path) -> None:
    seen: list[Resource] = []
    plan = run_program(directory, "prod", preview=True, on_resource=seen.append)
    assert len(seen) == len(plan.resources) > 10
    assert all(a is b for a, b in zip(seen, plan.resources, strict=True))
    # A default provider just before the first resource that uses it, that resource pointed at it (the project
    # declares its providers).
    assert any(r.default for r in seen) is (directory == GRANTS)
    for index, resource in enumerate(seen):
        if resource.default:
            assert seen[index + 1].provider == f"{resource.urn}::{resource.id}"


def _sent(directory: Path, streamed: bool) -> list[tuple[str, Any]]:
    """The requests the packs get, streamed as the program runs or after it (`check`)."""
    pack = RecordingPack(ROOT / "policies", project="grants", stack="prod")
    if streamed:
        stream = checking.Stream([pack], lambda: None)
        plan = run_program(directory, "prod", preview=True, on_resource=stream.add)
        stream.finish(plan)
        stream.result()
    else:
        checking.check(run_program(directory, "prod", preview=True), [pack])
    return pack.sent


def _as_sent(requests: list[tuple[str, Any]]) -> tuple[list[str], list[bytes], list[bytes]]:
    """The methods in order; each Analyze request, and each resource of AnalyzeStack, sorted: a program that
    registers concurrently registers in another order on each run."""
    analyzed = sorted(r.SerializeToString(deterministic=True) for m, r in requests if m == "Analyze")
    stack = sorted(
        item.SerializeToString(deterministic=True) for m, r in requests if m == "AnalyzeStack" for item in r.resources
    )
    return [m for m, _ in requests], analyzed, stack


def test_a_streamed_check_sends_what_the_sequential_check_sends() -> None:
    methods, analyzed, stack = _as_sent(_sent(GRANTS, True))
    assert (methods, analyzed, stack) == _as_sent(_sent(GRANTS, False))
    assert methods[-1] == "AnalyzeStack" and methods.count("Analyze") == len(analyzed) == len(stack) > 10


def test_a_pack_failing_mid_stream_is_raised_once_the_program_is_done() -> None:
    batches: list[int] = []

    class Failing(PolicyPack):
        def analyze_all(self, resources: list[Any]) -> Any:
            batches.append(len(resources))
            if sum(batches) >= 3:
                raise PackError("the policy pack exited: boom")
            return [[] for _ in resources]

    pack = Failing(ROOT / "policies", project="grants", stack="prod", dry_run=True)
    stream = checking.Stream([pack], lambda: None)
    plan = run_program(GRANTS, "prod", preview=True, on_resource=stream.add)
    stream.finish(plan)
    with pytest.raises(PackError, match="boom"):
        stream.result()
    # The first failure ends the check: the failing batch is the last one sent.
    assert sum(batches[:-1]) < 3 <= sum(batches) < len(plan.resources)
