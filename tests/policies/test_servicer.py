"""The pack's servicer (`policies/servicer.py`) parses each request once, and tells every policy what the SDK's own
servicer tells it: the same diagnostics, request by request, on real plans with and without violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as sdk
from pulumi_policy.version import VERSION

from policies import catalog, servicer
from tests.conftest import ROOT
from tools.mock_runtime.program import run_program
from tools.offline_preview.analyzer import RecordingPack
from tools.offline_preview.check import check

SDK_SERVICER = servicer.ParsedOnceServicer.__bases__[0]


def test_the_locked_sdk_is_the_version_the_servicer_follows() -> None:
    # A new pulumi-policy keeps its own servicer (install() refuses it) until its Analyze and AnalyzeStack are
    # read again and ADAPTED_FROM moves with them.
    assert VERSION == servicer.ADAPTED_FROM, (
        f"pulumi-policy {VERSION} is locked; policies/servicer.py follows {servicer.ADAPTED_FROM}: read the new "
        "version's _PolicyAnalyzerServicer.Analyze and AnalyzeStack, adapt the copy, then move ADAPTED_FROM"
    )
    assert SDK_SERVICER is sdk._PolicyAnalyzerServicer or sdk._PolicyAnalyzerServicer is servicer.ParsedOnceServicer


@pytest.mark.parametrize(("version", "installed"), [(servicer.ADAPTED_FROM, True), ("1.22.0", False)])
def test_the_servicer_is_installed_only_for_the_version_it_follows(
    monkeypatch: pytest.MonkeyPatch, version: str, installed: bool
) -> None:
    monkeypatch.setattr(servicer, "VERSION", version)
    monkeypatch.setattr(sdk, "_PolicyAnalyzerServicer", SDK_SERVICER)  # restored after the test
    assert servicer.install() is installed
    # What `pulumi_policy.PolicyPack` builds its servicer from.
    assert sdk._PolicyAnalyzerServicer is (servicer.ParsedOnceServicer if installed else SDK_SERVICER)


def _requests(directory: Path, stack: str) -> list[tuple[str, Any]]:
    """The requests the offline preview sends for a planned stack (in order), without a pack to answer them."""
    plan = run_program(directory, stack, preview=True)
    pack = RecordingPack(ROOT / "policies", project=plan.project, stack=stack)
    check(plan, [pack])
    return pack.sent


def _answers(servicer_class: type, requests: list[tuple[str, Any]]) -> list[list[tuple[str, str, str, int]]]:
    served = servicer_class("ml-pipelines-guardrails", "0.1.0", catalog.POLICIES, EnforcementLevel.MANDATORY)
    answers = []
    for method, request in requests:
        response = getattr(served, method)(request, None)
        answers.append([(d.policyName, d.urn, d.message, d.enforcementLevel) for d in response.diagnostics])
    return answers


@pytest.mark.parametrize(
    "directory",
    [ROOT, ROOT / "tests/policies/programs/grants"],
    ids=["the project's prod, without a config", "a program with grant violations"],
)
def test_every_policy_is_told_what_the_sdk_servicer_tells_it(directory: Path) -> None:
    stack = "prod"
    requests = _requests(directory, stack)
    assert [m for m, _ in requests].count("AnalyzeStack") == 1 and len(requests) > 20
    ours, theirs = _answers(servicer.ParsedOnceServicer, requests), _answers(SDK_SERVICER, requests)
    assert ours == theirs
    assert any(ours)  # without a config, prod's levels hold: both stacks have violations to agree on


def test_each_resource_is_parsed_once_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = _requests(ROOT, "prod")
    stack = next(request for method, request in requests if method == "AnalyzeStack")
    parsed: list[Any] = []
    original = servicer.deserialize_properties

    def counting(value: Any) -> Any:
        parsed.append(value)
        return original(value)

    monkeypatch.setattr(servicer, "deserialize_properties", counting)
    served = servicer.ParsedOnceServicer("p", "0.1.0", catalog.POLICIES, EnforcementLevel.MANDATORY)
    served.AnalyzeStack(stack, None)
    # 14 stack policies, the SDK's servicer parses every resource for each of them.
    assert len(parsed) == len(stack.resources)
    parsed.clear()
    served.Analyze(next(request for method, request in requests if method == "Analyze"), None)
    assert len(parsed) == 1
