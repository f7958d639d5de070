"""The same stack gives the same findings, word for word, whatever order the engine lists its resources in (the
order follows registration, so a program's concurrency) and whatever Python's hash seed."""

from __future__ import annotations

import json

from policies.data_reach import DATA_REACH
from policies.escalation import PRIVILEGE_ESCALATION
from policies.iam import SAGEMAKER_NO_FULL_ACCESS
from policies.passrole import PASSROLE
from tests.policies.conftest import Stack
from tests.policies.rules import ROLE, ROLE_POLICY, reported, trust

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PARTS = [[f"sagemaker:{c}*" for c in _LETTERS[i::5]] for i in range(5)]
"""Every SageMaker action, by first letter, in five parts."""


def _scattered(order: list[int]) -> Stack:
    """One role whose full SageMaker access, escalation and PassRole come from five inline policies."""
    stack = Stack().add(ROLE, "runner", {"name": "runner", "assumeRolePolicy": trust()})
    for i in order:
        actions = [*PARTS[i], "iam:PassRole", "s3:GetObject", "iam:AttachRolePolicy"]
        document = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        stack.add(ROLE_POLICY, f"part-{i}", {"role": "runner", "policy": json.dumps(document)})
    return stack


def test_findings_do_not_follow_the_order_resources_arrive_in() -> None:
    rules = [SAGEMAKER_NO_FULL_ACCESS, PRIVILEGE_ESCALATION, PASSROLE, DATA_REACH]
    forward = [reported(rule, _scattered([0, 1, 2, 3, 4])) for rule in rules]
    for order in ([4, 3, 2, 1, 0], [2, 0, 4, 1, 3]):
        assert [reported(rule, _scattered(order)) for rule in rules] == forward
    [full] = forward[0]
    assert 'through aws:iam/rolePolicy:RolePolicy "part-0" policy statement 0, ' in full
