"""The escalation, PassRole and data-plane-reach rules (issue 12) refuse bootstrap's deploy roles as they are
today, at prod's config: they join the pack (policies/__main__.py) once bootstrap puts its deploy roles under a
permissions boundary (issue 13), so that `make plan`, which holds bootstrap to prod's config, stays green.
A deploy policy written like today's must stay refused by them after that change, too."""

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
from tools.offline_preview.check import to_wire
from tools.offline_preview.program import run_program


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


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (PRIVILEGE_ESCALATION, "can escalate its privileges by "),
        (PASSROLE, "a role the stack does not define"),
        (DATA_REACH, "allowed kms:TagResource on every key of an account"),
    ],
    ids=["escalation", "PassRole", "data-plane reach"],
)
def test_todays_deploy_role_is_refused(bootstrap_prod: Stack, policy: Any, words: str) -> None:
    found = reported(policy, bootstrap_prod, {"allowedRoles": []} if policy is PASSROLE else None)
    assert any(m.startswith('aws:iam/role:Role "deploy-prod"') and words in m for m in found), found


FROZEN = Path(__file__).parent / "fixtures" / "deploy_policy_before_boundary.json"
"""bootstrap's prod deploy policy as it was before the permissions boundary (November 2026)."""


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (PRIVILEGE_ESCALATION, "PutRolePolicy"),
        (PASSROLE, "a role the stack does not define"),
        (DATA_REACH, "allowed kms:TagResource on every key of an account"),
    ],
    ids=["escalation", "PassRole", "data-plane reach"],
)
def test_a_deploy_policy_like_todays_stays_refused(policy: Any, words: str) -> None:
    stack = Stack().add(ROLE, "deploy-prod", {"name": "ml-pipelines-deploy-prod", "assumeRolePolicy": trust()})
    stack.add(ROLE_POLICY, "deploy", {"role": "ml-pipelines-deploy-prod", "policy": FROZEN.read_text()})
    found = reported(policy, stack)
    assert any(words in m for m in found), found
    assert json.loads(FROZEN.read_text())["Statement"]
