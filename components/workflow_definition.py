"""The Amazon States Language definition of one ML training pipeline, as a plain dict.

preprocess (processing job, .sync) -> train (training job, .sync) -> evaluate (Lambda) -> quality gate
(Choice) -> register (CreateModel) -> [deploy: endpoint config -> create or update endpoint -> wait until
InService] -> success. Every Task has Retry, a Catch to the failure path (publish to SNS, then fail with
the named error `PipelineFailed`) and a timeout.

Job names are `<prefix>-<step>-<run id>`, the run id being the MD5 of the execution ARN: unique per
execution, at most 63 characters, and starting with the pipeline's prefix so that IAM can scope to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Task resources (Step Functions developer guide, "Create and manage Amazon SageMaker AI jobs with Step
# Functions" and "Call other AWS services"). `arn:<partition>:states:::<service>:<api>[.sync]`.
PROCESSING_JOB_SYNC = "sagemaker:createProcessingJob.sync"
TRAINING_JOB_SYNC = "sagemaker:createTrainingJob.sync"
CREATE_MODEL = "sagemaker:createModel"
CREATE_ENDPOINT_CONFIG = "sagemaker:createEndpointConfig"
CREATE_ENDPOINT = "sagemaker:createEndpoint"
UPDATE_ENDPOINT = "sagemaker:updateEndpoint"
LIST_ENDPOINTS = "aws-sdk:sagemaker:listEndpoints"
DESCRIBE_ENDPOINT = "aws-sdk:sagemaker:describeEndpoint"
LAMBDA_INVOKE = "lambda:invoke"
SNS_PUBLISH = "sns:publish"

STEP_TAGS = {"preprocess": "prep", "train": "train", "model": "model", "deploy": "deploy"}
RUN_ID = "$.run.id"
FAILED_ERROR = "PipelineFailed"
REJECTED_ERROR = "ModelBelowThreshold"
ENDPOINT_FAILED_ERROR = "EndpointDeploymentFailed"

# Error names Step Functions raises for these integrations. Optimised SageMaker tasks raise
# `SageMaker.AmazonSageMakerException` for service errors and throttling; AWS SDK integrations raise
# `<Service>.<Exception>` (an unmodelled error such as throttling becomes `SageMaker.SageMakerException`).
SAGEMAKER_RETRYABLE = ["SageMaker.AmazonSageMakerException", "SageMaker.ResourceLimitExceededException"]
SAGEMAKER_SDK_RETRYABLE = ["SageMaker.SageMakerException", "SageMaker.ThrottlingException"]
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
ENDPOINT_DEPLOY_SECONDS = 3600


@dataclass(frozen=True)
class WorkflowSpec:
    """What the definition needs: names and ARNs (all known before deployment) and the step settings."""

    partition: str
    prefix: str
    bucket: str
    sagemaker_role_arn: str
    evaluate_function_arn: str
    failure_topic_arn: str
    processing_image: str
    processing_entrypoint: tuple[str, ...]
    processing_instance_type: str
    processing_instance_count: int
    processing_volume_gb: int
    processing_max_runtime: int
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
    deploy: bool
    endpoint_name: str
    endpoint_instance_type: str
    endpoint_instance_count: int
    tags: tuple[tuple[str, str], ...]


def task_resource(partition: str, integration: str) -> str:
    return f"arn:{partition}:states:::{integration}"


def _job_name(spec: WorkflowSpec, step: str) -> str:
    # Only [a-z0-9-] in the prefix, so it needs no escaping inside States.Format's template.
    return f"States.Format('{spec.prefix}-{STEP_TAGS[step]}-{{}}', {RUN_ID})"


def _run_uri(spec: WorkflowSpec, suffix: str, *args: str) -> str:
    template = f"s3://{spec.bucket}/pipelines/{spec.prefix}/runs/{{}}/{suffix}"
    return f"States.Format('{template}', {', '.join((RUN_ID, *args))})"


def _retry(spec: WorkflowSpec, errors: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "ErrorEquals": errors,
            "IntervalSeconds": spec.retry_interval,
            "MaxAttempts": spec.retry_max_attempts,
            "BackoffRate": spec.retry_backoff,
        }
    ]


def _to_failure() -> list[dict[str, Any]]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]


def _tags(spec: WorkflowSpec) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in spec.tags]


def _task(
    spec: WorkflowSpec,
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
    state["Catch"] = _to_failure()
    state["Next"] = next_state
    return state


def _preprocess(spec: WorkflowSpec) -> dict[str, Any]:
    outputs = [
        {
            "OutputName": channel,
            "S3Output": {
                "S3Uri.$": _run_uri(spec, f"processed/{channel}"),
                "LocalPath": f"/opt/ml/processing/output/{channel}",
                "S3UploadMode": "EndOfJob",
            },
        }
        for channel in ("train", "validation")
    ]
    return _task(
        spec,
        PROCESSING_JOB_SYNC,
        {
            "ProcessingJobName.$": _job_name(spec, "preprocess"),
            "RoleArn": spec.sagemaker_role_arn,
            "AppSpecification": {
                "ImageUri": spec.processing_image,
                "ContainerEntrypoint": list(spec.processing_entrypoint),
            },
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": spec.processing_instance_count,
                    "InstanceType": spec.processing_instance_type,
                    "VolumeSizeInGB": spec.processing_volume_gb,
                }
            },
            "ProcessingInputs": [
                {
                    "InputName": "raw",
                    "S3Input": {
                        "S3Uri": f"s3://{spec.bucket}/pipelines/{spec.prefix}/data/raw/",
                        "LocalPath": "/opt/ml/processing/input",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {"Outputs": outputs},
            "StoppingCondition": {"MaxRuntimeInSeconds": spec.processing_max_runtime},
            "Tags": _tags(spec),
        },
        next_state="Train",
        timeout=spec.processing_max_runtime + JOB_OVERHEAD_SECONDS,
        retry_on=SAGEMAKER_RETRYABLE,
        result_selector={"jobName.$": "$.ProcessingJobName", "jobArn.$": "$.ProcessingJobArn"},
        result_path="$.preprocess",
        comment="Split and featurise the raw data (SageMaker processing job).",
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
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": {"S3OutputPath.$": _run_uri(spec, "model")},
        "ResourceConfig": {
            "InstanceType": spec.training_instance_type,
            "InstanceCount": spec.training_instance_count,
            "VolumeSizeInGB": spec.training_volume_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.training_max_runtime},
        "Tags": _tags(spec),
    }
    if spec.hyperparameters:
        parameters["HyperParameters"] = dict(spec.hyperparameters)
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
        comment="Train the model (SageMaker training job); it writes evaluation.json to its output data.",
    )


def _evaluate(spec: WorkflowSpec) -> dict[str, Any]:
    return _task(
        spec,
        LAMBDA_INVOKE,
        {
            "FunctionName": spec.evaluate_function_arn,
            "Payload": {
                # SageMaker packs /opt/ml/output/data into <S3OutputPath>/<job>/output/output.tar.gz.
                "reportUri.$": _run_uri(spec, "model/{}/output/output.tar.gz", "$.training.jobName"),
                "metric": spec.metric,
            },
        },
        next_state="QualityGate",
        timeout=EVALUATE_TIMEOUT_SECONDS,
        retry_on=LAMBDA_RETRYABLE,
        result_selector={"metric.$": "$.Payload.metric", "value.$": "$.Payload.value"},
        result_path="$.evaluation",
        comment="Read the metric from the training job's evaluation report.",
    )


def _register(spec: WorkflowSpec) -> dict[str, Any]:
    return _task(
        spec,
        CREATE_MODEL,
        {
            "ModelName.$": _job_name(spec, "model"),
            "ExecutionRoleArn": spec.sagemaker_role_arn,
            "PrimaryContainer": {"Image": spec.training_image, "ModelDataUrl.$": "$.training.modelArtifacts"},
            "Tags": _tags(spec),
        },
        next_state="CreateEndpointConfig" if spec.deploy else "PipelineSucceeded",
        timeout=API_CALL_TIMEOUT_SECONDS,
        retry_on=SAGEMAKER_RETRYABLE,
        result_selector={"modelArn.$": "$.ModelArn"},
        result_path="$.model",
        comment="Register the trained model (SageMaker CreateModel).",
    )


def _deploy_states(spec: WorkflowSpec) -> dict[str, dict[str, Any]]:
    endpoint_config = _job_name(spec, "deploy")
    endpoint_parameters = {"EndpointName": spec.endpoint_name, "EndpointConfigName.$": endpoint_config}
    return {
        "CreateEndpointConfig": _task(
            spec,
            CREATE_ENDPOINT_CONFIG,
            {
                "EndpointConfigName.$": endpoint_config,
                "ProductionVariants": [
                    {
                        "VariantName": "primary",
                        "ModelName.$": _job_name(spec, "model"),
                        "InstanceType": spec.endpoint_instance_type,
                        "InitialInstanceCount": spec.endpoint_instance_count,
                    }
                ],
                "Tags": _tags(spec),
            },
            next_state="FindEndpoint",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_RETRYABLE,
            result_selector={"endpointConfigArn.$": "$.EndpointConfigArn"},
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
            {**endpoint_parameters, "Tags": _tags(spec)},
            next_state="WaitForEndpoint",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_RETRYABLE,
            result_selector={"endpointArn.$": "$.EndpointArn"},
            result_path="$.endpointUpdate",
            comment="First deployment: create the endpoint.",
        ),
        "UpdateEndpoint": _task(
            spec,
            UPDATE_ENDPOINT,
            endpoint_parameters,
            next_state="WaitForEndpoint",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_RETRYABLE,
            result_selector={"endpointArn.$": "$.EndpointArn"},
            result_path="$.endpointUpdate",
            comment="Later deployments: switch the endpoint to the new config (blue/green by SageMaker).",
        ),
        "WaitForEndpoint": {"Type": "Wait", "Seconds": ENDPOINT_POLL_SECONDS, "Next": "CheckEndpoint"},
        "CheckEndpoint": _task(
            spec,
            DESCRIBE_ENDPOINT,
            {"EndpointName": spec.endpoint_name},
            next_state="EndpointReady",
            timeout=API_CALL_TIMEOUT_SECONDS,
            retry_on=SAGEMAKER_SDK_RETRYABLE,
            result_selector={"status.$": "$.EndpointStatus"},
            result_path="$.endpoint",
            comment="Poll the endpoint until it is in service (the execution timeout bounds the loop).",
        ),
        "EndpointReady": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.endpoint.status", "StringEquals": "InService", "Next": "PipelineSucceeded"},
                {
                    "Or": [
                        {"Variable": "$.endpoint.status", "StringEquals": status}
                        for status in ("Failed", "OutOfService", "RollingBack", "Deleting")
                    ],
                    "Next": "EndpointFailed",
                },
            ],
            "Default": "WaitForEndpoint",
        },
        "EndpointFailed": {
            "Type": "Pass",
            "Parameters": {
                "Error": ENDPOINT_FAILED_ERROR,
                "Cause.$": f"States.Format('endpoint {spec.endpoint_name} is {{}}', $.endpoint.status)",
            },
            "ResultPath": "$.error",
            "Next": "NotifyFailure",
        },
    }


def execution_timeout(spec: WorkflowSpec) -> int:
    """Bounds the whole execution, the endpoint polling loop included."""
    total = spec.processing_max_runtime + spec.training_max_runtime + 2 * JOB_OVERHEAD_SECONDS
    total += EVALUATE_TIMEOUT_SECONDS + API_CALL_TIMEOUT_SECONDS
    if spec.deploy:
        total += ENDPOINT_DEPLOY_SECONDS
    return total


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
        "Evaluate": _evaluate(spec),
        "QualityGate": {
            "Type": "Choice",
            "Comment": f"Register only a model whose {spec.metric} is {bound} {spec.threshold}.",
            "Choices": [{"Variable": "$.evaluation.value", comparison: spec.threshold, "Next": "RegisterModel"}],
            "Default": "ModelRejected",
        },
        "ModelRejected": {
            "Type": "Fail",
            "Error": REJECTED_ERROR,
            "Cause": f"{spec.metric} did not reach the quality gate ({bound} {spec.threshold}); nothing registered",
        },
        "RegisterModel": _register(spec),
    }
    if spec.deploy:
        states.update(_deploy_states(spec))
    states["PipelineSucceeded"] = {"Type": "Succeed"}
    states["NotifyFailure"] = {
        "Type": "Task",
        "Comment": "Tell the on-call, then fail the execution.",
        "Resource": task_resource(spec.partition, SNS_PUBLISH),
        "Parameters": {
            "TopicArn": spec.failure_topic_arn,
            "Subject": f"ML pipeline {spec.prefix} failed",
            "Message.$": "States.Format('Execution {} failed: {}: {}', $$.Execution.Id, $.error.Error, $.error.Cause)",
        },
        "TimeoutSeconds": API_CALL_TIMEOUT_SECONDS,
        "ResultPath": None,
        "Retry": _retry(spec, SNS_RETRYABLE),
        # The execution fails with the named error even when the notification cannot be sent.
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notificationError", "Next": "PipelineFailed"}],
        "Next": "PipelineFailed",
    }
    states["PipelineFailed"] = {"Type": "Fail", "Error": FAILED_ERROR, "CausePath": "$.error.Cause"}
    return {
        "Comment": f"ML training pipeline {spec.prefix}: preprocess, train, evaluate, gate, register"
        + (", deploy" if spec.deploy else ""),
        "StartAt": "Initialize",
        "TimeoutSeconds": execution_timeout(spec),
        "States": states,
    }
