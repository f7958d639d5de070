"""`policies/passrole.py`: iam:PassRole only to the stack's roles, only to services they trust."""

from __future__ import annotations

import json

import pytest

from policies.passrole import PASSROLE
from tests.policies.conftest import Stack
from tests.policies.rules import ACCOUNT, ROLE, ROLE_POLICY, reported, role_with, trust

SAGEMAKER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/trainer"


def stack_with(statement: dict) -> Stack:
    stack = Stack().add(ROLE, "trainer", {"name": "trainer", "assumeRolePolicy": trust("sagemaker.amazonaws.com")})
    return role_with(statement, stack=stack)


def test_passing_a_role_of_the_stack_to_a_service_it_trusts_passes() -> None:
    statement = {
        "Action": "iam:PassRole",
        "Resource": SAGEMAKER_ROLE,
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    }
    assert reported(PASSROLE, stack_with(statement)) == []


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            {
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/Admin",
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
            "a role the stack does not define",
        ),
        (
            {"Resource": SAGEMAKER_ROLE, "Condition": {"StringNotEquals": {"iam:PassedToService": "x.amazonaws.com"}}},
            "without iam:PassedToService restricted by StringEquals",
        ),
        (
            {"Resource": SAGEMAKER_ROLE, "Condition": {"StringLike": {"iam:PassedToService": "*"}}},
            "without iam:PassedToService restricted by StringEquals",
        ),
        (
            {
                "Resource": SAGEMAKER_ROLE,
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
            "role trainer to lambda.amazonaws.com, which it does not trust",
        ),
        ({"Resource": f"arn:aws:iam::{ACCOUNT}:role/*"}, "which names no one role"),
    ],
)
def test_passrole_that_reaches_further_is_reported(statement: dict, words: str) -> None:
    [message] = reported(PASSROLE, stack_with({"Action": "iam:PassRole", **statement}))
    assert words in message


def test_allow_listed_roles_come_from_the_pack_config() -> None:
    statement = {
        "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/Shared",
        "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
    }
    assert reported(PASSROLE, stack_with(statement), {"allowedRoles": ["shared"]}) == []


def test_passing_a_namesake_declared_through_another_accounts_provider_is_passing_a_foreign_role() -> None:
    """`deployer` declared through a provider held to another account is that account's; passing the stack's
    account's `deployer` is passing a role the stack does not show."""
    grant = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::123456789012:role/deployer",
                "Condition": {"StringEquals": {"iam:PassedToService": "states.amazonaws.com"}},
            }
        ]
    }

    def stack(away: dict) -> Stack:
        found = Stack().add("pulumi:providers:aws", "home", {"allowedAccountIds": ["123456789012"]})
        found.add("pulumi:providers:aws", "away", away)
        found.add(ROLE, "deployer", {"name": "deployer", "assumeRolePolicy": trust()}).via("deployer", "away")
        found.add(ROLE, "runner", {"name": "runner", "assumeRolePolicy": trust()}).via("runner", "home")
        found.add(ROLE_POLICY, "runner-policy", {"role": "runner", "policy": json.dumps(grant)})
        return found.via("runner-policy", "home")

    [message] = reported(PASSROLE, stack({"allowedAccountIds": ["999999999999"]}))
    assert "a role the stack does not define" in message
    assert reported(PASSROLE, stack({"allowedAccountIds": ["123456789012"], "region": "us-east-1"})) == []
