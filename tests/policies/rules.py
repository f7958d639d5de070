"""Shared by the rule tests: a role with inline policies, and what a stack policy reports."""

from __future__ import annotations

import json
from typing import Any

from tests.policies.conftest import Stack

ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
ACCOUNT = "123456789012"


def trust(service: str = "states.amazonaws.com") -> str:
    return json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                }
            ]
        }
    )


def role_with(*statements: dict[str, Any], name: str = "runner", stack: Stack | None = None) -> Stack:
    stack = stack or Stack()
    stack.add(ROLE, name, {"name": name, "assumeRolePolicy": trust()})
    document = {"Statement": [{"Effect": "Allow", **s} for s in statements]}
    stack.add(ROLE_POLICY, f"{name}-policy", {"role": name, "policy": json.dumps(document)})
    return stack


def reported(policy: Any, stack: Stack, config: dict[str, Any] | None = None) -> list[str]:
    found: list[str] = []
    policy.validate(stack.args(config), lambda message, at=None: found.append(message))
    return found
