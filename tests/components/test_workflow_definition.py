"""The generated state machines: valid ASL (moto's LocalStack parser), a sound graph, and SageMaker
parameters valid for their APIs (botocore's SageMaker service model)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components import workflow_definition as wd
from components.workflow_definition import WorkflowSpec, build_definition
from tests.conftest import STACKS, definition_of
from tools.offline_preview.program import Plan

SPEC = WorkflowSpec(
    partition="aws",
    prefix="churn-prod",
    bucket="bucket",
    sagemaker_role_arn="arn:aws:iam::123456789012:role/churn-prod-sagemaker",
    evaluate_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:churn-prod-evaluate",
    failure_topic_arn="arn:aws:sns:eu-west-1:123456789012:churn-prod-failures",
    processing_image="111122223333.dkr.ecr.eu-west-1.amazonaws.com/prep:1",
    processing_entrypoint=("python3", "/opt/ml/code/preprocess.py"),
    processing_instance_type="ml.m5.xlarge",
    processing_instance_count=1,
    processing_volume_gb=30,
    processing_max_runtime=3600,
    training_image="111122223333.dkr.ecr.eu-west-1.amazonaws.com/train:1",
    training_instance_type="ml.m5.xlarge",
    training_instance_count=1,
    training_volume_gb=50,
    training_max_runtime=7200,
    hyperparameters=(("epochs", "3"),),
    metric="auc",
    threshold=0.8,
    higher_is_better=True,
    retry_interval=7,
    retry_max_attempts=4,
    retry_backoff=1.5,
    deploy=True,
    endpoint_name="churn-prod",
    endpoint_instance_type="ml.m5.large",
    endpoint_instance_count=2,
    tags=(("owner", "ml"),),
)


def definitions(plans: dict[str, Plan]) -> list[tuple[str, dict[str, Any]]]:
    return [(stack, definition_of(plans[stack])) for stack in STACKS]


def targets(state: dict[str, Any]) -> set[str]:
    found = {state["Next"]} if "Next" in state else set()
    found |= {c["Next"] for c in state.get("Catch", [])}
    found |= {c["Next"] for c in state.get("Choices", [])}
    if "Default" in state:
        found.add(state["Default"])
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_definition_parses_with_the_asl_engine(
    plans: dict[str, Plan], stack: str, caplog: pytest.LogCaptureFixture
) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    caplog.set_level(logging.ERROR)
    program, _ = AmazonStateLanguageParser.parse(json.dumps(definition_of(plans[stack])))
    assert type(program).__name__ == "Program"


@pytest.mark.parametrize("stack", STACKS)
def test_every_transition_target_exists_and_every_state_is_reachable(plans: dict[str, Plan], stack: str) -> None:
    definition = definition_of(plans[stack])
    states = definition["States"]
    for name, state in states.items():
        assert targets(state) <= states.keys(), f"{name} points at a missing state"
    reached, frontier = set(), [definition["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name not in reached:
            reached.add(name)
            frontier.extend(targets(states[name]))
    assert reached == set(states), f"unreachable: {set(states) - reached}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_task_has_retry_catch_to_the_failure_path_and_a_timeout(plans: dict[str, Plan], stack: str) -> None:
    tasks = {n: s for n, s in definition_of(plans[stack])["States"].items() if s["Type"] == "Task"}
    assert len(tasks) >= 5
    for name, task in tasks.items():
        assert task["Retry"] and task["Retry"][0]["MaxAttempts"] >= 1, name
        assert 0 < task["TimeoutSeconds"] <= 86400 * 30, name
        failure_catches = [c for c in task["Catch"] if c["ErrorEquals"] == ["States.ALL"]]
        assert failure_catches, name
        assert failure_catches[0]["Next"] == ("PipelineFailed" if name == "NotifyFailure" else "NotifyFailure"), name


def test_failure_path_publishes_then_fails_with_the_named_error() -> None:
    states = build_definition(SPEC)["States"]
    assert states["NotifyFailure"]["Resource"] == "arn:aws:states:::sns:publish"
    assert states["NotifyFailure"]["Parameters"]["TopicArn"] == SPEC.failure_topic_arn
    assert states["NotifyFailure"]["Next"] == "PipelineFailed"
    assert states["PipelineFailed"] == {
        "Type": "Fail",
        "Error": "PipelineFailed",
        "CausePath": "$.error.Cause",
    }


def test_quality_gate_compares_the_metric_with_the_configured_threshold() -> None:
    gate = build_definition(SPEC)["States"]["QualityGate"]
    assert gate["Choices"] == [
        {"Variable": "$.evaluation.value", "NumericGreaterThanEquals": 0.8, "Next": "RegisterModel"}
    ]
    assert gate["Default"] == "ModelRejected"
    lower = build_definition(replace(SPEC, higher_is_better=False, threshold=0.2))["States"]["QualityGate"]
    assert lower["Choices"][0]["NumericLessThanEquals"] == 0.2


def test_retries_use_the_configured_backoff() -> None:
    train = build_definition(SPEC)["States"]["Train"]
    assert train["Retry"] == [
        {
            "ErrorEquals": ["SageMaker.AmazonSageMakerException", "SageMaker.ResourceLimitExceededException"],
            "IntervalSeconds": 7,
            "MaxAttempts": 4,
            "BackoffRate": 1.5,
        }
    ]


def test_deployment_states_exist_only_where_deployment_is_enabled() -> None:
    deploy_states = {
        "CreateEndpointConfig",
        "FindEndpoint",
        "CreateEndpoint",
        "UpdateEndpoint",
        "CheckEndpoint",
    }
    with_deploy = build_definition(SPEC)["States"]
    without = build_definition(replace(SPEC, deploy=False))["States"]
    assert deploy_states <= with_deploy.keys()
    assert not deploy_states & without.keys()
    assert without["RegisterModel"]["Next"] == "PipelineSucceeded"
    assert with_deploy["RegisterModel"]["Next"] == "CreateEndpointConfig"


@pytest.mark.parametrize(("stack", "deploys"), [("dev", False), ("staging", True), ("prod", True)])
def test_stacks_deploy_as_their_files_say(plans: dict[str, Plan], stack: str, deploys: bool) -> None:
    assert ("CreateEndpoint" in definition_of(plans[stack])["States"]) is deploys


def test_job_names_are_unique_per_execution_start_with_the_prefix_and_fit_sagemaker() -> None:
    from components.settings import MAX_PREFIX_LENGTH

    spec = replace(SPEC, prefix="p" * MAX_PREFIX_LENGTH)
    states = build_definition(spec)["States"]
    assert states["Initialize"]["Parameters"]["id.$"] == "States.Hash($$.Execution.Id, 'MD5')"
    for state, key in (
        ("Preprocess", "ProcessingJobName.$"),
        ("Train", "TrainingJobName.$"),
        ("RegisterModel", "ModelName.$"),
        ("CreateEndpointConfig", "EndpointConfigName.$"),
    ):
        match = re.fullmatch(r"States\.Format\('([a-z0-9-]+)-\{\}', \$\.run\.id\)", states[state]["Parameters"][key])
        assert match and match[1].startswith(spec.prefix + "-"), state
        assert len(match[1]) + 1 + 32 <= 63, state  # an MD5 in hex is 32 characters


def _concrete(value: Any) -> Any:
    """Parameters as the API receives them: a `.$` key becomes its plain key, with a value of the type the
    API expects for what the path yields at run time (S3 URIs for URI and path keys, names otherwise)."""
    if isinstance(value, list):
        return [_concrete(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key.endswith(".$"):
            key = key[:-2]
            item = "s3://bucket/key" if re.search("Uri|Url|Path", key) else "churn-prod-train-" + "0" * 32
        out[key] = _concrete(item)
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_sagemaker_task_parameters_are_valid_for_their_api(plans: dict[str, Plan], stack: str) -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    checked = 0
    for name, state in definition_of(plans[stack])["States"].items():
        resource = state.get("Resource", "")
        found = re.fullmatch(r"arn:aws:states:::(?:aws-sdk:)?sagemaker:(\w+)(?:\.sync)?", resource)
        if not found:
            continue
        operation = model.operation_model(found[1][0].upper() + found[1][1:])
        report = ParamValidator().validate(_concrete(state["Parameters"]), operation.input_shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"
        checked += 1
    assert checked >= 3


def test_task_resources_use_the_stack_partition() -> None:
    states = build_definition(replace(SPEC, partition="aws-cn"))["States"]
    assert states["Train"]["Resource"] == "arn:aws-cn:states:::sagemaker:createTrainingJob.sync"


def test_execution_timeout_bounds_every_step() -> None:
    definition = build_definition(SPEC)
    task_total = sum(
        s.get("TimeoutSeconds", 0)
        for s in definition["States"].values()
        if s["Type"] == "Task" and s.get("Resource", "").endswith(".sync")
    )
    assert definition["TimeoutSeconds"] >= task_total
    assert wd.execution_timeout(replace(SPEC, deploy=False)) < definition["TimeoutSeconds"]
