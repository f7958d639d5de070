"""`policies/resource_policies.py`: resource policies open to anyone or to other accounts."""

from __future__ import annotations

import json

import pytest

from policies.resource_policies import RESOURCE_POLICIES
from tests.policies.conftest import UNKNOWN, Stack
from tests.policies.rules import ACCOUNT, reported

ALLOWED = {"allowedAccounts": [ACCOUNT]}
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def policy(principal: object, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    return json.dumps({"Statement": [{**statement, **({"Condition": condition} if condition else {})}]})


@pytest.mark.parametrize(
    ("principal", "condition", "words"),
    [
        ("*", None, "allows anyone (*) s3:GetObject"),
        ({"AWS": "*"}, None, "allows anyone (*) s3:GetObject"),
        ({"AWS": "arn:aws:iam::999999999999:root"}, None, "(account 999999999999) s3:GetObject"),
        ("*", {"StringEquals": {"aws:SourceAccount": "999999999999"}}, "allows anyone (*)"),
        ("*", {"StringLike": {"aws:SourceArn": "*"}}, "allows anyone (*)"),
    ],
)
def test_open_policies_are_reported(principal: object, condition: dict | None, words: str) -> None:
    stack = Stack().add(BUCKET_POLICY, "open", {"bucket": "b", "policy": policy(principal, condition)})
    [message] = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert words in message


@pytest.mark.parametrize(
    ("principal", "condition"),
    [
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, None),
        ("*", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
        ({"Service": "logging.s3.amazonaws.com"}, None),
    ],
    ids=["the account itself", "organisation-scoped", "a service"],
)
def test_scoped_policies_pass(principal: object, condition: dict | None) -> None:
    stack = Stack().add(BUCKET_POLICY, "own", {"bucket": "b", "policy": policy(principal, condition)})
    assert reported(RESOURCE_POLICIES, stack, ALLOWED) == []


def test_lambda_permissions_and_unknowns() -> None:
    stack = (
        Stack()
        .add(
            "aws:lambda/permission:Permission",
            "public",
            {"function": "f", "principal": "*", "action": "lambda:InvokeFunction"},
        )
        .add("aws:lambda/permission:Permission", "events", {"function": "f", "principal": "events.amazonaws.com"})
        .add("aws:lambda/permission:Permission", "unknown", {"function": "f", "principal": UNKNOWN})
    )
    found = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert len(found) == 2
    assert "allows anyone (*) lambda:InvokeFunction" in found[0]
    assert "principal: not known at preview" in found[1]
