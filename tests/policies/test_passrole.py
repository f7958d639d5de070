"""`policies/passrole.py`: iam:PassRole only to the stack's roles, only to services they trust."""

from __future__ import annotations

import pytest

from policies.passrole import PASSROLE
from tests.policies.conftest import Stack
from tests.policies.rules import ACCOUNT, ROLE, reported, role_with, trust

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
