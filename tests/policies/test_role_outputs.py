"""A role as the engine hands it to stack policies: its outputs (pulumi's `AnalyzeResources`: "AnalyzeStack is
called on the final outputs of each resource"). pulumi_aws's `inlinePolicies` and `managedPolicyArns` are Optional
and Computed (terraform-provider-aws `internal/service/iam/role.go`): unknown at a preview of a role that does not
set them, and, once the role is read, every inline policy and managed policy it holds, whichever resource put it
there. Read as grants of the program's, they made the first real preview of a stack with roles fail on every role,
and a `pulumi up` report each RolePolicy as a second inline policy of its name."""

from __future__ import annotations

import json

import pytest

from policies import framework, iam, limits, resource_policies
from tests.policies.conftest import UNKNOWN, Stack, resource_args
from tests.policies.test_unknown_references import EVERYTHING, TIGHT, TRUST_SAGEMAKER, findings
from tools.mock_runtime.program import Plan
from tools.offline_preview.check import UNKNOWN_STRING, _Graph

ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
DENY = {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}


def _role(inline: object, arns: object) -> Stack:
    values = {"name": "trainer", "assumeRolePolicy": TRUST_SAGEMAKER, "inlinePolicies": inline}
    return Stack().add(ROLE, "trainer", {**values, "managedPolicyArns": arns}, custom=True)


def _policy(stack: Stack, name: str, document: object) -> Stack:
    values = {"role": "trainer", "name": name, "policy": json.dumps(document)}
    return stack.add(ROLE_POLICY, f"trainer-{name}", values, custom=True)


def _limits(stack: Stack) -> list[str]:
    found: list[str] = []
    limits.PRINCIPAL_LIMITS.validate(stack.args(), lambda message, urn=None: found.append(message))
    return found


def test_a_preview_of_a_role_that_does_not_set_its_lists_is_judged_on_its_policies() -> None:
    stack = _policy(_role(UNKNOWN, UNKNOWN), "train", TIGHT)
    assert findings(stack) == [] and _limits(stack) == []


def test_once_read_the_lists_are_the_same_policies_not_second_ones() -> None:
    big = {"Statement": [{**TIGHT["Statement"][0], "Sid": "x" * 6_000}]}
    read_back = [{"name": "train", "policy": json.dumps(big)}]
    stack = _policy(_role(read_back, []), "train", big)
    assert [m for p, m in findings(stack) if "second inline policy" in m] == []
    assert _limits(stack) == []  # 6,000 characters once, not twice (over 10,240)


def test_once_read_a_policy_the_stack_does_not_declare_is_judged() -> None:
    """An adopted role's own policy, as the role's read reports it: judged like any grant."""
    read_back = [{"name": "train", "policy": json.dumps(TIGHT)}, {"name": "admin", "policy": json.dumps(EVERYTHING)}]
    stack = _policy(_role(read_back, ["arn:aws:iam::aws:policy/AdministratorAccess"]), "train", TIGHT)
    reported = {p for p, _ in findings(stack)}
    assert {"sagemaker-no-full-access-in-prod", "iam-no-privilege-escalation"} <= reported


def test_a_deny_the_roles_known_list_leaves_out_does_not_count() -> None:
    """Set on the role, the list is exclusive: the provider removes the RolePolicy it does not hold."""
    stack = _policy(_role([{"name": "allow", "policy": json.dumps(EVERYTHING)}], UNKNOWN), "guard", DENY)
    assert "sagemaker-no-full-access-in-prod" in {p for p, _ in findings(stack)}
    held = [{"name": n, "policy": json.dumps(d)} for n, d in (("allow", EVERYTHING), ("guard", DENY))]
    assert "sagemaker-no-full-access-in-prod" not in {
        p for p, _ in findings(_policy(_role(held, UNKNOWN), "guard", DENY))
    }


def test_lists_a_program_sets_to_a_value_not_known_at_preview_are_refused_on_the_inputs() -> None:
    found: list[str] = []
    for key in ("inlinePolicies", "managedPolicyArns"):
        values = {"name": "trainer", "assumeRolePolicy": TRUST_SAGEMAKER, key: UNKNOWN}
        iam.LEAST_PRIVILEGE.validate(
            resource_args(ROLE, values, name="trainer"), lambda message, urn=None: found.append(message)
        )
    assert len(found) == 2 and all("is not known at preview, so it may grant anything" in m for m in found)


def test_the_offline_preview_sends_a_roles_lists_as_the_engine_does(
    plans: dict[str, Plan], preview_plans: dict[str, Plan]
) -> None:
    for plan, preview in ((preview_plans["prod"], True), (plans["prod"], False)):
        graph = _Graph(plan)
        for role in plan.of_type(ROLE):
            state = graph.state(role).properties
            policies = {p.inputs["name"] for p in plan.of_type(ROLE_POLICY) if p.inputs["role"] == role.inputs["name"]}
            if preview:
                assert state["inlinePolicies"] == state["managedPolicyArns"] == UNKNOWN_STRING
            else:
                assert {e["name"] for e in state["inlinePolicies"]} == policies and state["managedPolicyArns"] == []


def _exposure(stack: Stack) -> list[str]:
    found: list[str] = []
    resource_policies.RESOURCE_POLICIES.validate(stack.args(), lambda message, urn=None: found.append(message))
    return found


def test_an_output_the_provider_computes_is_not_the_programs_once_its_inputs_are_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A topic's `policy` is Optional and Computed: unknown at a preview of a topic that does not set it (its
    TopicPolicy sets it). Once a resource policy of the pack has seen the topic's inputs (the engine's Analyze
    comes before AnalyzeStack), that unknown is the provider's; one the program sets stays a gap, and without
    the inputs every unknown stays one (fail closed)."""
    monkeypatch.setattr(framework, "_PROGRAM_SET", {})  # what this test's resource policies note stays here
    topic = "aws:sns/topic:Topic"
    stack = Stack().add(topic, "alerts", {"name": "alerts", "policy": UNKNOWN}, custom=True)
    assert _exposure(stack)  # no inputs seen: refused
    iam.LEAST_PRIVILEGE.validate(resource_args(topic, {"name": "alerts"}, name="alerts"), lambda m, urn=None: None)
    assert _exposure(stack) == []
    iam.LEAST_PRIVILEGE.validate(
        resource_args(topic, {"name": "alerts", "policy": UNKNOWN}, name="alerts"), lambda m, urn=None: None
    )
    assert any("not known yet" in m for m in _exposure(stack))
