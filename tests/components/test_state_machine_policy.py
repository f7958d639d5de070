"""The Step Functions role's policy is generated from the definition: exactly the documented permissions
per task kind, scoped to the pipeline, and nothing on `*` but what accepts only `*`."""

from __future__ import annotations

from typing import Any

import pytest

from components.arns import AwsContext
from components.state_machine_policy import (
    LOG_DELIVERY_ACTIONS,
    XRAY_ACTIONS,
    UnscopableTaskError,
    grants_for_task,
    state_machine_policy,
)
from components.workflow_definition import build_definition, build_deploy_definition
from tests.components.test_workflow_definition import DEPLOY, SPEC
from tests.conftest import STACKS, definition_of, policy_of
from tools.mock_runtime.program import Plan

CTX = AwsContext("aws", "eu-west-1", "123456789012")
P = "tumor-prod"
SM = "arn:aws:sagemaker:eu-west-1:123456789012"
ROLE = "arn:aws:iam::123456789012:role/tumor-prod-sagemaker"
PASS_ROLE = {
    "actions": ("iam:PassRole",),
    "resources": (ROLE,),
    "condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
}


def rule(name: str) -> dict[str, Any]:
    return {
        "actions": ("events:PutTargets", "events:PutRule", "events:DescribeRule"),
        "resources": (f"arn:aws:events:eu-west-1:123456789012:rule/{name}",),
        "condition": None,
    }


def grant(actions: tuple[str, ...], *resources: str) -> dict[str, Any]:
    return {"actions": actions, "resources": resources, "condition": None}


# The per-task table of ../shared/reference/step-functions-iam.md, one row per task kind.
TABLE: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    (
        "sagemaker:createProcessingJob.sync",
        {"ProcessingJobName.$": "x", "RoleArn": ROLE, "Tags": []},
        [
            grant(
                (
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:ListTags",
                    "sagemaker:AddTags",
                ),
                f"{SM}:processing-job/{P}-*",
            ),
            rule("StepFunctionsGetEventsForSageMakerProcessingJobsRule"),
            PASS_ROLE,
        ],
    ),
    (
        "sagemaker:createTrainingJob.sync",
        {"TrainingJobName.$": "x", "RoleArn": ROLE},
        [
            grant(
                (
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:ListTags",
                ),
                f"{SM}:training-job/{P}-*",
            ),
            rule("StepFunctionsGetEventsForSageMakerTrainingJobsRule"),
            PASS_ROLE,
        ],
    ),
    (
        "sagemaker:createTrainingJob",
        {"TrainingJobName.$": "x", "RoleArn": ROLE},
        [
            grant(
                (
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:ListTags",
                ),
                f"{SM}:training-job/{P}-*",
            ),
            PASS_ROLE,
        ],
    ),
    (
        "sagemaker:createTransformJob.sync",
        {"TransformJobName.$": "x"},
        [
            grant(
                (
                    "sagemaker:CreateTransformJob",
                    "sagemaker:DescribeTransformJob",
                    "sagemaker:StopTransformJob",
                    "sagemaker:ListTags",
                ),
                f"{SM}:transform-job/{P}-*",
            ),
            rule("StepFunctionsGetEventsForSageMakerTransformJobsRule"),
        ],
    ),
    (
        "sagemaker:createModel",
        {"ModelName.$": "x", "ExecutionRoleArn": ROLE},
        [grant(("sagemaker:CreateModel", "sagemaker:ListTags"), f"{SM}:model/{P}-*"), PASS_ROLE],
    ),
    (
        "sagemaker:createEndpointConfig",
        {"EndpointConfigName.$": "x"},
        [grant(("sagemaker:CreateEndpointConfig", "sagemaker:ListTags"), f"{SM}:endpoint-config/{P}-*")],
    ),
    (
        "sagemaker:createEndpoint",
        {"EndpointName": "Tumor-Prod", "EndpointConfigName.$": "x"},
        [
            grant(
                ("sagemaker:CreateEndpoint", "sagemaker:ListTags"),
                f"{SM}:endpoint/tumor-prod",
                f"{SM}:endpoint-config/{P}-*",
            )
        ],
    ),
    (
        "sagemaker:updateEndpoint",
        {"EndpointName": "tumor-prod", "EndpointConfigName.$": "x"},
        [
            grant(
                ("sagemaker:UpdateEndpoint", "sagemaker:ListTags"),
                f"{SM}:endpoint/tumor-prod",
                f"{SM}:endpoint-config/{P}-*",
            )
        ],
    ),
    (
        "aws-sdk:sagemaker:describeEndpoint",
        {"EndpointName": "tumor-prod"},
        [grant(("sagemaker:DescribeEndpoint",), f"{SM}:endpoint/tumor-prod")],
    ),
    (
        "aws-sdk:sagemaker:listEndpoints",
        {"NameContains": "tumor-prod"},
        [grant(("sagemaker:ListEndpoints",), "*")],
    ),
    (
        "lambda:invoke",
        {"FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:f"},
        [
            grant(
                ("lambda:InvokeFunction",),
                "arn:aws:lambda:eu-west-1:123456789012:function:f",
                "arn:aws:lambda:eu-west-1:123456789012:function:f:*",
            )
        ],
    ),
    (
        "sns:publish",
        {"TopicArn": "arn:aws:sns:eu-west-1:123456789012:t", "Message": "m"},
        [grant(("sns:Publish",), "arn:aws:sns:eu-west-1:123456789012:t")],
    ),
]


@pytest.mark.parametrize(("integration", "parameters", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_each_task_kind_contributes_exactly_its_documented_permissions(
    integration: str, parameters: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    state = {"Type": "Task", "Resource": f"arn:aws:states:::{integration}", "Parameters": parameters}
    grants = grants_for_task(CTX, P, "Step", state)
    assert [{"actions": g.actions, "resources": g.resources, "condition": g.condition} for g in grants] == expected


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {"Resource": "arn:aws:states:::glue:startJobRun.sync", "Parameters": {}},
            "state Step: no IAM mapping for glue:startJobRun.sync; add it to state_machine_policy",
        ),
        (
            {"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName.$": "$.fn"}},
            "state Step: FunctionName must be a literal ARN so that IAM can be scoped to it",
        ),
        (
            {
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {"ModelName": "other-model"},
            },
            "state Step: ModelName 'other-model' does not start with prefix 'tumor-prod'",
        ),
        (
            {"Resource": "arn:aws:states:::sagemaker:createModel", "Parameters": {}},
            "state Step: ModelName is missing, so its permissions cannot be scoped",
        ),
        (
            {"Resource": "arn:aws:lambda:eu-west-1:123456789012:function:f"},
            "state Step: Resource 'arn:aws:lambda:eu-west-1:123456789012:function:f' is not a service integration",
        ),
    ],
)
def test_tasks_that_cannot_be_scoped_are_refused(state: dict[str, Any], message: str) -> None:
    with pytest.raises(UnscopableTaskError) as caught:
        grants_for_task(CTX, P, "Step", {"Type": "Task", **state})
    assert str(caught.value) == message


def actions_of(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}


def test_each_machine_gets_the_permissions_of_its_own_steps() -> None:
    """Training registers model versions and serves nothing; deployment serves and registers nothing."""
    serving = {
        "sagemaker:CreateModel",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:ListEndpoints",
    }
    training = actions_of(state_machine_policy(CTX, P, build_definition(SPEC), logging=False, tracing=False))
    deploy = actions_of(state_machine_policy(CTX, P, build_deploy_definition(DEPLOY), logging=False, tracing=False))
    assert "sagemaker:CreateModelPackage" in training and not serving & training
    assert serving | {"sagemaker:DescribeModelPackage", "sns:Publish"} <= deploy
    assert "sagemaker:CreateModelPackage" not in deploy and "sagemaker:CreateTrainingJob" not in deploy


def test_model_versions_are_scoped_to_the_pipelines_group() -> None:
    training = state_machine_policy(CTX, P, build_definition(SPEC), logging=False, tracing=False)
    [register] = [s for s in training["Statement"] if "sagemaker:CreateModelPackage" in s["Action"]]
    assert register["Resource"] == [f"{SM}:model-package/{P}/*"]
    # the training role cannot register a version already approved where the stack says a person approves
    assert register["Condition"] == {"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}}
    deploy = state_machine_policy(CTX, P, build_deploy_definition(DEPLOY), logging=False, tracing=False)
    [describe] = [s for s in deploy["Statement"] if "sagemaker:DescribeModelPackage" in s["Action"]]
    assert describe["Resource"] == [f"{SM}:model-package/{P}/*"]
    state = {
        "Resource": "arn:aws:states:::aws-sdk:sagemaker:createModelPackage",
        "Parameters": {"ModelPackageGroupName": "other"},
    }
    with pytest.raises(UnscopableTaskError):
        grants_for_task(CTX, P, "Register", {"Type": "Task", **state})


def test_removing_the_metric_step_removes_lambda_invoke() -> None:
    definition = build_definition(SPEC)
    del definition["States"]["ReadMetric"]
    assert "lambda:InvokeFunction" not in actions_of(
        state_machine_policy(CTX, P, definition, logging=False, tracing=False)
    )


def test_logging_and_tracing_permissions_follow_the_settings() -> None:
    definition = build_definition(SPEC)
    quiet = state_machine_policy(CTX, P, definition, logging=False, tracing=False)
    loud = state_machine_policy(CTX, P, definition, logging=True, tracing=True)
    assert actions_of(loud) - actions_of(quiet) == set(LOG_DELIVERY_ACTIONS) | set(XRAY_ACTIONS)


@pytest.mark.parametrize("stack", STACKS)
def test_deployed_policy_is_the_one_generated_from_the_deployed_definition(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    deployed = policy_of(plan, "tumor-sfn-policy")
    regenerated = state_machine_policy(
        AwsContext("aws", "eu-west-1", "123456789012"),
        f"tumor-{stack}",
        definition_of(plan),
        logging=True,
        tracing=True,
    )
    assert deployed == regenerated


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_but_star_only_actions_is_granted_on_star(plans: dict[str, Plan], stack: str) -> None:
    on_star = {
        action
        for statement in policy_of(plans[stack], "tumor-sfn-policy")["Statement"]
        if "*" in ([statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"])
        for action in statement["Action"]
    }
    allowed = set(LOG_DELIVERY_ACTIONS) | set(XRAY_ACTIONS) | {"sagemaker:ListEndpoints"}
    assert on_star <= allowed
    assert on_star >= set(LOG_DELIVERY_ACTIONS)


def test_the_deployment_reads_the_alarms_it_rolls_back_on() -> None:
    deploy = state_machine_policy(CTX, P, build_deploy_definition(DEPLOY), logging=False, tracing=False)
    [alarms] = [s for s in deploy["Statement"] if s["Action"] == ["cloudwatch:DescribeAlarms"]]
    assert alarms["Resource"] == [
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:tumor-prod-endpoint-errors",
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:tumor-prod-endpoint-latency",
    ]
