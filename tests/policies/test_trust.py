"""`policies/trust.py`: who may assume a role."""

from __future__ import annotations

import json

import pytest

from policies.trust import TRUST
from tests.policies.conftest import UNKNOWN, Stack
from tests.policies.rules import ACCOUNT, ROLE, reported

ALLOWED = {"allowedAccounts": [ACCOUNT], "allowedOrganizations": ["o-a1b2c3d4e5"]}


def role(statement: dict) -> Stack:
    document = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", **statement}]}
    return Stack().add(ROLE, "r", {"name": "r", "assumeRolePolicy": json.dumps(document)})


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ({"Principal": {"AWS": "*"}}, "lets anyone (*) assume it"),
        ({"Principal": {"AWS": "arn:aws:iam::999999999999:root"}}, "(account 999999999999) assume it"),
        (
            {"Principal": {"Service": "sagemaker.amazonaws.com"}},
            "trusts sagemaker.amazonaws.com without aws:SourceAccount",
        ),
        (
            {
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            },
            "no exact condition on the claim that names the caller",
        ),
    ],
)
def test_open_trust_is_reported(statement: dict, words: str) -> None:
    [message] = reported(TRUST, role(statement), ALLOWED)
    assert words in message


GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            {"Principal": {"AWS": "*", "Service": "ec2.amazonaws.com"}},
            "lets anyone (*) assume it",
        ),
        (
            {"Principal": {"AWS": "arn:aws:iam::999999999999:root", "Service": "lambda.amazonaws.com"}},
            "(account 999999999999) assume it",
        ),
        (
            {
                "Principal": {"Federated": GITHUB},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}},
            },
            "no exact condition on the claim",
        ),
        (
            {
                "Principal": {"Federated": GITHUB},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org*"}},
            },
            "no exact condition on the claim",
        ),
    ],
    ids=["anyone beside an exempt service", "another account beside one", "any repository", "a repository prefix"],
)
def test_what_hides_beside_a_trusted_service_or_in_a_wildcard_claim_is_reported(statement: dict, words: str) -> None:
    [message] = reported(TRUST, role(statement), ALLOWED)
    assert words in message


@pytest.mark.parametrize(
    "statement",
    [
        {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}},
        {"Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
        {
            "Principal": {"Service": "states.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
        {"Principal": {"Service": "lambda.amazonaws.com"}},
        {
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/x"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"x:sub": "repo:o/r:environment:prod", "x:aud": "sts.amazonaws.com"}},
        },
    ],
    ids=["a role of the account", "organisation-scoped", "a guarded service", "an exempt service", "OIDC claims"],
)
def test_restricted_trust_passes(statement: dict) -> None:
    assert reported(TRUST, role(statement), ALLOWED) == []


def test_a_guard_not_known_at_preview_is_not_read_as_absent() -> None:
    """A trust document given as an object (a typed provider's) with its guard's value not known yet."""
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Condition": {"StringEquals": {"aws:SourceAccount": UNKNOWN}},
            }
        ]
    }
    [message] = reported(TRUST, Stack().add(ROLE, "r", {"name": "r", "assumeRolePolicy": document}), ALLOWED)
    assert "trusts sagemaker.amazonaws.com under a condition not known at preview" in message
