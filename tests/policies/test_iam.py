"""The IAM policies, one resource or stack at a time, as the SDK calls them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.iam import ATTACHED_POLICIES_READABLE, LEAST_PRIVILEGE, SAGEMAKER_NO_FULL_ACCESS
from tests.policies.conftest import UNKNOWN, Stack, resource_args, violations
from tools.offline_preview.mocks import render_policy_document

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
SCOPED: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Train",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"],
            "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/churn-prod-*",
        },
        {
            "Sid": "PassRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::123456789012:role/churn-prod-sagemaker",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        {"Sid": "FindEndpoints", "Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "*"},
    ],
}
STARTING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction", "sagemaker:*"], "Resource": "*"}],
}
SCOPE_SAGEMAKER = (
    "To pass: list the SageMaker actions the role calls and the ARNs it calls them on, "
    "e.g. arn:aws:sagemaker:<region>:<account>:training-job/<pipeline>-<stack>-*."
)
KNOW_AT_PREVIEW = (
    "To pass: build the document from names and the account, region and partition "
    "(components/arns.py) rather than from outputs of resources being created."
)
SCOPE_STATEMENT = (
    "To pass: name the actions, and the ARNs for actions that support resource-level permissions "
    "(policy_sentry query action-table --service <service> shows which do)."
)


def role_policy(document: Any) -> Any:
    return resource_args(ROLE_POLICY, {"role": "churn-prod-sfn", "policy": document})


# -- sagemaker-no-full-access-in-prod ------------------------------------------------------------------------


def test_a_scoped_policy_passes() -> None:
    assert violations(SAGEMAKER_NO_FULL_ACCESS, role_policy(json.dumps(SCOPED))) == []


def test_the_starting_grant_is_reported_with_resource_statement_and_remedy() -> None:
    assert violations(SAGEMAKER_NO_FULL_ACCESS, role_policy(json.dumps(STARTING))) == [
        'aws:iam/rolePolicy:RolePolicy "subject": policy: statement 0 grants every SageMaker action on every '
        f"SageMaker resource (every region and account). {SCOPE_SAGEMAKER}"
    ]


MANAGED = "arn:aws:iam::aws:policy/{}"
GRANT_SOURCES: list[tuple[str, str, dict[str, Any], str]] = [
    ("RolePolicy, JSON text", ROLE_POLICY, {"role": "r", "policy": json.dumps(STARTING)}, "policy:"),
    ("RolePolicy, a dict", ROLE_POLICY, {"role": "r", "policy": STARTING}, "policy:"),
    ("UserPolicy", "aws:iam/userPolicy:UserPolicy", {"user": "u", "policy": json.dumps(STARTING)}, "policy:"),
    ("GroupPolicy", "aws:iam/groupPolicy:GroupPolicy", {"group": "g", "policy": json.dumps(STARTING)}, "policy:"),
    ("Policy (for attachments)", "aws:iam/policy:Policy", {"policy": json.dumps(STARTING)}, "policy:"),
    (
        "get_policy_document, rendered",
        ROLE_POLICY,
        {
            "role": "r",
            "policy": render_policy_document(
                {"statements": [{"actions": ["sagemaker:*", "lambda:InvokeFunction"], "resources": ["*"]}]}
            ),
        },
        "policy:",
    ),
    (
        "Role inline policy",
        ROLE,
        {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "wide", "policy": json.dumps(STARTING)}]},
        "inlinePolicies[0] (wide):",
    ),
    (
        "Role managed policy ARN",
        ROLE,
        {"assumeRolePolicy": "{}", "managedPolicyArns": [MANAGED.format("AmazonSageMakerFullAccess")]},
        "managedPolicyArns[0] attaches the AWS-managed policy AmazonSageMakerFullAccess",
    ),
    (
        "RolePolicyAttachment",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": MANAGED.format("PowerUserAccess")},
        "policyArn attaches the AWS-managed policy PowerUserAccess",
    ),
    (
        "PolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        {"roles": ["r"], "policyArn": MANAGED.format("AdministratorAccess")},
        "policyArn attaches the AWS-managed policy AdministratorAccess",
    ),
    (
        "RolePolicyAttachmentsExclusive",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        {"roleName": "r", "policyArns": [MANAGED.format("ReadOnlyAccess"), MANAGED.format("AdministratorAccess")]},
        "policyArns[1] attaches the AWS-managed policy AdministratorAccess",
    ),
    (
        "UserPolicyAttachment, another partition, a path",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        {"user": "u", "policyArn": "arn:aws-cn:iam::aws:policy/job-function/DataScientist"},
        "policyArn attaches the AWS-managed policy DataScientist",
    ),
]


@pytest.mark.parametrize(
    ("type_", "values", "where"), [s[1:] for s in GRANT_SOURCES], ids=[s[0] for s in GRANT_SOURCES]
)
def test_the_grant_is_found_wherever_it_lives(type_: str, values: dict[str, Any], where: str) -> None:
    [message] = violations(SAGEMAKER_NO_FULL_ACCESS, resource_args(type_, values))
    assert message.startswith(f'{type_} "subject": {where}')
    assert "every SageMaker action on every SageMaker resource" in message
    assert message.endswith(SCOPE_SAGEMAKER)


def test_aws_managed_policies_that_do_not_grant_it_pass() -> None:
    values = {"role": "r", "policyArn": MANAGED.format("AmazonSageMakerReadOnly")}
    args = resource_args("aws:iam/rolePolicyAttachment:RolePolicyAttachment", values)
    assert violations(SAGEMAKER_NO_FULL_ACCESS, args) == []


def test_a_document_unknown_at_preview_is_a_violation_saying_why() -> None:
    assert violations(SAGEMAKER_NO_FULL_ACCESS, role_policy(UNKNOWN)) == [
        'aws:iam/rolePolicy:RolePolicy "subject": policy cannot be read: the document is not known yet (it is '
        "computed from resources still being created); a grant that cannot be read is not allowed in prod. "
        f"{KNOW_AT_PREVIEW}"
    ]


def test_a_literal_star_beside_unknown_resources_is_still_the_full_grant() -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": [UNKNOWN, "*"]}]}
    [message] = violations(SAGEMAKER_NO_FULL_ACCESS, role_policy(document))
    assert "statement 0 grants every SageMaker action on every SageMaker resource" in message


@pytest.mark.parametrize(
    ("statement", "unknown"),
    [
        ({"Action": "sagemaker:*", "Resource": [UNKNOWN]}, "Resource"),
        ({"Action": [UNKNOWN, "s3:GetObject"], "Resource": "*"}, "Action"),
    ],
)
def test_unknowns_that_could_complete_the_grant_are_violations(statement: dict[str, Any], unknown: str) -> None:
    document = {"Statement": [{"Effect": "Allow", **statement}]}
    assert violations(SAGEMAKER_NO_FULL_ACCESS, role_policy(document)) == [
        f'aws:iam/rolePolicy:RolePolicy "subject": policy: statement 0 has {unknown} not known at preview, so it '
        f"may grant every SageMaker action on every SageMaker resource. {KNOW_AT_PREVIEW}"
    ]


def test_unknown_resources_beside_named_actions_cannot_complete_the_grant() -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": UNKNOWN}]}
    assert violations(SAGEMAKER_NO_FULL_ACCESS, role_policy(document)) == []


def test_an_unknown_attachment_arn_is_left_to_the_stack_policy() -> None:
    args = resource_args("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": UNKNOWN})
    assert violations(SAGEMAKER_NO_FULL_ACCESS, args) == []


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(["Statement", "Effect", "Action", "Resource", "NotResource", "x"]), c, max_size=4
            )
        ),
        max_leaves=20,
    )
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_any_json_value_as_a_document_is_judged_without_crashing(value: Any) -> None:
    for document in (value, json.dumps(value)):
        for message in violations(SAGEMAKER_NO_FULL_ACCESS, role_policy(document)):
            assert message.startswith('aws:iam/rolePolicy:RolePolicy "subject": policy')


# -- iam-least-privilege-in-prod -----------------------------------------------------------------------------


def test_least_privilege_passes_a_scoped_policy_with_star_only_actions_on_star() -> None:
    document = json.loads(json.dumps(SCOPED))
    document["Statement"].append(
        {
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "logs:CreateLogDelivery", "logs:DescribeLogGroups"],
            "Resource": "*",
        }
    )
    assert violations(LEAST_PRIVILEGE, role_policy(document)) == []


LEAST_PRIVILEGE_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("every action", {"Action": "*", "Resource": "*"}, ["statement 0: `*` is every action of every service"]),
    (
        "service wildcard, any case",
        {"Action": "SageMaker:*", "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:model/x"},
        ["statement 0: `SageMaker:*` is every SageMaker action"],
    ),
    (
        "glob in the service prefix",
        {"Action": "s*:GetObject", "Resource": "arn:aws:s3:::b/*"},
        ["statement 0: `s*:GetObject` has a wildcard in the service prefix, so it reaches every service it matches"],
    ),
    (
        "NotAction",
        {"NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"},
        ["statement 0 allows with NotAction, which grants every action it does not list"],
    ),
    (
        "NotResource",
        {"Action": "s3:GetObject", "NotResource": "arn:aws:s3:::other/*"},
        ["statement 0 allows with NotResource, which grants every resource it does not list"],
    ),
    (
        "resource-level action on *",
        {"Action": ["s3:GetObject", "s3:ListAllMyBuckets"], "Resource": "*"},
        ["statement 0 allows s3:GetObject on '*', but IAM scopes that action to resource ARNs"],
    ),
    (
        "a pattern spanning the service",
        {"Action": "sagemaker:Describe*", "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:*"},
        ["statement 0 allows sagemaker:DescribeAction"],
    ),
    (
        "PassRole on a wildcard, no condition",
        {"Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/churn-*"},
        [
            "statement 0 allows iam:PassRole on roles it does not name one by one",
            "statement 0 allows iam:PassRole without an iam:PassedToService condition",
        ],
    ),
    (
        "an action IAM does not know",
        {"Action": "sagemaker:CreateTrainingJobs", "Resource": "arn:aws:sagemaker:eu-west-1:1:training-job/x"},
        ["statement 0: sagemaker:CreateTrainingJobs not in IAM's action list (a typo grants nothing)"],
    ),
    (
        "an action not known at preview",
        {"Action": [UNKNOWN], "Resource": "arn:aws:s3:::b/*"},
        ["statement 0 has an action not known at preview; it could be any action"],
    ),
    (
        "a resource not known at preview",
        {"Action": "s3:GetObject", "Resource": [UNKNOWN]},
        ["statement 0 allows s3:GetObject on a resource not known at preview"],
    ),
]


@pytest.mark.parametrize(
    ("statement", "expected"), [c[1:] for c in LEAST_PRIVILEGE_CASES], ids=[c[0] for c in LEAST_PRIVILEGE_CASES]
)
def test_least_privilege_findings(statement: dict[str, Any], expected: list[str]) -> None:
    found = violations(LEAST_PRIVILEGE, role_policy({"Statement": [{"Effect": "Allow", **statement}]}))
    assert len(found) == len(expected)
    for message, finding in zip(found, expected, strict=True):
        assert message.startswith(f'aws:iam/rolePolicy:RolePolicy "subject": policy: {finding}')
        assert message.endswith(SCOPE_STATEMENT)


def test_least_privilege_ignores_denies() -> None:
    document = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    assert violations(LEAST_PRIVILEGE, role_policy(document)) == []


def test_aws_managed_attachments_are_findings_unless_allowed_in_config() -> None:
    values = {"role": "r", "policyArn": MANAGED.format("AWSXRayDaemonWriteAccess")}
    type_ = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    assert violations(LEAST_PRIVILEGE, resource_args(type_, values)) == [
        f'{type_} "subject": policyArn attaches the AWS-managed policy AWSXRayDaemonWriteAccess, written for any '
        "account rather than for this stack. To pass: grant what the role needs in its one RolePolicy, or list the "
        "policy in allowedManagedPolicies in the pack config."
    ]
    allowed = resource_args(type_, values, config={"allowedManagedPolicies": ["AWSXRayDaemonWriteAccess"]})
    assert violations(LEAST_PRIVILEGE, allowed) == []


def test_a_missing_document_is_a_finding() -> None:
    [message] = violations(LEAST_PRIVILEGE, resource_args(ROLE_POLICY, {"role": "r"}))
    assert message.startswith(
        'aws:iam/rolePolicy:RolePolicy "subject": policy cannot be read: a policy document is a JSON object, not '
        "NoneType."
    )


# -- iam-attached-policies-checked ---------------------------------------------------------------------------

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def test_attachments_of_aws_managed_policies_and_policies_of_the_stack_pass() -> None:
    stack = (
        Stack()
        .add("aws:iam/policy:Policy", "scoped", {"policy": json.dumps(SCOPED), "arn": UNKNOWN})
        .add(ATTACHMENT, "own", {"role": "r", "policyArn": UNKNOWN}, policyArn="scoped")
        .add(ATTACHMENT, "managed", {"role": "r", "policyArn": MANAGED.format("AmazonSageMakerReadOnly")})
        .add(ROLE, "role", {"managedPolicyArns": ["arn:aws:iam::123456789012:policy/known"]})
        .add("aws:iam/policy:Policy", "known", {"policy": "{}", "arn": "arn:aws:iam::123456789012:policy/known"})
    )
    assert violations(ATTACHED_POLICIES_READABLE, stack.args()) == []


@pytest.mark.parametrize(
    ("arn", "shown"),
    [
        ("arn:aws:iam::123456789012:policy/elsewhere", "arn:aws:iam::123456789012:policy/elsewhere"),
        (UNKNOWN, "an ARN not known at preview"),
    ],
)
def test_attachments_the_pack_cannot_read_are_violations(arn: str, shown: str) -> None:
    stack = Stack().add(ATTACHMENT, "other", {"role": "r", "policyArn": arn})
    assert violations(ATTACHED_POLICIES_READABLE, stack.args()) == [
        f'{ATTACHMENT} "other": policyArn attaches {shown}, which is neither an AWS-managed policy nor an '
        "aws.iam.Policy of this stack, so its document cannot be checked. To pass: define the policy in this "
        "stack, or grant through the role's RolePolicy."
    ]


def test_an_unknown_arn_computed_from_something_else_is_a_violation() -> None:
    stack = (
        Stack()
        .add("random:index/randomString:RandomString", "suffix", {"length": 8})
        .add(ATTACHMENT, "computed", {"role": "r", "policyArn": UNKNOWN}, policyArn="suffix")
    )
    assert len(violations(ATTACHED_POLICIES_READABLE, stack.args())) == 1
