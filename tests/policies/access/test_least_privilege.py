"""`policies/access/least_privilege.py`: what in one statement is wider than least privilege."""

from __future__ import annotations

from typing import Any

import pytest

from policies.access import catalog
from policies.access.document import parse
from policies.access.least_privilege import findings, scoped
from policies.framework import UNKNOWN


def found(statement: dict[str, Any]) -> list[str]:
    [parsed] = parse({"Statement": [{"Effect": "Allow", **statement}]})
    return findings(parsed)


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
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
        {"Action": "sagemaker:DescribeTrainingJob", "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:*"},
        [
            "statement 0 allows sagemaker:DescribeTrainingJob on 'arn:aws:sagemaker:eu-west-1:123456789012:*', but IAM "
            "scopes that action to resource ARNs"
        ],
    ),
    (
        "PassRole on a wildcard, no condition",
        {"Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/tumor-*"},
        [
            "statement 0 allows iam:PassRole on roles it does not name one by one",
            "statement 0 allows iam:PassRole without an iam:PassedToService condition",
        ],
    ),
    (
        "every action of a service, without a service wildcard",
        {"Action": ["iam:?*"], "Resource": "arn:aws:iam::123456789012:role/x"},
        [
            "statement 0: its actions together name every iam action IAM publishes",
            "statement 0 allows iam:PassRole without an iam:PassedToService condition",
        ],
    ),
    (
        "a resource part of only wildcards and separators",
        {"Action": "iam:PutRolePolicy", "Resource": "arn:aws:iam::*:*/*"},
        ["statement 0 allows iam:PutRolePolicy on 'arn:aws:iam::*:*/*', but IAM scopes that action to resource ARNs"],
    ),
    (
        "an action IAM does not publish",
        {"Action": "sagemaker:CreateTrainingJobs", "Resource": "arn:aws:sagemaker:eu-west-1:1:training-job/x"},
        [
            f"statement 0: sagemaker:CreateTrainingJobs is not in IAM's current action list (IAM data of "
            f"{catalog.data_date()}): a retired service or a typo"
        ],
    ),
    (
        "a retired service",
        {"Action": "elastic-inference:Connect", "Resource": "*"},
        [
            f"statement 0: elastic-inference:Connect is not in IAM's current action list (IAM data of "
            f"{catalog.data_date()}): a retired service or a typo"
        ],
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
    (
        "actions that accept only * (or an optional type only) on *",
        {
            "Action": [
                "xray:PutTraceSegments",
                "logs:CreateLogDelivery",
                "cloudwatch:PutMetricData",
                "sagemaker:ListEndpoints",
            ],
            "Resource": "*",
        },
        [],
    ),
    (
        "every function of an account, by its type",
        {"Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:*"},
        [
            "statement 0 allows lambda:InvokeFunction on 'arn:aws:lambda:eu-west-1:123456789012:function:*', every "
            "function of an account: name the function resources it needs, or narrow it with an aws:ResourceTag "
            "condition"
        ],
    ),
    (
        "every role of every account",
        {"Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"},
        [
            "statement 0 allows sts:AssumeRole on 'arn:aws:iam::*:role/*', every role of an account: name the role "
            "resources it needs, or narrow it with an aws:ResourceTag condition"
        ],
    ),
    (
        "every key, narrowed by a tag (ABAC)",
        {
            "Action": "kms:Decrypt",
            "Resource": "arn:aws:kms:eu-west-1:123456789012:key/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/environment": "prod"}},
        },
        [],
    ),
    (
        "the functions of one prefix",
        {"Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:tumor-*"},
        [],
    ),
    (
        "an action published in 2026, scoped",
        {
            "Action": "sagemaker:DescribeTrainingSession",
            "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:training-session/tumor-prod-x",
        },
        [],
    ),
]


@pytest.mark.parametrize(("statement", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_findings(statement: dict[str, Any], expected: list[str]) -> None:
    assert found(statement) == expected


def test_denies_are_never_findings() -> None:
    [deny] = parse({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    assert findings(deny) == []


@pytest.mark.parametrize(
    ("action", "is_scoped"),
    [
        ("sagemaker:CreateTrainingJob", True),
        ("s3:GetObject", True),
        ("cloudwatch:PutMetricData", False),
        ("sagemaker:ListEndpoints", False),
        ("no:Such", False),
    ],
)
def test_scoped_actions(action: str, is_scoped: bool) -> None:
    assert scoped(action) is is_scoped
