"""IAM documents as plain dicts: trust policies, role permissions, bucket and key policies.

Built only from names and the account/region/partition (see arns.py), so each is known at preview time.
"""

from __future__ import annotations

import json
from typing import Any

from components import arns
from components.arns import AwsContext, EnvironmentNames, PipelineNames

Document = dict[str, Any]


def document(*statements: dict[str, Any]) -> Document:
    """An IAM policy document of these statements (the 2012-10-17 policy language)."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


MANAGED_POLICY_CHARACTERS = 6144
"""IAM's cap on a customer managed policy, whitespace not counted ("IAM and AWS STS quotas",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). The program and bootstrap cannot read
the policy pack's data file (policies/data/aws_limits.json); a test holds the two equal."""
MANAGED_POLICIES_PER_ROLE = 10
"""IAM's default quota of managed policies attached to one role (raisable to 20), the same page."""


def characters(policy: Document) -> int:
    """A document's size as IAM measures it against its quotas: compact JSON (whitespace between tokens does not
    count; whitespace inside strings is counted here, which can only overstate it)."""
    return len(json.dumps(policy, separators=(",", ":")))


def chunks(policy: Document, limit: int = MANAGED_POLICY_CHARACTERS) -> list[Document]:
    """The document's statements, in order, split into as few documents of at most `limit` characters as that
    order allows (one managed policy each), as even in size as that number allows, so that each keeps headroom.
    A statement larger than `limit` on its own is a ValueError."""
    fewest = _packed(policy, limit)
    try:
        even = _packed(policy, min(limit, characters(policy) // len(fewest) + 400))
    except ValueError:  # a statement larger than the even share: the fewest it is
        return fewest
    return even if len(even) == len(fewest) else fewest


def _packed(policy: Document, limit: int) -> list[Document]:
    found: list[Document] = []
    for statement in policy["Statement"]:
        if found and characters(document(*found[-1]["Statement"], statement)) <= limit:
            found[-1]["Statement"].append(statement)
            continue
        if characters(document(statement)) > limit:
            raise ValueError(f"statement {statement.get('Sid', '')!r} alone is over {limit} characters")
        found.append(document(statement))
    return found


def service_trust_policy(ctx: AwsContext, service: str, source_arn: str | None = None) -> Document:
    """Lets one AWS service assume the role, for this account only (confused-deputy protection).

    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    """
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": ctx.account_id}}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return document(
        {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }
    )


# Step Functions' own confused-deputy guidance ("Create an IAM role for your state machine", "Cross-service confused
# deputy prevention": https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html) trusts
# `aws:SourceArn` `arn:...:stateMachine:*` with `aws:SourceAccount`. Which source ARN Step Functions presents when it
# checks the role at CreateStateMachine (with logging on) is not documented, so a condition pinned to the machine's own
# ARN could refuse the first deploy: the documented form is the one sure to work. Who may hand these roles to a state
# machine stays narrow (iam:PassRole, bootstrap's deploy role only, only to states.amazonaws.com).
_ANY_STATE_MACHINE = "*"


def state_machine_trust_policy(ctx: AwsContext, names: PipelineNames) -> Document:
    """https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html"""
    return service_trust_policy(ctx, "states.amazonaws.com", arns.state_machine_arn(ctx, _ANY_STATE_MACHINE))


def deploy_state_machine_trust_policy(ctx: AwsContext, names: PipelineNames) -> Document:
    """The deployment state machine's role: Step Functions of this account, as AWS documents it (above)."""
    return service_trust_policy(ctx, "states.amazonaws.com", arns.state_machine_arn(ctx, _ANY_STATE_MACHINE))


def approval_rule_trust_policy(ctx: AwsContext, names: PipelineNames) -> Document:
    """The role EventBridge uses to start a deployment, for the approval rule only: "For EventBridge event bus rule
    targets, the value of aws:SourceArn must be the rule ARN"
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
    """
    return service_trust_policy(ctx, "events.amazonaws.com", arns.events_rule_arn(ctx, names.approval_rule))


def approval_rule_policy(ctx: AwsContext, names: PipelineNames) -> Document:
    """EventBridge may start the deployment state machine, and nothing else."""
    return document(
        {
            "Sid": "StartDeployment",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": arns.state_machine_arn(ctx, names.deploy_state_machine),
        }
    )


def sagemaker_trust_policy(ctx: AwsContext) -> Document:
    """https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-pass-role"""
    return service_trust_policy(ctx, "sagemaker.amazonaws.com")


def lambda_trust_policy() -> Document:
    """https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"""
    return document(
        {
            "Sid": "TrustLambda",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )


SCHEDULE_GROUP = "default"
"""The group the retraining schedules are in (a schedule names none)."""


def scheduler_trust_policy(ctx: AwsContext) -> Document:
    """EventBridge Scheduler presents its schedule group's ARN as aws:SourceArn: "The value of aws:SourceArn must
    be your EventBridge Scheduler schedule group ARN ... Do not scope the aws:SourceArn statement to a specific
    schedule" (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
    """
    return service_trust_policy(
        ctx, "scheduler.amazonaws.com", ctx.arn("scheduler", f"schedule-group/{SCHEDULE_GROUP}")
    )


SAGEMAKER_READ_PREFIXES = ("code/", "data/raw/", "runs/")
"""Under the pipeline's prefix: what its jobs and models read (see sagemaker_execution_policy)."""


def sagemaker_execution_policy(
    ctx: AwsContext, names: PipelineNames, bucket: str, images: list[tuple[str, str, str]], *, deploy: bool
) -> Document:
    """What the processing, training and hosting containers may do: read the pipeline's code, data and runs and
    write its runs, pull its images, write its own log streams and metrics.

    https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html (CreateProcessingJob,
    CreateTrainingJob and CreateModel API: Execution Role Permissions)
    """
    repositories = sorted({arns.ecr_repository_arn(ctx, *image) for image in images})
    return document(
        *_pipeline_storage(ctx, names, bucket),
        {
            "Sid": "PullImages",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            "Resource": repositories,
        },
        {
            # Accepts only "*" (Service Authorization Reference, Amazon ECR).
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        *_own_logs(ctx, names, deploy=deploy),
        {
            # Accepts only "*"; the namespace condition keeps it to SageMaker's own metrics.
            "Sid": "JobMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        },
        *_rollback_alarms(ctx, names, deploy=deploy),
    )


def _pipeline_storage(ctx: AwsContext, names: PipelineNames, bucket: str) -> list[dict[str, Any]]:
    """What the jobs and models read: the workload's code (code/), the raw data (data/raw/) and each run's own
    files (runs/: splits, model, evaluation). They write only under runs/."""
    bucket_arn = arns.s3_bucket_arn(ctx, bucket)
    read = [f"{names.s3_prefix}{part}" for part in SAGEMAKER_READ_PREFIXES]
    return [
        {
            "Sid": "ReadCodeDataAndRuns",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{bucket_arn}/{prefix}*" for prefix in read],
        },
        {
            "Sid": "WriteRuns",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{names.s3_prefix}runs/*",
        },
        {
            # S3Prefix inputs list their prefix before downloading it.
            "Sid": "ListCodeDataAndRuns",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in read]}},
        },
    ]


def _own_logs(ctx: AwsContext, names: PipelineNames, *, deploy: bool) -> list[dict[str, Any]]:
    """The jobs' (and the endpoint's) log groups and their own streams."""
    log_streams = [
        arns.log_group_arn(ctx, f"/aws/sagemaker/{group}") + f":log-stream:{names.prefix}-*"
        for group in ("ProcessingJobs", "TrainingJobs")
    ]
    groups = [arns.log_group_arn(ctx, f"/aws/sagemaker/{group}") for group in ("ProcessingJobs", "TrainingJobs")]
    if deploy:
        endpoint_group = arns.log_group_arn(ctx, f"/aws/sagemaker/Endpoints/{names.endpoint}")
        groups.append(endpoint_group)
        log_streams.append(f"{endpoint_group}:log-stream:*")
    # Each group also as `<group>:*`, the form CloudWatch Logs checks CreateLogGroup and DescribeLogStreams
    # against ("Identity-based policies for CloudWatch Logs": use the trailing `:*`), so that a fresh account's
    # first job can create /aws/sagemaker/ProcessingJobs and its logs are there to read.
    return [
        {
            "Sid": "OwnLogGroups",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:DescribeLogStreams"],
            "Resource": [form for group in groups for form in (group, f"{group}:*")],
        },
        {
            "Sid": "OwnLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_streams,
        },
    ]


def _rollback_alarms(ctx: AwsContext, names: PipelineNames, *, deploy: bool) -> list[dict[str, Any]]:
    """A blue/green update's auto-rollback reads its alarms as the model's execution role: "Ensure that your IAM
    execution role has permission to perform the cloudwatch:DescribeAlarms action on the auto-rollback alarms"
    (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html). The models the
    deployment machine creates run as this role (CreateModel's ExecutionRoleArn)."""
    if not deploy:
        return []
    return [
        {
            "Sid": "RollbackAlarms",
            "Effect": "Allow",
            "Action": "cloudwatch:DescribeAlarms",
            "Resource": [ctx.arn("cloudwatch", f"alarm:{alarm}") for alarm in names.endpoint_alarms],
        }
    ]


def evaluate_function_policy(ctx: AwsContext, names: PipelineNames, bucket: str, *, tracing: bool) -> Document:
    """The evaluation Lambda reads the evaluation reports of its pipeline's runs and writes its own logs.

    https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadReports",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{arns.s3_bucket_arn(ctx, bucket)}/{names.s3_prefix}runs/*/evaluation/evaluation.json",
        },
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": arns.log_group_arn(ctx, names.evaluate_log_group) + ":log-stream:*",
        },
    ]
    if tracing:
        # https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html (only "*" is accepted)
        statements.append(
            {
                "Sid": "XRay",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            }
        )
    return document(*statements)


def scheduler_policy(ctx: AwsContext, names: PipelineNames) -> Document:
    """https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html"""
    return document(
        {
            "Sid": "StartRetraining",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": arns.state_machine_arn(ctx, names.state_machine),
        }
    )


def tls_only_bucket_policy(ctx: AwsContext, bucket: str) -> Document:
    """https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit"""
    bucket_arn = arns.s3_bucket_arn(ctx, bucket)
    return document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


DATA_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
SNS_TOPIC_CONTEXT = "kms:EncryptionContext:aws:sns:topicArn"
"""The encryption context SNS sets on its KMS calls for an encrypted topic: the topic's ARN."""
"""What publishing to a topic encrypted with a customer managed key takes of the key (SNS developer guide,
"Data encryption", key management: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""


def account_key_policy(ctx: AwsContext) -> Document:
    """A key the account administers through IAM: who may use it is up to IAM policies (KMS developer guide,
    "Default key policy")."""
    return document(
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": ctx.arn("iam", "root", region=False)},
            "Action": "kms:*",
            "Resource": "*",
        }
    )


def notification_key_policy(ctx: AwsContext) -> Document:
    """An environment's notifications key (bootstrap/ creates it): the account administers it through IAM, so
    the pipelines' roles use it by the grant `notification_key_use` puts in their own policies; CloudWatch
    alarms of this account may encrypt with it (an AWS-managed SNS key cannot be used by CloudWatch alarms).

    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
    """
    document = account_key_policy(ctx)
    document["Statement"].append(
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": DATA_KEY_ACTIONS,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        }
    )
    document["Statement"].append(
        {
            # The pipelines' status-change rules publish to their topics (same page: EventBridge's principal).
            # No aws:SourceAccount or aws:SourceArn here: the KMS request SNS makes for an EventBridge delivery
            # does not carry them (AWS's own accelerator, aws.github.io/modern-data-architecture-accelerator,
            # grantCloudWatchAlarmsTopicAccess, citing AWS's documentation), so a condition on them would drop
            # every notification. The encryption context SNS itself sets, the topic's ARN, keeps the key to
            # this account's topics; which rule may publish is held by the topic's policy (failure_topic_policy).
            "Sid": "EventBridgeRulesPublish",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": DATA_KEY_ACTIONS,
            "Resource": "*",
            "Condition": {"StringLike": {SNS_TOPIC_CONTEXT: ctx.arn("sns", "*")}},
        }
    )
    return document


def failure_topic_policy(ctx: AwsContext, names: PipelineNames, *, deploys: bool) -> Document:
    """Who may publish to a pipeline's failure topic besides its own roles (whose policies grant it): its
    status-change rule, and its own alarms. This policy replaces SNS's default topic policy.

    - EventBridge: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
      (`events.amazonaws.com`, `sns:Publish`; the rule is `aws:SourceArn`).
    - CloudWatch alarms: AWS re:Post, "Why didn't I receive an SNS notification for my CloudWatch alarm trigger?"
      (`cloudwatch.amazonaws.com`, `sns:Publish`, the alarms as `aws:SourceArn`).
    """
    topic = arns.sns_topic_arn(ctx, names.failure_topic)
    alarms = [names.failed_executions_alarm, *(names.endpoint_alarms if deploys else ())]
    return document(
        {
            "Sid": "UnsuccessfulExecutionsRule",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {
                "ArnEquals": {"aws:SourceArn": arns.events_rule_arn(ctx, names.failure_rule)},
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
            },
        },
        {
            "Sid": "PipelineAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {
                "ArnEquals": {"aws:SourceArn": [ctx.arn("cloudwatch", f"alarm:{alarm}") for alarm in alarms]},
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
            },
        },
    )


def notification_key_use(ctx: AwsContext, environment: EnvironmentNames) -> Document:
    """The state machine publishes to its encrypted failure topic: the data-key actions on the environment's
    notifications key, which the program knows by its tag (its ARN is made by bootstrap)."""
    tag, value = environment.notifications_key_tag
    return document(
        {
            "Sid": "EncryptFailureNotifications",
            "Effect": "Allow",
            "Action": DATA_KEY_ACTIONS,
            "Resource": ctx.arn("kms", "key/*"),
            "Condition": {"StringEquals": {f"aws:ResourceTag/{tag}": value}},
        }
    )
