"""The generated state machines: valid ASL (moto's LocalStack parser), a sound graph, and SageMaker
parameters valid for their APIs (botocore's SageMaker service model)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components import workflow_definition as wd
from components.ml_pipeline import approval_event_pattern
from components.workflow_definition import DeploySpec, WorkflowSpec, build_definition, build_deploy_definition
from tests.conftest import STACKS
from tools.mock_runtime.program import Plan

SPEC = WorkflowSpec(
    partition="aws",
    region="eu-west-1",
    prefix="tumor-prod",
    bucket="bucket",
    sagemaker_role_arn="arn:aws:iam::123456789012:role/tumor-prod-sagemaker",
    evaluate_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:tumor-prod-evaluate",
    code_uri="s3://bucket/pipelines/tumor-prod/code/0123456789abcdef/",
    source_archive_uri="s3://bucket/pipelines/tumor-prod/code/0123456789abcdef.tar.gz",
    processing=wd.ProcessingStep(
        image="111122223333.dkr.ecr.eu-west-1.amazonaws.com/prep:1",
        entrypoint=("python3", "/opt/ml/processing/input/code/preprocess.py"),
        arguments=wd.script_arguments("preprocess.py"),
        instance_type="ml.m5.xlarge",
        instance_count=1,
        volume_gb=30,
        max_runtime=3600,
    ),
    evaluation=wd.ProcessingStep(
        image="111122223333.dkr.ecr.eu-west-1.amazonaws.com/prep:1",
        entrypoint=("python3", "/opt/ml/processing/input/code/evaluate.py"),
        arguments=wd.script_arguments("evaluate.py"),
        instance_type="ml.m5.large",
        instance_count=1,
        volume_gb=20,
        max_runtime=1200,
    ),
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
    model_package_group="tumor-prod",
    approval_status="PendingManualApproval",
    inference_image="111122223333.dkr.ecr.eu-west-1.amazonaws.com/serve:1",
    inference_instance_type="ml.m5.large",
    inference_environment=(("LOG_LEVEL", "info"),),
    tags=(("owner", "ml"),),
)
DEPLOY = DeploySpec(
    partition="aws",
    prefix="tumor-prod",
    model_package_group="tumor-prod",
    sagemaker_role_arn="arn:aws:iam::123456789012:role/tumor-prod-sagemaker",
    notification_topic_arn="arn:aws:sns:eu-west-1:123456789012:tumor-prod-failures",
    endpoint_name="tumor-prod",
    instance_type="ml.m5.large",
    instance_count=2,
    rollback_alarms=("tumor-prod-endpoint-errors", "tumor-prod-endpoint-latency"),
    inference_image="111122223333.dkr.ecr.eu-west-1.amazonaws.com/serve:1",
    model_data_prefix="s3://bucket/pipelines/tumor-prod/runs/",
    rollback_window=600,
    max_wait=3600,
    retry_interval=7,
    retry_max_attempts=4,
    retry_backoff=1.5,
    tags=(("owner", "ml"),),
)
MACHINES = [(stack, machine) for stack in STACKS for machine in ("state-machine", "deploy")]


def machine_of(plans: dict[str, Plan], stack: str, machine: str) -> dict[str, Any] | None:
    """A stack's training (`state-machine`) or deployment (`deploy`) definition; None where it has none."""
    found = [r for r in plans[stack].of_type("aws:sfn/stateMachine:StateMachine") if r.name == f"tumor-{machine}"]
    return json.loads(found[0].inputs["definition"]) if found else None


def targets(state: dict[str, Any]) -> set[str]:
    found = {state["Next"]} if "Next" in state else set()
    found |= {c["Next"] for c in state.get("Catch", [])}
    found |= {c["Next"] for c in state.get("Choices", [])}
    if "Default" in state:
        found.add(state["Default"])
    return found


# That each definition parses with the ASL engine is proven by tests/simulation: every state machine of every
# stack runs there, on the engine's own parser, and a case that cannot parse fails.


@pytest.mark.parametrize(("stack", "machine"), MACHINES)
def test_every_transition_target_exists_and_every_state_is_reachable(
    plans: dict[str, Plan], stack: str, machine: str
) -> None:
    definition = machine_of(plans, stack, machine)
    if definition is None:
        pytest.skip(f"{stack} does not deploy")
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


@pytest.mark.parametrize(("stack", "machine"), MACHINES)
def test_every_task_has_retry_and_a_timeout_and_fails_the_execution_where_it_fails(
    plans: dict[str, Plan], stack: str, machine: str
) -> None:
    """No Catch leads a failed task to a Fail state: the execution fails at the task, so a redrive reruns it (a
    Fail state reached by a Catch would be the step a redrive reruns, and it fails again). Only the success
    notification catches: served is served."""
    definition = machine_of(plans, stack, machine)
    if definition is None:
        pytest.skip(f"{stack} does not deploy")
    tasks = {n: s for n, s in definition["States"].items() if s["Type"] == "Task"}
    assert len(tasks) >= 5
    for name, task in tasks.items():
        assert task["Retry"] and task["Retry"][0]["MaxAttempts"] >= 1, name
        assert 0 < task["TimeoutSeconds"] <= 86400 * 30, name
        if name == "NotifyDeployed":
            assert [c["Next"] for c in task["Catch"]] == ["Deployed"]
        else:
            assert "Catch" not in task, name
    fail_states = {n for n, s in definition["States"].items() if s["Type"] == "Fail"}
    # The only Fail states are verdicts: a model below the gate, a version not to serve, an endpoint that did not.
    assert fail_states == ({"ModelRejected"} if machine == "state-machine" else {"NotApproved", "DeploymentFailed"})


def test_no_state_of_the_training_machine_publishes_its_failure_itself() -> None:
    states = build_definition(SPEC)["States"]
    assert not [n for n, s in states.items() if "sns:publish" in str(s.get("Resource", ""))]


def test_quality_gate_compares_the_metric_with_the_configured_threshold() -> None:
    gate = build_definition(SPEC)["States"]["QualityGate"]
    assert gate["Choices"] == [
        {"Variable": "$.evaluation.value", "NumericGreaterThanEquals": 0.8, "Next": "RecordMetadata"}
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


def test_every_gated_model_is_registered_in_the_group_with_its_metrics_and_metadata() -> None:
    states = build_definition(SPEC)["States"]
    register = states["RegisterModel"]
    assert register["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:createModelPackage"
    parameters = register["Parameters"]
    assert parameters["ModelPackageGroupName"] == "tumor-prod"
    assert parameters["ModelApprovalStatus"] == "PendingManualApproval"
    # The inference container of its own, never the training image.
    assert parameters["InferenceSpecification"]["Containers"] == [
        {
            "Image": SPEC.inference_image,
            "ModelDataUrl.$": "$.training.modelArtifacts",
            # The stack's variables, and the workload's handler where the framework serving container finds it.
            "Environment": {
                "LOG_LEVEL": "info",
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": SPEC.source_archive_uri,
                "SAGEMAKER_REGION": "eu-west-1",
            },
        }
    ]
    assert SPEC.training_image not in json.dumps(register)
    assert parameters["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri.$": "$.evaluation.reportUri",
    }
    assert parameters["CustomerMetadataProperties.$"] == "$.metadata"
    assert states["RecordMetadata"]["Choices"] == [
        {"Variable": "$.gitCommit", "IsPresent": True, "Next": "MetadataWithCommit"}
    ]
    assert states["MetadataWithCommit"]["Parameters"] == {
        "executionArn.$": "$$.Execution.Id",
        "gitCommit.$": "$.gitCommit",
    }
    assert states["Metadata"]["Parameters"] == {"executionArn.$": "$$.Execution.Id"}
    assert register["Next"] == "PipelineSucceeded"
    approved = build_definition(replace(SPEC, approval_status="Approved"))["States"]["RegisterModel"]
    assert approved["Parameters"]["ModelApprovalStatus"] == "Approved"


@pytest.mark.parametrize(("stack", "deploys", "status"), [
    ("dev", False, "Approved"), ("staging", True, "PendingManualApproval"), ("prod", True, "PendingManualApproval"),
])  # fmt: skip
def test_stacks_register_and_deploy_as_their_files_say(
    plans: dict[str, Plan], stack: str, deploys: bool, status: str
) -> None:
    training = machine_of(plans, stack, "state-machine")
    assert training is not None
    assert training["States"]["RegisterModel"]["Parameters"]["ModelApprovalStatus"] == status
    assert not {"CreateEndpoint", "UpdateEndpoint"} & training["States"].keys()  # only an approval deploys
    assert (machine_of(plans, stack, "deploy") is not None) is deploys
    approval_rules = [
        r for r in plans[stack].of_type("aws:cloudwatch/eventRule:EventRule") if r.name.endswith("-approved")
    ]
    endpoints_alarms = [
        a for a in plans[stack].of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "endpoint" in a.name
    ]
    assert (len(approval_rules), len(endpoints_alarms)) == ((1, 2) if deploys else (0, 0))


def test_deployment_serves_only_an_approved_version_of_its_group() -> None:
    states = build_deploy_definition(DEPLOY)["States"]
    assert states["Initialize"]["Parameters"]["packageArn.$"] == "$.detail.ModelPackageArn"
    assert states["DescribeModelPackage"]["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:describeModelPackage"
    assert states["IsApproved"]["Choices"][0]["And"] == [
        {"Variable": "$.package.status", "StringEquals": "Approved"},
        {"Variable": "$.package.group", "StringEquals": "tumor-prod"},
        # approved into the group is not enough: the pipeline's own image and one of its runs' model data
        {"Variable": "$.package.image", "StringEquals": DEPLOY.inference_image},
        {"Variable": "$.package.modelData", "StringMatches": "s3://bucket/pipelines/tumor-prod/runs/*"},
    ]
    assert states["IsApproved"]["Default"] == "NotApproved" and states["NotApproved"]["Type"] == "Fail"
    assert states["CreateModel"]["Parameters"]["PrimaryContainer"] == {"ModelPackageName.$": "$.run.packageArn"}


def test_an_update_is_blue_green_and_rolls_back_on_the_pipelines_alarms() -> None:
    update = build_deploy_definition(DEPLOY)["States"]["UpdateEndpoint"]["Parameters"]["DeploymentConfig"]
    assert update["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": 600,
    }
    assert update["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "tumor-prod-endpoint-errors"}, {"AlarmName": "tumor-prod-endpoint-latency"}]
    }


def test_the_wait_for_the_endpoint_is_bounded_and_every_outcome_is_named() -> None:
    definition = build_deploy_definition(DEPLOY)
    states = definition["States"]
    choices = states["EndpointReady"]["Choices"]
    assert choices[0]["Next"] == "NotifyDeployed" and choices[1]["Next"] == "RolledBack"
    assert {"Variable": "$.run.polls", "NumericGreaterThanEquals": 60, "Next": "TimedOut"} in choices
    for outcome, error in (
        ("RolledBack", "EndpointRolledBack"),
        ("EndpointFailed", "EndpointDeploymentFailed"),
        ("TimedOut", "EndpointNotInService"),
    ):
        assert states[outcome]["Next"] == "DeploymentFailed", outcome
        assert states[outcome]["Parameters"]["Error"] == error
    # The execution fails with the outcome's own error, which the status-change notification carries.
    assert states["DeploymentFailed"] == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}
    assert states["NotifyDeployed"]["Next"] == "Deployed"
    assert definition["TimeoutSeconds"] >= DEPLOY.max_wait + 60


def test_the_approval_rule_matches_only_approved_versions_of_its_group() -> None:
    """The rule's pattern, run by moto's EventBridge pattern matcher against the events SageMaker sends."""
    from moto.events.models import EventPattern

    pattern = EventPattern.load(json.dumps(approval_event_pattern("tumor-prod")))

    def event(group: str, status: str) -> dict[str, Any]:
        return {
            "source": "aws.sagemaker",
            "detail-type": "SageMaker Model Package State Change",
            "detail": {
                "ModelPackageGroupName": group,
                "ModelApprovalStatus": status,
                "ModelPackageArn": f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{group}/3",
            },
        }

    assert pattern.matches_event(event("tumor-prod", "Approved"))
    assert not pattern.matches_event(event("tumor-prod", "PendingManualApproval"))
    assert not pattern.matches_event(event("tumor-prod", "Rejected"))
    assert not pattern.matches_event(event("other", "Approved"))


CREATES = [
    ("train", "Preprocess", "ProcessingJobName", "CreateProcessingJobRequest"),
    ("train", "Train", "TrainingJobName", "CreateTrainingJobRequest"),
    ("train", "Evaluate", "ProcessingJobName", "CreateProcessingJobRequest"),
    ("deploy", "CreateModel", "ModelName", "CreateModelInput"),
    ("deploy", "CreateEndpointConfig", "EndpointConfigName", "CreateEndpointConfigInput"),
]


@pytest.mark.parametrize(("machine", "state", "key", "shape"), CREATES)
def test_a_retry_or_a_redrive_never_asks_for_a_name_sagemaker_holds(
    machine: str, state: str, key: str, shape: str
) -> None:
    """Each Create* names what it creates from the execution, its redrive count and the state's retry count (the
    context object's own fields), within SageMaker's length and pattern, with the pipeline's prefix at its head."""
    from components.settings import MAX_PREFIX_LENGTH
    from tools.run_local.paths import evaluate

    prefix = "p" * MAX_PREFIX_LENGTH
    definition = (
        build_definition(replace(SPEC, prefix=prefix))
        if machine == "train"
        else build_deploy_definition(replace(DEPLOY, prefix=prefix))
    )
    expression = definition["States"][state]["Parameters"][f"{key}.$"]
    member = botocore.session.get_session().get_service_model("sagemaker").shape_for(shape).members[key]
    names = set()
    for redrives, retries in ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)):
        execution = {"Id": "arn:aws:states:eu-west-1:1:execution:m:e", "RedriveCount": redrives}
        name = evaluate(expression, {}, {"Execution": execution, "State": {"RetryCount": retries}})
        assert name.startswith(prefix + "-")
        assert len(name) <= member.metadata["max"] and re.fullmatch(member.metadata["pattern"], name), name
        names.add(name)
    assert len(names) == 6  # every attempt its own name
    other = {"Id": "arn:aws:states:eu-west-1:1:execution:m:f", "RedriveCount": 0}
    assert evaluate(expression, {}, {"Execution": other, "State": {"RetryCount": 0}}) not in names


def test_what_a_task_creates_carries_the_execution_that_created_it() -> None:
    for machine, state, _, _ in CREATES:
        definition = build_definition(SPEC) if machine == "train" else build_deploy_definition(DEPLOY)
        tags = definition["States"][state]["Parameters"]["Tags"]
        assert {"Key": "execution-arn", "Value.$": "$$.Execution.Id"} in tags
    # S3 keys stay the run's own across retries and redrives: the run id is the execution's alone.
    assert build_definition(SPEC)["States"]["Initialize"]["Parameters"]["id.$"] == "States.Hash($$.Execution.Id, 'MD5')"


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
            if key.endswith("Properties"):  # a map the state builds (CustomerMetadataProperties)
                item = {"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:tumor-prod:x"}
            else:
                item = "s3://bucket/key" if re.search("Uri|Url|Path", key) else "tumor-prod-train-" + "0" * 32
        out[key] = _concrete(item)
    return out


@pytest.mark.parametrize(("stack", "machine"), MACHINES)
def test_sagemaker_task_parameters_are_valid_for_their_api(plans: dict[str, Plan], stack: str, machine: str) -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    definition = machine_of(plans, stack, machine)
    if definition is None:
        pytest.skip(f"{stack} does not deploy")
    checked = 0
    for name, state in definition["States"].items():
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


def test_the_sdk_errors_retried_are_sagemakers_own() -> None:
    """AWS SDK integrations raise `SageMaker.<error>Exception` (Step Functions developer guide): each name is a
    SageMaker error in botocore's model or AWS's throttling code in botocore's retry data; the catch-all
    `SageMaker.SageMakerException` is the one name no model holds."""
    session = botocore.session.get_session()
    model = session.get_service_model("sagemaker")
    modelled = {
        shape.removesuffix("Exception")
        for shape in model.shape_names
        if model.shape_for(shape).metadata.get("exception")
    }
    retry = session.get_data("_retry")["definitions"]
    throttling = {
        d["applies_when"].get("response", {}).get("service_error_code", "")
        for d in retry.values()
        if "applies_when" in d
    }
    for error in wd.SAGEMAKER_SDK_RETRYABLE:
        service, _, name = error.partition(".")
        assert service == "SageMaker" and name.endswith("Exception"), error
        if name == "SageMakerException":
            continue
        assert name.removesuffix("Exception") in modelled or name in throttling, error


def test_the_readmes_approval_commands_are_sagemakers_own() -> None:
    """`aws sagemaker <command> --flag ...` in the README and docs/settings.md: each command an operation of
    botocore's SageMaker model, each flag one of its input members (the CLI's kebab-case of them)."""
    from tests.conftest import ROOT

    model = botocore.session.get_session().get_service_model("sagemaker")
    text = "\n".join((ROOT / p).read_text() for p in ("README.md", "docs/settings.md")).replace("\\\n", " ")
    commands = re.findall(r"aws sagemaker ([a-z-]+)((?: --[a-z-]+(?: \S+)?)+)", text)
    assert {c for c, _ in commands} >= {"update-model-package", "list-model-packages"}
    operations = {re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower(): name for name in model.operation_names}
    for command, flags in commands:
        members = model.operation_model(operations[command]).input_shape.members
        cli_flags = {re.sub(r"(?<!^)(?=[A-Z])", "-", m).lower() for m in members}
        assert set(re.findall(r"--([a-z-]+)", flags)) <= cli_flags, command
