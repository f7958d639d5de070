"""Bootstrap's deploy roles under the escalation, PassRole and data-plane-reach rules, at prod's config.

Before the permissions boundary (November 2026) the prod deploy role could create a role with any policy; the
rules refuse that policy (frozen here) and pass bootstrap as it is now, because it is scoped (boundary
conditions, exact names, no KMS management), never because a rule was loosened: without prod.json's lists of
the pipelines' own resources the same bootstrap fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policies.data_reach import DATA_REACH
from policies.escalation import PRIVILEGE_ESCALATION
from policies.passrole import PASSROLE
from tests.conftest import ROOT
from tests.policies.conftest import Stack
from tests.policies.rules import ROLE, ROLE_POLICY, reported, trust
from tools.mock_runtime.program import run_program
from tools.offline_preview.check import to_wire

PROD_CONFIG = json.loads((ROOT / "policies/config/prod.json").read_text())


@pytest.fixture(scope="module")
def bootstrap_prod() -> Stack:
    plan = run_program(ROOT / "bootstrap", "prod")
    stack = Stack()
    for resource in plan.resources:
        props: dict[str, Any] = {**resource.wire_inputs}
        for key, value in resource.outputs.items():
            props.setdefault(key, to_wire(value))
        stack.add(resource.type, resource.name, props)
    return stack


@pytest.mark.parametrize("policy", [PRIVILEGE_ESCALATION, PASSROLE, DATA_REACH], ids=lambda p: p.name)
def test_bootstrap_passes_at_prods_config(bootstrap_prod: Stack, policy: Any) -> None:
    assert reported(policy, bootstrap_prod, PROD_CONFIG.get(policy.name, {})) == []


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (PRIVILEGE_ESCALATION, "EditExistingLambdaFunctionWithRole"),
        (PASSROLE, "tumor-prod-sfn, a role the stack does not define"),
    ],
    ids=["escalation", "PassRole"],
)
def test_the_pipelines_resources_count_as_own_only_by_name_in_the_config(
    bootstrap_prod: Stack, policy: Any, words: str
) -> None:
    found = reported(policy, bootstrap_prod, {})
    assert any(m.startswith('aws:iam/role:Role "deploy-prod"') and words in m for m in found), found


FROZEN = Path(__file__).parent / "fixtures" / "deploy_policy_before_boundary.json"
"""bootstrap's prod deploy policy as it was before the permissions boundary (November 2026)."""


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (PRIVILEGE_ESCALATION, "PutRolePolicy"),
        (DATA_REACH, "allowed kms:TagResource on every key of an account"),
    ],
    ids=["escalation", "data-plane reach"],
)
def test_the_deploy_policy_before_the_boundary_stays_refused(policy: Any, words: str) -> None:
    stack = Stack().add(ROLE, "deploy-prod", {"name": "ml-pipelines-deploy-prod", "assumeRolePolicy": trust()})
    stack.add(ROLE_POLICY, "deploy", {"role": "ml-pipelines-deploy-prod", "policy": FROZEN.read_text()})
    found = reported(policy, stack, PROD_CONFIG.get(policy.name, {}))
    assert any(words in m for m in found), found
    assert json.loads(FROZEN.read_text())["Statement"]
