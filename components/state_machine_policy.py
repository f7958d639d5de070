"""The Step Functions role's permissions, derived from the tasks a definition actually contains.

Each task kind contributes exactly the permissions AWS documents for its integration, scoped to the
pipeline's ARNs; adding a step to the workflow adds its permissions and removing one removes them.
Sources (Step Functions developer guide, "IAM policies for integrated services"):
- SageMaker: https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html
- Lambda: https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html
- SNS: https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html
- AWS SDK integrations take the API's own action (e.g. `sagemaker:DescribeEndpoint`).
- Logging: https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html (only `*` is accepted)
- X-Ray: https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html (only `*` is accepted)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from components import arns
from components.arns import AwsContext

_TASK_RESOURCE = re.compile(
    r"^arn:[a-z-]+:states:::(?P<integration>[A-Za-z0-9:-]+?)(?P<pattern>\.sync|\.waitForTaskToken)?$"
)

# (actions, SageMaker resource type, name parameter, EventBridge rule for .sync) per SageMaker integration.
_SAGEMAKER: dict[str, tuple[tuple[str, ...], str, str, str | None]] = {
    "sagemaker:createProcessingJob": (
        ("sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"),
        "processing-job",
        "ProcessingJobName",
        "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
    ),
    "sagemaker:createTrainingJob": (
        ("sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"),
        "training-job",
        "TrainingJobName",
        "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
    ),
    "sagemaker:createTransformJob": (
        ("sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"),
        "transform-job",
        "TransformJobName",
        "StepFunctionsGetEventsForSageMakerTransformJobsRule",
    ),
    "sagemaker:createModel": (("sagemaker:CreateModel",), "model", "ModelName", None),
    "sagemaker:createEndpointConfig": (
        ("sagemaker:CreateEndpointConfig",),
        "endpoint-config",
        "EndpointConfigName",
        None,
    ),
    "sagemaker:createEndpoint": (("sagemaker:CreateEndpoint",), "endpoint", "EndpointName", None),
    "sagemaker:updateEndpoint": (("sagemaker:UpdateEndpoint",), "endpoint", "EndpointName", None),
    "aws-sdk:sagemaker:describeEndpoint": (("sagemaker:DescribeEndpoint",), "endpoint", "EndpointName", None),
    # Model Registry: a version's ARN is `model-package/<group>/<version>` (the group is named as the prefix).
    "aws-sdk:sagemaker:createModelPackage": (
        ("sagemaker:CreateModelPackage",),
        "model-package",
        "ModelPackageGroupName",
        None,
    ),
    "aws-sdk:sagemaker:describeModelPackage": (
        ("sagemaker:DescribeModelPackage",),
        "model-package",
        "ModelPackageName",
        None,
    ),
}
# AWS SDK list calls whose action accepts only `Resource: "*"` (Service Authorization Reference).
_LIST_ONLY = {"aws-sdk:sagemaker:listEndpoints": "sagemaker:ListEndpoints"}
_SYNC_EVENTS_ACTIONS = ("events:PutTargets", "events:PutRule", "events:DescribeRule")
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
XRAY_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)


class UnscopableTaskError(ValueError):
    """A task whose permissions cannot be derived or scoped; the message says which and why."""


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, Any] | None = None


def _task_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Task states, including those nested in Parallel branches and Map iterators."""
    for name, state in definition.get("States", {}).items():
        if state.get("Type") == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from _task_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _task_states(state[key])


def _sagemaker_resource(ctx: AwsContext, prefix: str, state: str, kind: str, params: dict[str, Any], key: str) -> str:
    if kind == "model-package":
        # Versions of the pipeline's own group only, whether named by the group or by a version's ARN.
        group = params.get(key) if key == "ModelPackageGroupName" else prefix
        if group != prefix:
            raise UnscopableTaskError(f"state {state}: {key} {group!r} is not the pipeline's group {prefix!r}")
        return arns.sagemaker_arn(ctx, kind, f"{prefix}/*")
    literal = params.get(key)
    if isinstance(literal, str):
        if not literal.lower().startswith(prefix):
            raise UnscopableTaskError(f"state {state}: {key} {literal!r} does not start with prefix {prefix!r}")
        return arns.sagemaker_arn(ctx, kind, literal)
    if f"{key}.$" in params:
        # Names computed at run time are built as `<prefix>-<step>-<run id>` (workflow_definition).
        return arns.sagemaker_arn(ctx, kind, f"{prefix}-*")
    raise UnscopableTaskError(f"state {state}: {key} is missing, so its permissions cannot be scoped")


def _literal(state_name: str, params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str):
        raise UnscopableTaskError(f"state {state_name}: {key} must be a literal ARN so that IAM can be scoped to it")
    return value


def grants_for_task(ctx: AwsContext, prefix: str, name: str, state: dict[str, Any]) -> list[Grant]:
    """The permissions one Task state needs."""
    match = _TASK_RESOURCE.match(str(state.get("Resource", "")))
    if match is None:
        raise UnscopableTaskError(f"state {name}: Resource {state.get('Resource')!r} is not a service integration")
    integration, pattern = match["integration"], match["pattern"]
    params: dict[str, Any] = state.get("Parameters", {})
    grants: list[Grant] = []
    if integration in _SAGEMAKER:
        actions, kind, key, rule = _SAGEMAKER[integration]
        resource = _sagemaker_resource(ctx, prefix, name, kind, params, key)
        resources = [resource]
        if kind == "endpoint" and ("EndpointConfigName" in params or "EndpointConfigName.$" in params):
            resources.append(arns.sagemaker_arn(ctx, "endpoint-config", f"{prefix}-*"))
        if integration.startswith("sagemaker:"):
            actions = (*actions, "sagemaker:ListTags")
        if "Tags" in params:
            actions = (*actions, "sagemaker:AddTags")
        condition = None
        if integration == "aws-sdk:sagemaker:createModelPackage" and isinstance(params.get("ModelApprovalStatus"), str):
            # A version starts with the stack's status, no other: the role cannot register one Approved itself.
            condition = {"StringEquals": {"sagemaker:ModelApprovalStatus": params["ModelApprovalStatus"]}}
        grants.append(Grant(tuple(actions), tuple(resources), condition))
        alarms = params.get("DeploymentConfig", {}).get("AutoRollbackConfiguration", {}).get("Alarms", [])
        if alarms:
            # SageMaker reads the rollback alarms with the caller's permissions (auto-rollback configuration).
            names = [a.get("AlarmName") for a in alarms]
            if not all(isinstance(n, str) and n.startswith(prefix) for n in names):
                raise UnscopableTaskError(f"state {name}: rollback alarms must be literal names with prefix {prefix!r}")
            grants.append(
                Grant(("cloudwatch:DescribeAlarms",), tuple(ctx.arn("cloudwatch", f"alarm:{n}") for n in names))
            )
        if pattern == ".sync":
            if rule is None:
                raise UnscopableTaskError(f"state {name}: {integration} has no .sync integration")
            grants.append(Grant(_SYNC_EVENTS_ACTIONS, (arns.events_rule_arn(ctx, rule),)))
        for role_key in ("RoleArn", "ExecutionRoleArn"):
            if role_key in params or f"{role_key}.$" in params:
                grants.append(
                    Grant(
                        ("iam:PassRole",),
                        (_literal(name, params, role_key),),
                        {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                    )
                )
    elif integration in _LIST_ONLY:
        grants.append(Grant((_LIST_ONLY[integration],), ("*",)))
    elif integration == "lambda:invoke":
        function = _literal(name, params, "FunctionName")
        grants.append(Grant(("lambda:InvokeFunction",), (function, f"{function}:*")))
    elif integration == "sns:publish":
        grants.append(Grant(("sns:Publish",), (_literal(name, params, "TopicArn"),)))
    else:
        raise UnscopableTaskError(
            f"state {name}: no IAM mapping for {integration}{pattern or ''}; add it to state_machine_policy"
        )
    return grants


def _sid(grant: Grant, taken: set[str]) -> str:
    """Named after the grant's first action (`CreateTrainingJob`, `PassRole`), unique in the document."""
    base = re.sub(r"[^A-Za-z0-9]", "", grant.actions[0].split(":")[1])
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}{n}", n + 1
    taken.add(sid)
    return sid


def state_machine_policy(
    ctx: AwsContext, prefix: str, definition: dict[str, Any], *, logging: bool, tracing: bool
) -> dict[str, Any]:
    """The role's one inline policy document: the union of the definition's task grants, merged."""
    merged: dict[tuple[tuple[str, ...], str], Grant] = {}
    order: list[tuple[tuple[str, ...], str]] = []
    for name, state in _task_states(definition):
        for grant in grants_for_task(ctx, prefix, name, state):
            key = (grant.actions, repr(grant.condition))
            if key in merged:
                resources = merged[key].resources + tuple(r for r in grant.resources if r not in merged[key].resources)
                merged[key] = Grant(grant.actions, resources, grant.condition)
            else:
                merged[key] = grant
                order.append(key)
    statements: list[dict[str, Any]] = []
    taken: set[str] = set()
    for key in order:
        grant = merged[key]
        statement: dict[str, Any] = {
            "Sid": _sid(grant, taken),
            "Effect": "Allow",
            "Action": list(grant.actions),
            "Resource": list(grant.resources),
        }
        if grant.condition:
            statement["Condition"] = grant.condition
        statements.append(statement)
    if logging:
        statements.append(
            {"Sid": "LogDelivery", "Effect": "Allow", "Action": list(LOG_DELIVERY_ACTIONS), "Resource": "*"}
        )
    if tracing:
        statements.append({"Sid": "XRay", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
