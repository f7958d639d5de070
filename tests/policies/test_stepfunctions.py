"""Step Functions policies: the state machine role's trust, and logging and tracing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.stepfunctions import LOGS_AND_TRACES, ROLE_TRUSTS_ONLY_STATES
from tests.policies.conftest import UNKNOWN, Stack, resource_args, violations

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE = "aws:iam/role:Role"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ],
}
TRUST_PASSES = (
    'To pass: one Allow statement for sts:AssumeRole with Principal {"Service": "states.amazonaws.com"} and '
    'Condition {"StringEquals": {"aws:SourceAccount": "<account>"}}.'
)


def stack_with(trust: Any, *, linked: bool = True) -> Stack:
    stack = Stack().add(ROLE, "sfn-role", {"name": "tumor-prod-sfn", "assumeRolePolicy": trust, "arn": UNKNOWN})
    machine = {"name": "tumor-prod", "roleArn": UNKNOWN if linked else "arn:aws:iam::1:role/elsewhere"}
    return stack.add(STATE_MACHINE, "machine", machine, **({"roleArn": "sfn-role"} if linked else {}))


def test_a_role_trusting_only_states_with_source_account_passes() -> None:
    assert violations(ROLE_TRUSTS_ONLY_STATES, stack_with(json.dumps(TRUST)).args()) == []


def test_the_role_is_found_by_its_arn_when_there_is_no_dependency() -> None:
    stack = Stack().add(ROLE, "sfn-role", {"name": "tumor-prod-sfn", "assumeRolePolicy": json.dumps({"Statement": []})})
    stack.add(STATE_MACHINE, "machine", {"roleArn": "arn:aws:iam::123456789012:role/tumor-prod-sfn"})
    assert violations(ROLE_TRUSTS_ONLY_STATES, stack.args()) == []


def _trust(**changes: Any) -> str:
    statement = {**TRUST["Statement"][0], **changes}
    return json.dumps({"Statement": [{k: v for k, v in statement.items() if v is not None}]})


@pytest.mark.parametrize(
    ("trust", "finding"),
    [
        (
            _trust(Principal={"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]}),
            'statement 0 trusts {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]}, not only '
            "states.amazonaws.com",
        ),
        (
            _trust(Principal={"Service": "states.amazonaws.com", "AWS": "arn:aws:iam::1:root"}),
            'statement 0 trusts {"Service": "states.amazonaws.com", "AWS": "arn:aws:iam::1:root"}, not only '
            "states.amazonaws.com",
        ),
        (_trust(Condition=None), "statement 0 has no aws:SourceAccount condition (confused-deputy protection)"),
        (
            _trust(Principal=None, NotPrincipal={"AWS": "x"}),
            "statement 0 trusts every principal but those listed (NotPrincipal)",
        ),
        (UNKNOWN, "its trust policy is not known at preview"),
        ("{nope", "its trust policy is not valid JSON"),
    ],
)
def test_trust_findings(trust: str, finding: str) -> None:
    assert violations(ROLE_TRUSTS_ONLY_STATES, stack_with(trust).args()) == [
        f'{ROLE} "sfn-role" (role of machine): {finding}. {TRUST_PASSES}'
    ]


def test_a_state_machine_whose_role_is_not_in_the_stack_is_a_violation() -> None:
    assert violations(ROLE_TRUSTS_ONLY_STATES, stack_with(json.dumps(TRUST), linked=False).args()) == [
        f'{STATE_MACHINE} "machine": its roleArn is not a role of this stack, so its trust policy cannot be '
        "checked. To pass: create the role in this stack and pass its arn."
    ]


def machine(**changes: Any) -> Any:
    values: dict[str, Any] = {
        "roleArn": "arn:aws:iam::123456789012:role/tumor-prod-sfn",
        "loggingConfiguration": {"level": "ERROR", "includeExecutionData": True, "logDestination": UNKNOWN},
        "tracingConfiguration": {"enabled": True},
    }
    values.update(changes)
    return resource_args(STATE_MACHINE, {k: v for k, v in values.items() if v is not None})


def test_logging_at_error_to_a_log_group_being_created_and_tracing_pass() -> None:
    assert violations(LOGS_AND_TRACES, machine()) == []
    assert (
        violations(LOGS_AND_TRACES, machine(loggingConfiguration={"level": "ALL", "logDestination": "arn:x:*"})) == []
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"loggingConfiguration": {"level": "FATAL", "logDestination": "arn:x:*"}},
            "loggingConfiguration.level is 'FATAL'. To pass: level ALL or ERROR (ERROR logs every failed execution).",
        ),
        (
            {"loggingConfiguration": None},
            "loggingConfiguration.level is 'OFF'. To pass: level ALL or ERROR (ERROR logs every failed execution).",
        ),
        (
            {"loggingConfiguration": {"level": UNKNOWN, "logDestination": "arn:x:*"}},
            "loggingConfiguration.level is not known at preview. To pass: level ALL or ERROR (ERROR logs every "
            "failed execution).",
        ),
        (
            {"loggingConfiguration": {"level": "ALL"}},
            "loggingConfiguration.logDestination is not set. To pass: the ARN of a CloudWatch log group, ending in :*.",
        ),
        (
            {"tracingConfiguration": {"enabled": False}},
            "X-Ray tracing is off. To pass: tracingConfiguration.enabled true.",
        ),
        ({"tracingConfiguration": None}, "X-Ray tracing is off. To pass: tracingConfiguration.enabled true."),
    ],
)
def test_logging_and_tracing_findings(changes: dict[str, Any], message: str) -> None:
    found = violations(LOGS_AND_TRACES, machine(**changes))
    assert f'{STATE_MACHINE} "subject": {message}' in found


def test_other_types_are_not_judged() -> None:
    assert violations(LOGS_AND_TRACES, resource_args("aws:sfn/activity:Activity", {"name": "a"})) == []
