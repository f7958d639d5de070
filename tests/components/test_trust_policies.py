"""Who may assume each role: one service, in this account, and for the state machine role that state machine."""

from __future__ import annotations

import json

import pytest

from tests.conftest import STACKS
from tools.mock_runtime.program import Plan


def trust(plan: Plan, role: str) -> dict:
    return json.loads(plan.named(role).inputs["assumeRolePolicy"])


@pytest.mark.parametrize("stack", STACKS)
def test_state_machine_role_trusts_only_step_functions_for_its_own_state_machine(
    plans: dict[str, Plan], stack: str
) -> None:
    assert trust(plans[stack], "tumor-sfn-role") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrustService",
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": "123456789012"},
                    # AWS's documented form (procedure-create-iam-role.html#prevent-cross-service-confused-deputy).
                    "ArnLike": {"aws:SourceArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:*"},
                },
            }
        ],
    }


@pytest.mark.parametrize(
    ("role", "service"),
    [("tumor-sagemaker-role", "sagemaker.amazonaws.com"), ("tumor-evaluate-role", "lambda.amazonaws.com")],
)
@pytest.mark.parametrize("stack", STACKS)
def test_other_roles_trust_one_service(plans: dict[str, Plan], stack: str, role: str, service: str) -> None:
    [statement] = trust(plans[stack], role)["Statement"]
    assert statement["Principal"] == {"Service": service}
    assert statement["Action"] == "sts:AssumeRole"
    if service != "lambda.amazonaws.com":
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_scheduler_role_may_only_start_its_state_machine(plans: dict[str, Plan], stack: str) -> None:
    [statement] = trust(plans[stack], "tumor-scheduler-role")["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    policy = json.loads(plans[stack].named("tumor-scheduler-policy").inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "StartRetraining",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": f"arn:aws:states:eu-west-1:123456789012:stateMachine:tumor-{stack}",
        }
    ]
