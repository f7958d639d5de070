"""The Amazon States Language definitions of one ML pipeline, as plain dicts.

Training (`build_definition`): preprocess (processing job, .sync) -> train (training job, .sync) -> evaluate
(processing job, .sync, writing evaluation.json) -> read the metric (Lambda) -> quality gate (Choice) -> register
the model as a version of the pipeline's model package group (SageMaker Model Registry, with its metrics and the
execution's metadata) -> success. The jobs run the workload's scripts (workloads/<name>/), uploaded by the
program. Every Task has Retry and a timeout, and no Catch: a task that still fails fails the execution *at that
task*, so that a redrive (RedriveExecution: "continues the failed execution from the unsuccessful step",
https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html) reruns the task and goes on. A Catch
leading to a Fail state would make the Fail state the unsuccessful step, and every redrive would fail again. The
on-call hears of every execution that fails, times out or is aborted through the pipeline's EventBridge rule on
"Step Functions Execution Status Change" (components/ml_pipeline.py), which a Catch could never see for the last two.

Deployment (`build_deploy_definition`, where the stack deploys): started by EventBridge when a model version
of the group is approved; checks the version is approved, creates a model from the package and an endpoint
config, creates the endpoint or updates it blue/green with automatic rollback on the pipeline's alarms, waits
a bounded time for it to be in service, and notifies success. An endpoint that rolled back, failed or stayed
out of service fails the execution with a named error (EndpointRolledBack, EndpointDeploymentFailed,
EndpointNotInService): a verdict, which a redrive repeats; a task that fails fails there, and a redrive resumes it.

Names of what a task creates (jobs, models, endpoint configs) are `<prefix>-<step>-<attempt id>`, the attempt id
the MD5 of the execution ARN, its redrive count and the state's retry count: a retry (after a create whose response
was lost) or a redrive (after a failure, an abort or a timeout) never asks for a name SageMaker already holds.
They are at most 63 characters and start with the pipeline's prefix, so that IAM can scope to them; each carries the tag
`execution-arn`, and the execution's output names each one. S3 keys use the run id (the MD5 of the execution ARN
alone): a retried or redriven step reads and writes the same run's files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Task resources (Step Functions developer guide, "Create and manage Amazon SageMaker AI jobs with Step
# Functions" and "Call other AWS services"). `arn:<partition>:states:::<service>:<api>[.sync]`.
PROCESSING_JOB_SYNC = "sagemaker:createProcessingJob.sync"
TRAINING_JOB_SYNC = "sagemaker:createTrainingJob.sync"
CREATE_MODEL = "sagemaker:createModel"
CREATE_MODEL_PACKAGE = "aws-sdk:sagemaker:createModelPackage"
DESCRIBE_MODEL_PACKAGE = "aws-sdk:sagemaker:describeModelPackage"
CREATE_ENDPOINT_CONFIG = "sagemaker:createEndpointConfig"
CREATE_ENDPOINT = "sagemaker:createEndpoint"
UPDATE_ENDPOINT = "sagemaker:updateEndpoint"
LIST_ENDPOINTS = "aws-sdk:sagemaker:listEndpoints"
DESCRIBE_ENDPOINT = "aws-sdk:sagemaker:describeEndpoint"
LAMBDA_INVOKE = "lambda:invoke"
SNS_PUBLISH = "sns:publish"

STEP_TAGS = {"preprocess": "prep", "train": "train", "evaluate": "eval", "model": "model", "deploy": "deploy"}
RUN_ID = "$.run.id"
# Step Functions' context object has `Execution.RedriveCount` (0 until a redrive) and `State.RetryCount` (0 on a
# state's first attempt): https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html.
# Intrinsics nest (States.Hash of States.Format), so the id stays 32 characters however many attempts there are.
ATTEMPT_ID = (
    "States.Hash(States.Format('{}/{}/{}', $$.Execution.Id, $$.Execution.RedriveCount, $$.State.RetryCount), 'MD5')"
)
EXECUTION_TAG = "execution-arn"
"""Tag on every job, model and endpoint config a task creates: the execution that created it."""
NOT_APPROVED_ERROR = "ModelNotApproved"
ROLLED_BACK_ERROR = "EndpointRolledBack"
TIMED_OUT_ERROR = "EndpointNotInService"
REJECTED_ERROR = "ModelBelowThreshold"
GATE_STATE, REJECTED_STATE, REGISTER_STATE = "QualityGate", "ModelRejected", "RegisterModel"
"""The quality gate (a Choice on the metric), where it sends a model below the threshold, and registration: the
local run (tools/run_local) reads these states of the definition itself."""
ENDPOINT_FAILED_ERROR = "EndpointDeploymentFailed"
DEPLOYMENT_FAILED_STATE = "DeploymentFailed"

# Error names Step Functions raises for these integrations. Optimised SageMaker tasks raise
# `SageMaker.AmazonSageMakerException` for service errors and throttling. AWS SDK integrations raise
# `<Service>.<ErrorName>`, the error name always with an `Exception` suffix (Step Functions developer guide,
# "AWS SDK service integrations"): SageMaker's modelled errors (botocore: ResourceLimitExceeded, ConflictException)
# and AWS's throttling code (`ThrottlingException`, botocore's retry data); a test checks each against botocore.
# `SageMaker.SageMakerException`, an unmodelled error, is kept as a catch-all: the guide names no such rule, so it
# is retried but nothing depends on it.
SAGEMAKER_RETRYABLE = ["SageMaker.AmazonSageMakerException", "SageMaker.ResourceLimitExceededException"]
SAGEMAKER_SDK_RETRYABLE = [
    "SageMaker.ThrottlingException",
    "SageMaker.ResourceLimitExceededException",
    "SageMaker.ConflictException",
    "SageMaker.SageMakerException",
]
LAMBDA_RETRYABLE = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
SNS_RETRYABLE = ["SNS.SnsException", "SNS.ThrottledException", "SNS.InternalErrorException"]

# Allowances on top of a job's own MaxRuntimeInSeconds: queueing, provisioning and uploading the output.
JOB_OVERHEAD_SECONDS = 1800
API_CALL_TIMEOUT_SECONDS = 120
EVALUATE_TIMEOUT_SECONDS = 300
ENDPOINT_POLL_SECONDS = 60

# Where SageMaker's processing containers find their inputs and leave their outputs (SageMaker developer guide,
# "How Amazon SageMaker Processing Runs Your Processing Container Image": LocalPath under /opt/ml/processing/).
# The code input is where the SDK's script processors put the script (sagemaker.core.processing,
# `_SOURCE_CODE_CONTAINER_DIR`).
PROCESSING_DIR = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_DIR}/input/code"
RAW_DIR = f"{PROCESSING_DIR}/input/raw"
SPLITS = ("train", "validation", "test")
TRAINING_CHANNELS = ("train", "validation")
MODEL_DIR = f"{PROCESSING_DIR}/model"
TEST_DIR = f"{PROCESSING_DIR}/test"
EVALUATION_DIR = f"{PROCESSING_DIR}/evaluation"
REPORT_NAME = "evaluation.json"
# Script mode: the training toolkit in AWS's framework images reads these hyperparameters, JSON-encoded as the
# SageMaker SDK writes them (sagemaker.core.constants SCRIPT_PARAM_NAME, DIR_PARAM_NAME, SAGEMAKER_REGION_PARAM_NAME;
# sagemaker_training.environment.read_hyperparameters json-decodes every value).
SCRIPT_PARAM, DIR_PARAM, REGION_PARAM = "sagemaker_program", "sagemaker_submit_directory", "sagemaker_region"
# Serving: the framework serving containers import SAGEMAKER_PROGRAM from SAGEMAKER_SUBMIT_DIRECTORY (an S3 URI
# of a tar.gz is downloaded and unpacked; the region from SAGEMAKER_REGION), as the SDK's framework models set
# them (sagemaker_inference.parameters; sagemaker_containers._params and _files.s3_download).
PROGRAM_ENV, DIRECTORY_ENV, REGION_ENV = "SAGEMAKER_PROGRAM", "SAGEMAKER_SUBMIT_DIRECTORY", "SAGEMAKER_REGION"


@dataclass(frozen=True)
class ProcessingStep:
    """One processing job's container and size."""

    image: str
    entrypoint: tuple[str, ...]
    arguments: tuple[str, ...]
    """`ContainerArguments`: the workload script's paths, as SageMaker lays them out (see script_arguments)."""
    instance_type: str
    instance_count: int
    volume_gb: int
    max_runtime: int


@dataclass(frozen=True)
class WorkflowSpec:
    """What the definition needs: names and ARNs (all known before deployment) and the step settings."""

    partition: str
    region: str
    prefix: str
    bucket: str
    sagemaker_role_arn: str
    evaluate_function_arn: str
    code_uri: str
    """`s3://.../code/<digest>/`: the workload's files, delivered to processing jobs at CODE_DIR."""
    source_archive_uri: str
    """`s3://.../code/<digest>.tar.gz`: the same files packed, for script-mode training and serving."""
    processing: ProcessingStep
    """Preprocess: the workload's preprocess.py."""
    evaluation: ProcessingStep
    """Evaluate: the workload's evaluate.py on the model and the test set."""
    training_image: str
    training_instance_type: str
    training_instance_count: int
    training_volume_gb: int
    training_max_runtime: int
    hyperparameters: tuple[tuple[str, str], ...]
    metric: str
    threshold: float
    higher_is_better: bool
    retry_interval: int
    retry_max_attempts: int
    retry_backoff: float
    model_package_group: str
    approval_status: str
    inference_image: str
    inference_instance_type: str
    inference_environment: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DeploySpec:
    """What the deployment definition needs."""

    partition: str
    prefix: str
    model_package_group: str
    sagemaker_role_arn: str
    notification_topic_arn: str
    endpoint_name: str
    instance_type: str
    instance_count: int
    rollback_alarms: tuple[str, ...]
    inference_image: str
    model_data_prefix: str
    """`s3://<bucket>/pipelines/<prefix>/runs/`: where the training machine's model artifacts are."""
    rollback_window: int
    max_wait: int
    retry_interval: int
    retry_max_attempts: int
    retry_backoff: float
    tags: tuple[tuple[str, str], ...]


def task_resource(partition: str, integration: str) -> str:
    return f"arn:{partition}:states:::{integration}"


def attempt_name(prefix: str, step: str) -> str:
    """`<prefix>-<step>-<attempt id>`, evaluated in the creating task's own Parameters (where RetryCount counts)."""
    # Only [a-z0-9-] in the prefix, so it needs no escaping inside States.Format's template.
    return f"States.Format('{prefix}-{STEP_TAGS[step]}-{{}}', {ATTEMPT_ID})"


def _job_name(spec: WorkflowSpec, step: str) -> str:
    return attempt_name(spec.prefix, step)


def _run_uri(spec: WorkflowSpec, suffix: str, *args: str) -> str:
    template = f"s3://{spec.bucket}/pipelines/{spec.prefix}/runs/{{}}/{suffix}"
    return f"States.Format('{template}', {', '.join((RUN_ID, *args))})"


def _retry(spec: WorkflowSpec | DeploySpec, errors: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "ErrorEquals": errors,
            "IntervalSeconds": spec.retry_interval,
            "MaxAttempts": spec.retry_max_attempts,
            "BackoffRate": spec.retry_backoff,
        }
    ]


def _tags(spec: WorkflowSpec | DeploySpec) -> list[dict[str, str]]:
    """The stack's tags, and the execution that created the resource."""
    return [
        *({"Key": key, "Value": value} for key, value in spec.tags),
        {"Key": EXECUTION_TAG, "Value.$": "$$.Execution.Id"},
    ]


def _task(
    spec: WorkflowSpec | DeploySpec,
    integration: str,
    parameters: dict[str, Any],
    *,
    next_state: str,
    timeout: int,
    retry_on: list[str],
    result_selector: dict[str, str] | None = None,
    result_path: str | None = None,
    comment: str,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Comment": comment,
        "Resource": task_resource(spec.partition, integration),
        "Parameters": parameters,
        "TimeoutSeconds": timeout,
    }
    if result_selector is not None:
        state["ResultSelector"] = result_selector
    state["ResultPath"] = result_path
    state["Retry"] = _retry(spec, retry_on)
    state["Next"] = next_state
    return state


def _s3_input(name: str, local_path: str, uri: str | None = None, uri_path: str | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File"}
    if uri_path is not None:
        source["S3Uri.$"] = uri_path
    else:
        source["S3Uri"] = uri
    return {"InputName": name, "S3Input": source}


def _s3_output(spec: WorkflowSpec, name: str, local_path: str, run_suffix: str) -> dict[str, Any]:
    return {
        "OutputName": name,
        "S3Output": {"S3Uri.$": _run_uri(spec, run_suffix), "LocalPath": local_path, "S3UploadMode": "EndOfJob"},
    }


def script_arguments(script: str) -> tuple[str, ...]:
    """What a workload's processing script is told: where SageMaker put its inputs and collects its outputs
    (each path also an input's or output's LocalPath below). A workload's scripts take these flags."""
    if script == "preprocess.py":
        return ("--input-dir", RAW_DIR, "--output-dir", f"{PROCESSING_DIR}/output")
    if script == "evaluate.py":
        return ("--model-dir", MODEL_DIR, "--test-dir", TEST_DIR, "--output-dir", EVALUATION_DIR)
    raise ValueError(f"{script} is not a processing script of a workload")


def _processing_job(
    spec: WorkflowSpec,
    step: str,
    job: ProcessingStep,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
) -> dict[str, Any]:
    application: dict[str, Any] = {"ImageUri": job.image, "ContainerEntrypoint": list(job.entrypoint)}
    if job.arguments:
        application["ContainerArguments"] = list(job.arguments)
    return {
        "ProcessingJobName.$": _job_name(spec, step),
        "RoleArn": spec.sagemaker_role_arn,
        "AppSpecification": application,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": job.instance_count,
                "InstanceType": job.instance_type,
                "VolumeSizeInGB": job.volume_gb,
            }
        },
        "ProcessingInputs": [_s3_input("code", CODE_DIR, spec.code_uri), *inputs],
        "ProcessingOutputConfig": {"Outputs": outputs},
        "StoppingCondition": {"MaxRuntimeInSeconds": job.max_runtime},
        "Tags": _tags(spec),
    }


def _preprocess(spec: WorkflowSpec) -> dict[str, Any]:
    return _task(
        spec,
        PROCESSING_JOB_SYNC,
        _processing_job(
            spec,
            "preprocess",
            spec.processing,
            [_s3_input("raw", RAW_DIR, f"s3://{spec.bucket}/pipelines/{spec.prefix}/data/raw/")],
            [_s3_output(spec, split, f"{PROCESSING_DIR}/output/{split}", f"processed/{split}") for split in SPLITS],
        ),
        next_state="Train",
        timeout=spec.processing.max_runtime + JOB_OVERHEAD_SECONDS,
        retry_on=SAGEMAKER_RETRYABLE,
        result_selector={"jobName.$": "$.ProcessingJobName", "jobArn.$": "$.ProcessingJobArn"},
        result_path="$.preprocess",
        comment="Split the raw data into train, validation and test sets (the workload's preprocess.py).",
    )


def _evaluate_job(spec: WorkflowSpec) -> dict[str, Any]:
    return _task(
        spec,
        PROCESSING_JOB_SYNC,
        _processing_job(
            spec,
            "evaluate",
            spec.evaluation,
            [
                # The training job's model.tar.gz: an S3Prefix that is the object's own key delivers that object.
                _s3_input("model", MODEL_DIR, uri_path="$.training.modelArtifacts"),
                _s3_input("test", TEST_DIR, uri_path=_run_uri(spec, "processed/test")),
            ],
            [_s3_output(spec, "evaluation", EVALUATION_DIR, "evaluation")],
        ),
        next_state="ReadMetric",
        timeout=spec.evaluation.max_runtime + JOB_OVERHEAD_SECONDS,
        retry_on=SAGEMAKER_RETRYABLE,
        result_selector={"jobName.$": "$.ProcessingJobName", "jobArn.$": "$.ProcessingJobArn"},
        result_path="$.evaluationJob",
        comment="Score the model on the held-out test set (the workload's evaluate.py writes evaluation.json).",
    )


def _train(spec: WorkflowSpec) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "TrainingJobName.$": _job_name(spec, "train"),
        "RoleArn": spec.sagemaker_role_arn,
        "AlgorithmSpecification": {"TrainingImage": spec.training_image, "TrainingInputMode": "File"},
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri.$": _run_uri(spec, f"processed/{channel}"),
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel in TRAINING_CHANNELS
        ],
        "OutputDataConfig": {"S3OutputPath.$": _run_uri(spec, "model")},
        "ResourceConfig": {
            "InstanceType": spec.training_instance_type,
            "InstanceCount": spec.training_instance_count,
            "VolumeSizeInGB": spec.training_volume_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.training_max_runtime},
        "HyperParameters": training_hyperparameters(spec),
        "Tags": _tags(spec),
    }
    return _task(
        spec,
        TRAINING_JOB_SYNC,
        parameters,
        next_state="Evaluate",
        timeout=spec.training_max_runtime + JOB_OVERHEAD_SECONDS,
        retry_on=SAGEMAKER_RETRYABLE,
        result_selector={
            "jobName.$": "$.TrainingJobName",
            "jobArn.$": "$.TrainingJobArn",
            "modelArtifacts.$": "$.ModelArtifacts.S3ModelArtifacts",
        },
        result_path="$.training",
        comment="Train the model (SageMaker training job, the workload's train.py in script mode).",
    )


def training_hyperparameters(spec: WorkflowSpec) -> dict[str, str]:
    """The stack's hyperparameters (each passed to json.loads by the toolkit, then to the script as
    `--name value`) and script mode's own, JSON-encoded as the SDK encodes them."""
    return {
        **dict(spec.hyperparameters),
        SCRIPT_PARAM: json.dumps("train.py"),
        DIR_PARAM: json.dumps(spec.source_archive_uri),
        REGION_PARAM: json.dumps(spec.region),
    }


def serving_environment(spec: WorkflowSpec) -> dict[str, str]:
    """The model's container environment: the stack's variables and the workload's inference handler."""
    return {
        **dict(spec.inference_environment),
        PROGRAM_ENV: "inference.py",
        DIRECTORY_ENV: spec.source_archive_uri,
        REGION_ENV: spec.region,
    }


def _read_metric(spec: WorkflowSpec) -> dict[str, Any]:
    return _task(
        spec,
        LAMBDA_INVOKE,
        {
            "FunctionName": spec.evaluate_function_arn,
            # The file evaluate.py wrote; the registered version's ModelMetrics point at the same object.
            "Payload": {"reportUri.$": _run_uri(spec, f"evaluation/{REPORT_NAME}"), "metric": spec.metric},
        },
        next_state="QualityGate",
        timeout=EVALUATE_TIMEOUT_SECONDS,
        retry_on=LAMBDA_RETRYABLE,
        result_selector={
            "metric.$": "$.Payload.metric",
            "value.$": "$.Payload.value",
            "reportUri.$": "$.Payload.reportUri",
        },
        result_path="$.evaluation",
        comment=f"Read {spec.metric} from the evaluation report (and refuse a report without it).",
    )


def _metadata_states() -> dict[str, dict[str, Any]]:
    """The version's customer metadata: the execution ARN, and the git commit when the input carries one."""
    return {
        "RecordMetadata": {
            "Type": "Choice",
            "Comment": "Name the commit the model was trained from, when the execution input says (gitCommit).",
            "Choices": [{"Variable": "$.gitCommit", "IsPresent": True, "Next": "MetadataWithCommit"}],
            "Default": "Metadata",
        },
        "MetadataWithCommit": {
            "Type": "Pass",
            "Parameters": {"executionArn.$": "$$.Execution.Id", "gitCommit.$": "$.gitCommit"},
            "ResultPath": "$.metadata",
            "Next": "RegisterModel",
        },
        "Metadata": {
            "Type": "Pass",
            "Parameters": {"executionArn.$": "$$.Execution.Id"},
            "ResultPath": "$.metadata",
            "Next": "RegisterModel",
        },
    }


def _register(spec: WorkflowSpec) -> dict[str, Any]:
    container: dict[str, Any] = {
        "Image": spec.inference_image,
        "ModelDataUrl.$": "$.training.modelArtifacts",
        "Environment": serving_environment(spec),
    }
    return _task(
        spec,
        CREATE_MODEL_PACKAGE,
        {
            "ModelPackageGroupName": spec.model_package_group,
            "ModelPackageDescription.$": (
                f"States.Format('{spec.metric} {{}}, from execution {{}}', $.evaluation.value, $$.Execution.Id)"
            ),
            "ModelApprovalStatus": spec.approval_status,
            "InferenceSpecification": {
                "Containers": [container],
                "SupportedRealtimeInferenceInstanceTypes": [spec.inference_instance_type],
            },
            "ModelMetrics": {
                "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri.$": "$.evaluation.reportUri"}}
            },
            "CustomerMetadataProperties.$": "$.metadata",
        },
        next_state="PipelineSucceeded",
        timeout=API_CALL_TIMEOUT_SECONDS,
        retry_on=SAGEMAKER_SDK_RETRYABLE,
        result_selector={"modelPackageArn.$": "$.ModelPackageArn"},
        result_path="$.modelPackage",
        comment=f"Register the model as a version of {spec.model_package_group} ({spec.approval_status}).",
    )


def execution_timeout(spec: WorkflowSpec) -> int:
    """Bounds the whole execution."""
    jobs = spec.processing.max_runtime + spec.training_max_runtime + spec.evaluation.max_runtime
    return jobs + 3 * JOB_OVERHEAD_SECONDS + EVALUATE_TIMEOUT_SECONDS + 2 * API_CALL_TIMEOUT_SECONDS


def build_definition(spec: WorkflowSpec) -> dict[str, Any]:
    """The state machine definition for one pipeline."""
    comparison = "NumericGreaterThanEquals" if spec.higher_is_better else "NumericLessThanEquals"
    bound = "at least" if spec.higher_is_better else "at most"
    states: dict[str, dict[str, Any]] = {
        "Initialize": {
            "Type": "Pass",
            "Comment": "A run id unique to this execution, used in every job name and S3 key.",
            "Parameters": {"id.$": "States.Hash($$.Execution.Id, 'MD5')", "executionId.$": "$$.Execution.Id"},
            "ResultPath": "$.run",
            "Next": "Preprocess",
        },
        "Preprocess": _preprocess(spec),
        "Train": _train(spec),
        "Evaluate": _evaluate_job(spec),
        "ReadMetric": _read_metric(spec),
        GATE_STATE: {
            "Type": "Choice",
            "Comment": f"Register only a model whose {spec.metric} is {bound} {spec.threshold}.",
            "Choices": [{"Variable": "$.evaluation.value", comparison: spec.threshold, "Next": "RecordMetadata"}],
            "Default": REJECTED_STATE,
        },
        REJECTED_STATE: {
            "Type": "Fail",
            "Error": REJECTED_ERROR,
            "Cause": f"{spec.metric} did not reach the quality gate ({bound} {spec.threshold}); nothing registered",
        },
        **_metadata_states(),
        REGISTER_STATE: _register(spec),
        "PipelineSucceeded": {"Type": "Succeed"},
    }
    return {
        "Comment": f"ML training pipeline {spec.prefix}: preprocess, train, evaluate, gate, register",
        "StartAt": "Initialize",
        "TimeoutSeconds": execution_timeout(spec),
        "States": states,
    }


_NAME_FROM_ARN = "States.ArrayGetItem(States.StringSplit({}, '/'), 1)"
"""A SageMaker model's or endpoint config's name, from its ARN (`arn:...:model/<name>`; the names are lower-case,
as SageMaker writes them in ARNs)."""


def deploy_timeout(spec: DeploySpec) -> int:
    """Bounds the deployment: its API calls, then the wait for the endpoint (itself bounded by polls)."""
    return spec.max_wait + 6 * API_CALL_TIMEOUT_SECONDS + ENDPOINT_POLL_SECONDS


def max_polls(spec: DeploySpec) -> int:
    return max(1, spec.max_wait // ENDPOINT_POLL_SECONDS)


def _deploy_approval_states(spec: DeploySpec) -> dict[str, dict[str, Any]]:
    """Read the version named by the event, and go on only if it is an approved version of the group."""
    return {
        "Initialize": {
            "Type": "Pass",
            "Comment": "The approved version, and the count of polls of the endpoint.",
            "Parameters": {"packageArn.$": "$.detail.ModelPackageArn", "polls": 0},
            "ResultPath": "$.run",
            "Next": "DescribeModelPackage",
        },
        "DescribeModelPackage": _task(
            spec,
            DESCRIBE_MODEL_PACKAGE,
            {"ModelPackageName.$": "$.run.packageArn"},
            next_state="IsApproved",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_SDK_RETRYABLE,
            result_selector={
                "status.$": "$.ModelApprovalStatus",
                "group.$": "$.ModelPackageGroupName",
                # The first container's, by an intrinsic (a `[0]` path yields a list in some JSONPath readers).
                "image.$": "States.ArrayGetItem($.InferenceSpecification.Containers[*].Image, 0)",
                "modelData.$": "States.ArrayGetItem($.InferenceSpecification.Containers[*].ModelDataUrl, 0)",
            },
            result_path="$.package",
            comment="Read the version's approval now: the event may be stale, and only Approved serves.",
        ),
        "IsApproved": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.package.status", "StringEquals": "Approved"},
                        {"Variable": "$.package.group", "StringEquals": spec.model_package_group},
                        # What the training machine registers, and nothing else approved into the group: the
                        # pipeline's inference image, model data from one of its own runs.
                        {"Variable": "$.package.image", "StringEquals": spec.inference_image},
                        {"Variable": "$.package.modelData", "StringMatches": f"{spec.model_data_prefix}*"},
                    ],
                    "Next": "CreateModel",
                }
            ],
            "Default": "NotApproved",
        },
        "NotApproved": {
            "Type": "Fail",
            "Error": NOT_APPROVED_ERROR,
            "Cause": (
                f"the model version is not an approved version of {spec.model_package_group} with its inference "
                "image and model data from its runs; nothing served"
            ),
        },
        "CreateModel": _task(
            spec,
            CREATE_MODEL,
            {
                "ModelName.$": attempt_name(spec.prefix, "model"),
                "ExecutionRoleArn": spec.sagemaker_role_arn,
                "PrimaryContainer": {"ModelPackageName.$": "$.run.packageArn"},
                "Tags": _tags(spec),
            },
            next_state="CreateEndpointConfig",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_RETRYABLE,
            result_selector={"modelArn.$": "$.ModelArn", "modelName.$": _NAME_FROM_ARN.format("$.ModelArn")},
            result_path="$.model",
            comment="A model from the approved version (its inference container and model data).",
        ),
    }


def _update_endpoint(spec: DeploySpec, endpoint: dict[str, str]) -> dict[str, Any]:
    """Later deployments: blue/green, rolled back by SageMaker when one of the pipeline's alarms fires."""
    return _task(
        spec,
        UPDATE_ENDPOINT,
        {
            **endpoint,
            # Blue/green: the new fleet takes all traffic, is watched for the window, and SageMaker rolls
            # back to the old one if an alarm fires (DeploymentConfig, AutoRollbackConfiguration).
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "ALL_AT_ONCE",
                        "WaitIntervalInSeconds": spec.rollback_window,
                    },
                    "TerminationWaitInSeconds": 0,
                    "MaximumExecutionTimeoutInSeconds": spec.max_wait,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in spec.rollback_alarms]},
            },
        },
        next_state="WaitForEndpoint",
        timeout=API_CALL_TIMEOUT_SECONDS,
        retry_on=SAGEMAKER_RETRYABLE,
        result_selector={"endpointArn.$": "$.EndpointArn"},
        result_path="$.endpointUpdate",
        comment="Later deployments: blue/green, rolled back by SageMaker when an alarm fires.",
    )


def _deploy_serving_states(spec: DeploySpec) -> dict[str, dict[str, Any]]:
    """A model and an endpoint config from the version; then create the endpoint, or update it blue/green."""
    endpoint = {"EndpointName": spec.endpoint_name, "EndpointConfigName.$": "$.endpointConfig.endpointConfigName"}
    return {
        "CreateEndpointConfig": _task(
            spec,
            CREATE_ENDPOINT_CONFIG,
            {
                "EndpointConfigName.$": attempt_name(spec.prefix, "deploy"),
                "ProductionVariants": [
                    {
                        "VariantName": "primary",
                        "ModelName.$": "$.model.modelName",
                        "InstanceType": spec.instance_type,
                        "InitialInstanceCount": spec.instance_count,
                    }
                ],
                "Tags": _tags(spec),
            },
            next_state="FindEndpoint",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_RETRYABLE,
            result_selector={
                "endpointConfigArn.$": "$.EndpointConfigArn",
                "endpointConfigName.$": _NAME_FROM_ARN.format("$.EndpointConfigArn"),
            },
            result_path="$.endpointConfig",
            comment="Describe how the model is served.",
        ),
        # Create on the first deployment, update afterwards. ListEndpoints answers "does it exist" without
        # depending on the error a DescribeEndpoint of a missing endpoint raises.
        "FindEndpoint": _task(
            spec,
            LIST_ENDPOINTS,
            {"NameContains": spec.endpoint_name, "MaxResults": 100},
            next_state="EndpointExists",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_SDK_RETRYABLE,
            result_selector={"exists.$": f"States.ArrayContains($.Endpoints[*].EndpointName, '{spec.endpoint_name}')"},
            result_path="$.endpointLookup",
            comment="Is the pipeline's endpoint already there?",
        ),
        "EndpointExists": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.endpointLookup.exists", "BooleanEquals": True, "Next": "UpdateEndpoint"}],
            "Default": "CreateEndpoint",
        },
        "CreateEndpoint": _task(
            spec,
            CREATE_ENDPOINT,
            {**endpoint, "Tags": _tags(spec)},
            next_state="WaitForEndpoint",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_RETRYABLE,
            result_selector={"endpointArn.$": "$.EndpointArn"},
            result_path="$.endpointUpdate",
            comment="First deployment: create the endpoint.",
        ),
        "UpdateEndpoint": _update_endpoint(spec, endpoint),
    }


def _deploy_waiting_states(spec: DeploySpec) -> dict[str, dict[str, Any]]:
    """Poll the endpoint, a bounded number of times, until it serves the new config or cannot."""
    return {
        "WaitForEndpoint": {"Type": "Wait", "Seconds": ENDPOINT_POLL_SECONDS, "Next": "CheckEndpoint"},
        "CheckEndpoint": _task(
            spec,
            DESCRIBE_ENDPOINT,
            {"EndpointName": spec.endpoint_name},
            next_state="CountPoll",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_SDK_RETRYABLE,
            result_selector={"status.$": "$.EndpointStatus", "config.$": "$.EndpointConfigName"},
            result_path="$.endpoint",
            comment="Poll the endpoint: in service on the new config, rolled back, failed, or still working.",
        ),
        "CountPoll": {
            "Type": "Pass",
            "Parameters": {"packageArn.$": "$.run.packageArn", "polls.$": "States.MathAdd($.run.polls, 1)"},
            "ResultPath": "$.run",
            "Next": "EndpointReady",
        },
        "EndpointReady": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.endpoint.status", "StringEquals": "InService"},
                        {"Variable": "$.endpoint.config", "StringEqualsPath": "$.endpointConfig.endpointConfigName"},
                    ],
                    "Next": "NotifyDeployed",
                },
                {"Variable": "$.endpoint.status", "StringEquals": "InService", "Next": "RolledBack"},
                {
                    "Or": [
                        {"Variable": "$.endpoint.status", "StringEquals": status}
                        for status in ("Failed", "OutOfService", "Deleting", "UpdateRollbackFailed")
                    ],
                    "Next": "EndpointFailed",
                },
                {"Variable": "$.run.polls", "NumericGreaterThanEquals": max_polls(spec), "Next": "TimedOut"},
            ],
            "Default": "WaitForEndpoint",
        },
    }


def _deploy_outcome_states(spec: DeploySpec) -> dict[str, dict[str, Any]]:
    """Every end of a deployment: success notified here, the others by the pipeline's status-change rule."""
    return {
        "RolledBack": _error_state(
            ROLLED_BACK_ERROR,
            f"States.Format('endpoint {spec.endpoint_name} rolled back to {{}}: an alarm fired', $.endpoint.config)",
        ),
        "EndpointFailed": _error_state(
            ENDPOINT_FAILED_ERROR, f"States.Format('endpoint {spec.endpoint_name} is {{}}', $.endpoint.status)"
        ),
        "TimedOut": _error_state(
            TIMED_OUT_ERROR,
            f"States.Format('endpoint {spec.endpoint_name} still {{}} after {spec.max_wait} s', $.endpoint.status)",
        ),
        "NotifyDeployed": {
            "Type": "Task",
            "Comment": "Tell the team the approved version serves.",
            "Resource": task_resource(spec.partition, SNS_PUBLISH),
            "Parameters": {
                "TopicArn": spec.notification_topic_arn,
                "Subject": f"ML pipeline {spec.prefix} deployed",
                "Message.$": f"States.Format('{{}} serves on endpoint {spec.endpoint_name}', $.run.packageArn)",
            },
            "TimeoutSeconds": API_CALL_TIMEOUT_SECONDS,
            "ResultPath": None,
            "Retry": _retry(spec, SNS_RETRYABLE),
            # Served is served: a notification that cannot be sent does not fail the deployment.
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notificationError", "Next": "Deployed"}],
            "Next": "Deployed",
        },
        "Deployed": {"Type": "Succeed"},
        # The error names what happened (EndpointRolledBack...): the status-change rule's notification shows it.
        DEPLOYMENT_FAILED_STATE: {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    }


def build_deploy_definition(spec: DeploySpec) -> dict[str, Any]:
    """The deployment state machine: its input is EventBridge's "SageMaker Model Package State Change" event."""
    return {
        "Comment": f"Deploy approved versions of {spec.model_package_group} to endpoint {spec.endpoint_name}",
        "StartAt": "Initialize",
        "TimeoutSeconds": deploy_timeout(spec),
        "States": {
            **_deploy_approval_states(spec),
            **_deploy_serving_states(spec),
            **_deploy_waiting_states(spec),
            **_deploy_outcome_states(spec),
        },
    }


def _error_state(error: str, cause: str) -> dict[str, Any]:
    return {
        "Type": "Pass",
        "Parameters": {"Error": error, "Cause.$": cause},
        "ResultPath": "$.error",
        "Next": DEPLOYMENT_FAILED_STATE,
    }
