"""The IAM policies as the SDK calls them: thin phrasing over `policies/access` (tested in tests/policies/access)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import PolicyProviderResource

from policies.access import catalog
from policies.framework import EnvironmentResourcePolicy
from policies.iam import DECIDABLE, LEAST_PRIVILEGE, SAGEMAKER_NO_FULL_ACCESS, SCOPE_SAGEMAKER, SCOPE_STATEMENT
from tests.policies.conftest import UNKNOWN, Stack, props, resource_args, urn, violations

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED = "arn:aws:iam::aws:policy/{}"
SCOPED: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Train",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"],
            "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/tumor-prod-*",
        },
        {
            "Sid": "PassRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::123456789012:role/tumor-prod-sagemaker",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        {"Sid": "FindEndpoints", "Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "*"},
    ],
}
STARTING = {"Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction", "sagemaker:*"], "Resource": "*"}]}
SAGEMAKER = catalog.service("sagemaker")
assert SAGEMAKER is not None
HALF = len(SAGEMAKER.actions) // 2


def reported(policy: Any, stack: Stack, config: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    policy.validate(stack.args(config), lambda message, at=None: found.append((at or "", message)))
    return found


def role_with(*documents: Any) -> Stack:
    stack = Stack().add(ROLE, "runner", {"name": "tumor-prod-sfn", "assumeRolePolicy": "{}"})
    for index, document in enumerate(documents):
        stack.add(ROLE_POLICY, f"part-{index}", {"role": "tumor-prod-sfn", "policy": json.dumps(document)})
    return stack


# -- sagemaker-no-full-access-in-prod ----------------------------------------------------------------------------
def test_a_scoped_role_passes() -> None:
    assert reported(SAGEMAKER_NO_FULL_ACCESS, role_with(SCOPED)) == []


def test_the_starting_grant_is_reported_on_the_role_with_a_witness_and_the_remedy() -> None:
    [(at, message)] = reported(SAGEMAKER_NO_FULL_ACCESS, role_with(STARTING))
    assert at == urn(ROLE, "runner")
    assert message == (
        f'{ROLE} "runner": allowed every SageMaker action IAM publishes ({len(SAGEMAKER.actions)}, IAM data of '
        f"{catalog.data_date()}) on every resource type each accepts, e.g. sagemaker:CreateTrainingJob on "
        f'arn:aws:sagemaker:us-east-1:123456789012:reserved-capacity/example, granted by {ROLE_POLICY} "part-0" '
        f'policy statement 0; through {ROLE_POLICY} "part-0" policy statement 0. {SCOPE_SAGEMAKER}'
    )


def test_a_grant_split_over_two_policies_of_one_role_is_reported_once_naming_both() -> None:
    first = {"Statement": [{"Effect": "Allow", "Action": [a.name for a in SAGEMAKER.actions[:HALF]], "Resource": "*"}]}
    second = {
        "Statement": [
            {"Sid": "Rest", "Effect": "Allow", "Action": [a.name for a in SAGEMAKER.actions[HALF:]], "Resource": "*"}
        ]
    }
    [(at, message)] = reported(SAGEMAKER_NO_FULL_ACCESS, role_with(first, second))
    assert at == urn(ROLE, "runner")
    assert f'through {ROLE_POLICY} "part-0" policy statement 0, {ROLE_POLICY} "part-1" policy statement 0 (Rest)' in (
        message
    )


def test_an_aws_managed_attachment_is_judged_by_its_document() -> None:
    stack = Stack().add(ROLE, "runner", {"name": "r", "managedPolicyArns": [MANAGED.format("AdministratorAccess")]})
    [(_, message)] = reported(SAGEMAKER_NO_FULL_ACCESS, stack)
    assert f"granted by AWS-managed policy AdministratorAccess (snapshot {catalog.managed_snapshot()})" in message


def test_a_managed_policy_of_the_stack_is_judged_alone_too() -> None:
    stack = Stack().add("aws:iam/policy:Policy", "wide", {"name": "wide", "policy": json.dumps(STARTING)})
    [(at, message)] = reported(SAGEMAKER_NO_FULL_ACCESS, stack)
    assert at == urn("aws:iam/policy:Policy", "wide")
    assert message.startswith('aws:iam/policy:Policy "wide": allowed every SageMaker action')


# -- iam-attached-policies-checked ------------------------------------------------------------------------------
def test_what_cannot_be_decided_is_reported_where_it_is() -> None:
    stack = (
        Stack()
        .add("aws:iam/policy:Policy", "benign", {"name": "benign", "policy": json.dumps(SCOPED), "arn": UNKNOWN})
        # benign.arn.apply(lambda _: "arn:aws:iam::aws:policy/AdministratorAccess"): unknown at a first preview
        .add(ATTACHMENT, "swap", {"role": "r", "policyArn": UNKNOWN}, policyArn="benign")
    )
    assert reported(DECIDABLE, stack) == [
        (
            urn(ATTACHMENT, "swap"),
            f'{ATTACHMENT} "swap": policyArn: the policy it attaches is not known at preview (it is built from an '
            'output of aws:iam/policy:Policy "benign"); build it from names '
            "and the account, region and partition (components/arns.py), not from outputs of resources being "
            "created, so that it is known at preview.",
        )
    ]


def test_readable_types_come_from_the_pack_config() -> None:
    stack = Stack()
    dynamic = "pulumi-python:dynamic:Resource"
    stack.add(dynamic, "d", {"size": 1})
    stack.resources["d"].provider = PolicyProviderResource(
        "pulumi:providers:pulumi-python", props({}), urn("pulumi:providers:pulumi-python", "default"), "default"
    )
    [(at, message)] = reported(DECIDABLE, stack)
    assert at == urn(dynamic, "d")
    assert f'list "{dynamic}" in readableTypes of iam-attached-policies-checked in the pack config' in message
    assert reported(DECIDABLE, stack, {"readableTypes": [dynamic]}) == []


# -- iam-least-privilege-in-prod --------------------------------------------------------------------------------
def role_policy(document: Any) -> Any:
    return resource_args(ROLE_POLICY, {"role": "tumor-prod-sfn", "policy": document})


def test_least_privilege_passes_a_scoped_policy() -> None:
    assert violations(LEAST_PRIVILEGE, role_policy(json.dumps(SCOPED))) == []


def test_least_privilege_reports_each_finding_with_the_remedy() -> None:
    [message] = violations(
        LEAST_PRIVILEGE, role_policy({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    )
    assert message == (
        f"{ROLE_POLICY} \"subject\": policy: statement 0 allows s3:GetObject on '*', but IAM scopes that action to "
        f"resource ARNs. {SCOPE_STATEMENT}"
    )


def test_least_privilege_judges_aws_managed_policies_by_their_documents() -> None:
    def attached(name: str, config: dict[str, Any] | None = None) -> list[str]:
        values = {"role": "r", "policyArn": MANAGED.format(name)}
        return violations(LEAST_PRIVILEGE, resource_args(ATTACHMENT, values, config=config))

    assert attached("AWSDenyAll") == []
    assert any("NotResource" in m for m in attached("AmazonSageMakerFullAccess"))
    assert attached("AmazonSageMakerFullAccess", {"allowedManagedPolicies": ["AmazonSageMakerFullAccess"]}) == []
    assert attached("AWSDenyAll", {"allowAwsManagedPolicies": False}) == [
        f'{ATTACHMENT} "subject": policyArn attaches the AWS-managed policy AWSDenyAll, and this environment\'s pack '
        "config does not allow AWS-managed policies (allowAwsManagedPolicies: false). To pass: grant what the "
        "principal needs in its own policy, or list the policy in allowedManagedPolicies."
    ]


# -- the framework: a policy never crashes ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RecursionError(), "boom could not read a value nested deeper than it follows; such a value is not allowed"),
        (KeyError("x"), "boom failed while judging (KeyError: 'x'); nothing it could not judge is allowed"),
    ],
)
def test_a_policy_that_fails_reports_instead_of_crashing(error: BaseException, message: str) -> None:
    def validate(args: Any, report: Any) -> None:
        raise error

    policy = EnvironmentResourcePolicy("boom", "Fails.", validate)
    assert violations(policy, role_policy("{}")) == [message]


def test_an_unknown_the_policy_touches_is_a_violation_not_an_advisory() -> None:
    def validate(args: Any, report: Any) -> None:
        args.props["policy"]  # the SDK's proxy raises on an unknown

    policy = EnvironmentResourcePolicy("touchy", "Reads an unknown.", validate)
    [message] = violations(policy, role_policy(UNKNOWN))
    assert message.startswith("touchy could not decide: ")
    assert message.endswith("a value it needs must be known at preview")


FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


def _full_role(**extra: Any) -> Stack:
    from tests.policies.rules import trust

    return Stack().add("aws:iam/role:Role", "r", {"name": "r", "assumeRolePolicy": trust(), **extra})


@pytest.mark.parametrize(
    "stack",
    [
        _full_role(managedPolicyArns=[FULL]),
        _full_role().add(ATTACHMENT, "a", {"role": "r", "policyArn": FULL}),
        _full_role().add("aws:iam/policyAttachment:PolicyAttachment", "a", {"roles": ["r"], "policyArn": FULL}),
        _full_role().add(
            "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
            "a",
            {"roleName": "r", "policyArns": [FULL]},
        ),
        Stack()
        .add("aws:iam/user:User", "u", {"name": "u"})
        .add("aws:iam/userPolicyAttachment:UserPolicyAttachment", "a", {"user": "u", "policyArn": FULL}),
        Stack()
        .add("aws:iam/group:Group", "g", {"name": "g"})
        .add("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "a", {"group": "g", "policyArn": FULL}),
    ],
    ids=["managedPolicyArns", "RolePolicyAttachment", "PolicyAttachment", "attachments exclusive", "user", "group"],
)
def test_amazon_sagemaker_full_access_is_the_first_thing_the_rule_stops(stack: Stack) -> None:
    """AWS's own AmazonSageMakerFullAccess, by every attachment path: every action on all but 7 of SageMaker's 74
    resource types (a NotResource spares Studio's administration)."""
    [(_, message)] = reported(SAGEMAKER_NO_FULL_ACCESS, stack)
    assert "allowed every SageMaker action IAM publishes" in message
    assert "on every resource type each accepts but 7 (app, domain, partner-app, reserved-capacity, space" in message
    assert "AWS-managed policy AmazonSageMakerFullAccess" in message
