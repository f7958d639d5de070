"""aws-limits-respected: what `pulumi up` would be refused, said at preview, with the limit and its page."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from policies.limits import LIMITS, PRINCIPAL_LIMITS, limits
from tests.policies.conftest import UNKNOWN, Stack, resource_args, violations
from tests.policies.rules import reported

ROLE, POLICY = "aws:iam/role:Role", "aws:iam/policy:Policy"
IAM_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"


def _document(statements: int, padding: int = 80) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/{i}{'k' * padding}"}
                for i in range(statements)
            ],
        },
        indent=4,  # whitespace is not counted
    )


@pytest.mark.parametrize(
    ("type_", "values", "message"),
    [
        (ROLE, {"name": "r" * 65}, f"name {'r' * 65!r} is 65 characters; AWS accepts 1 to 64"),
        (ROLE, {"name": "has space"}, "name 'has space' does not match [\\w+=,.@-]+"),
        ("aws:sfn/stateMachine:StateMachine", {"name": "a:b"}, "name 'a:b' does not match"),
        ("aws:s3/bucket:Bucket", {"bucket": "ab"}, "bucket 'ab' is 2 characters; AWS accepts 3 to 63"),
        ("aws:s3/bucket:Bucket", {"bucket": "Upper-Case"}, "bucket 'Upper-Case' does not match"),
        ("aws:cloudwatch/logGroup:LogGroup", {"name": "/a b"}, "name '/a b' does not match"),
        (
            "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
            {"modelPackageGroupName": "g" * 64},
            "modelPackageGroupName",
        ),
        (POLICY, {"name": "p", "policy": _document(60)}, "policy is 9,268 characters, over the 6,144"),
        (
            ROLE,
            {"name": "r", "assumeRolePolicy": _document(20)},
            "assumeRolePolicy is 3,108 characters, over the 2,048",
        ),
        ("aws:sfn/stateMachine:StateMachine", {"name": "m", "definition": "x" * 1048577}, "definition is 1,048,577"),
    ],
)
def test_each_limit_is_one_message_naming_it(type_: str, values: dict[str, Any], message: str) -> None:
    [found] = violations(LIMITS, resource_args(type_, values))
    assert message in found, found
    assert "To pass:" in found and "https://docs.aws.amazon.com/" in found


@pytest.mark.parametrize(
    ("type_", "values"),
    [
        (ROLE, {"name": "r" * 64, "assumeRolePolicy": _document(13)}),
        (POLICY, {"name": "p", "policy": _document(39)}),  # within 6,144 once whitespace is left out
        ("aws:s3/bucket:Bucket", {"bucket": "ml-pipelines-dev-123456789012-eu-west-1"}),
        (ROLE, {"name": UNKNOWN, "assumeRolePolicy": UNKNOWN}),  # not known at preview: not measured
    ],
)
def test_within_the_limits_passes(type_: str, values: dict[str, Any]) -> None:
    assert violations(LIMITS, resource_args(type_, values)) == []


def test_tags_count_with_the_providers_default_tags() -> None:
    provider = {"defaultTags": json.dumps({"tags": {f"d{i}": "x" for i in range(30)}})}
    args = resource_args(ROLE, {"name": "r", "tags": {f"t{i}": "x" for i in range(21)}}, provider=provider)
    assert violations(LIMITS, args) == [
        'aws:iam/role:Role "subject": 51 tags with the provider\'s default tags; AWS accepts 50 '
        "(https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html). To pass: fewer tags."
    ]
    [long] = violations(LIMITS, resource_args(ROLE, {"name": "r", "tags": {"k" * 129: "v"}}))
    assert "keys take at most 128 characters, values 256" in long


def test_a_roles_inline_policies_together_and_its_attachments() -> None:
    stack = Stack().add(ROLE, "r", {"name": "r"})
    for index in range(3):
        stack.add("aws:iam/rolePolicy:RolePolicy", f"p{index}", {"role": "r", "policy": _document(30)})
    for index in range(11):
        arn = f"arn:aws:iam::123456789012:policy/p{index}"
        stack.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"a{index}", {"role": "r", "policyArn": arn})
    found = reported(PRINCIPAL_LIMITS, stack)
    assert len(found) == 2
    assert found[0].startswith("the inline policies of role r are 13,944 characters together, over the 10,240 IAM")
    assert found[1] == (
        f"role r has 11 managed policies attached; IAM attaches 10 by default ({IAM_PAGE}; raisable to 20). "
        "To pass: fewer, larger policies, or a quota increase."
    )


SERVICE_SHAPES = {
    "aws:iam/role:Role": ("iam", "CreateRole", "RoleName"),
    "aws:iam/policy:Policy": ("iam", "CreatePolicy", "PolicyName"),
    "aws:sfn/stateMachine:StateMachine": ("stepfunctions", "CreateStateMachine", "name"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs", "CreateLogGroup", "logGroupName"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (
        "sagemaker",
        "CreateModelPackageGroup",
        "ModelPackageGroupName",
    ),
    "aws:cloudwatch/eventRule:EventRule": ("events", "PutRule", "Name"),
    "aws:scheduler/schedule:Schedule": ("scheduler", "CreateSchedule", "Name"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch", "PutMetricAlarm", "AlarmName"),
}


@pytest.mark.parametrize("type_", sorted(SERVICE_SHAPES))
def test_the_name_rules_are_the_ones_aws_publishes_in_its_service_models(type_: str) -> None:
    """Checked against botocore's service models, independent of the data file's own citations."""
    service, operation, member = SERVICE_SHAPES[type_]
    metadata = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    published = metadata.members[member].metadata
    [rule] = [r for r in limits()["names"] if r["type"] == type_]
    assert rule["max"] == published["max"]
    if "pattern" in published:
        assert rule["pattern"] == published["pattern"]


def test_every_limit_cites_an_aws_page() -> None:
    data = limits()
    for section in ("iam", "stepFunctions", "tags"):
        assert data[section]["source"].startswith("https://docs.aws.amazon.com/")
    assert all(rule["source"].startswith("https://docs.aws.amazon.com/") for rule in data["names"])


def test_the_program_splits_policies_at_the_packs_own_quotas() -> None:
    """bootstrap splits the deploy permissions with components' copy of the quotas (it cannot read the pack's data
    file): the copy must be the pack's."""
    from components import iam_documents

    iam = limits()["iam"]
    assert iam["managedPolicyCharacters"] == iam_documents.MANAGED_POLICY_CHARACTERS
    assert iam["managedPoliciesPerRole"] == iam_documents.MANAGED_POLICIES_PER_ROLE
