"""`policies/foreign_roles.py`: compute runs as roles the stack defines."""

from __future__ import annotations

from policies.foreign_roles import FOREIGN_ROLES
from tests.policies.conftest import UNKNOWN, Stack
from tests.policies.rules import ACCOUNT, ROLE, reported

FUNCTION = "aws:lambda/function:Function"


def test_compute_as_own_foreign_allow_listed_and_unknown_roles() -> None:
    stack = (
        Stack()
        .add(ROLE, "own", {"name": "own"})
        .add(FUNCTION, "mine", {"role": f"arn:aws:iam::{ACCOUNT}:role/own"})
        .add(FUNCTION, "theirs", {"role": f"arn:aws:iam::{ACCOUNT}:role/Admin"})
        .add("aws:sagemaker/notebookInstance:NotebookInstance", "nb", {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/Admin"})
        .add("aws:sfn/stateMachine:StateMachine", "later", {"roleArn": UNKNOWN})
    )
    found = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert [m.split(": ", 1)[0] for m in found] == [
        'aws:lambda/function:Function "theirs"',
        'aws:sagemaker/notebookInstance:NotebookInstance "nb"',
        'aws:sfn/stateMachine:StateMachine "later"',
    ]
    assert "a role the stack does not define" in found[0]
    assert "not known at preview" in found[2]
    assert len(reported(FOREIGN_ROLES, stack, {"allowedRoles": ["admin"], "allowedAccounts": [ACCOUNT]})) == 1
    other_account = (
        Stack().add(ROLE, "own", {"name": "own"}).add(FUNCTION, "f", {"role": "arn:aws:iam::999999999999:role/own"})
    )
    [message] = reported(FOREIGN_ROLES, other_account, {"allowedAccounts": [ACCOUNT]})
    assert "a role of account 999999999999, outside allowedAccounts" in message
