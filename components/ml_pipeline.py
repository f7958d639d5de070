"""One ML training pipeline: its state machine, roles, evaluation Lambda, notifications and schedule."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import arns, iam_documents
from components.arns import AwsContext, EnvironmentNames, PipelineNames
from components.settings import (
    WORKLOADS_DIR,
    PipelineSettings,
    ProcessingSettings,
    StackSettings,
    image_repository,
)
from components.state_machine_policy import state_machine_policy
from components.workflow_definition import (
    CODE_DIR,
    DeploySpec,
    ProcessingStep,
    WorkflowSpec,
    build_definition,
    build_deploy_definition,
    script_arguments,
)
from components.workload import CodeLocation, WorkloadCode, read_workload

# Relative to the project directory, where the Pulumi CLI runs the program.
EVALUATE_FUNCTION_SOURCE = "functions/evaluate_model/handler.py"
EVALUATE_RUNTIME = "python3.12"


@dataclass(frozen=True)
class MlPipelineArgs:
    settings: PipelineSettings
    """The pipeline's validated settings from the stack file."""
    names: PipelineNames
    """Deterministic names of the pipeline's resources (`<pipeline>-<stack>` prefix)."""
    environment: EnvironmentNames
    """What bootstrap/ made for the stack's environment: the roles' permissions boundary, the notifications key."""
    context: AwsContext
    """Partition, region and account every ARN is built from."""
    bucket_name: str
    """The stack's artifacts bucket; the pipeline owns the `pipelines/<prefix>/` keys in it."""
    tags: dict[str, str]
    """Put on the jobs, models and endpoints the state machine creates (the provider tags the rest)."""
    log_level: str
    """Step Functions execution log level: ALL, ERROR, FATAL or OFF."""
    log_retention_days: int
    """Retention of the pipeline's log groups."""
    tracing: bool
    """X-Ray tracing on the state machine and the Lambda."""
    alarm_emails: list[str]
    """Subscribed to the failure topic."""
    workload: WorkloadCode
    """The workload folder's files, uploaded under the pipeline's `code/` prefix."""

    @property
    def code(self) -> CodeLocation:
        """Where the workload's code lives in the artifacts bucket, its digest in every key."""
        return CodeLocation(self.bucket_name, self.names.s3_prefix, self.workload.digest)


def pipelines_of(
    project: str, stack: str, settings: StackSettings, ctx: AwsContext, project_dir: Path | None = None
) -> list[MlPipelineArgs]:
    """Each pipeline of the stack, as the program builds it (and bootstrap/ reads it, for the deploy role and
    the permissions boundary of the stack's environment). Workload folders are read from `project_dir`
    (the program's own folder, where the Pulumi CLI runs it, by default)."""
    folder = (project_dir if project_dir is not None else Path.cwd()) / WORKLOADS_DIR
    return [
        MlPipelineArgs(
            settings=pipeline,
            names=PipelineNames.of(pipeline.name, stack),
            environment=EnvironmentNames(project, stack),
            context=ctx,
            bucket_name=arns.artifacts_bucket_name(project, stack, ctx),
            tags=settings.tags,
            log_level=settings.log_level,
            log_retention_days=settings.log_retention_days,
            tracing=settings.tracing,
            alarm_emails=settings.alarm_emails,
            workload=read_workload(folder / pipeline.workload),
        )
        for pipeline in settings.pipelines
    ]


def processing_step(settings: ProcessingSettings, script: str) -> ProcessingStep:
    """A processing job running a workload script delivered to CODE_DIR, as the SDK's script processors run
    theirs (`python3 <code dir>/<script>`, told its paths); a container of your own with its own entrypoint
    runs that, with no arguments from the program."""
    return ProcessingStep(
        image=settings.resolved_image(),
        entrypoint=tuple(settings.entrypoint or ("python3", f"{CODE_DIR}/{script}")),
        arguments=() if settings.entrypoint else script_arguments(script),
        instance_type=settings.instance_type,
        instance_count=settings.instance_count,
        volume_gb=settings.volume_size_gb,
        max_runtime=settings.max_runtime_seconds,
    )


def workflow_spec(args: MlPipelineArgs) -> WorkflowSpec:
    """The definition's inputs, from the settings and the deterministic names."""
    s, n, ctx = args.settings, args.names, args.context
    evaluation = s.evaluation
    assert evaluation is not None, "parse_settings fills in the evaluation step"
    return WorkflowSpec(
        partition=ctx.partition,
        region=ctx.region,
        prefix=n.prefix,
        bucket=args.bucket_name,
        sagemaker_role_arn=arns.role_arn(ctx, n.sagemaker_role),
        evaluate_function_arn=arns.lambda_function_arn(ctx, n.evaluate_function),
        code_uri=args.code.files_uri,
        source_archive_uri=args.code.archive_uri,
        processing=processing_step(s.processing, "preprocess.py"),
        evaluation=processing_step(evaluation, "evaluate.py"),
        training_image=s.training.resolved_image(),
        training_instance_type=s.training.instance_type,
        training_instance_count=s.training.instance_count,
        training_volume_gb=s.training.volume_size_gb,
        training_max_runtime=s.training.max_runtime_seconds,
        hyperparameters=tuple(sorted(s.training.hyperparameters.items())),
        metric=s.quality_gate.metric,
        threshold=s.quality_gate.threshold,
        higher_is_better=s.quality_gate.direction == "higher-is-better",
        retry_interval=s.retry.interval_seconds,
        retry_max_attempts=s.retry.max_attempts,
        retry_backoff=s.retry.backoff_rate,
        model_package_group=n.model_package_group,
        approval_status=s.registry.initial_approval_status,
        inference_image=s.inference.resolved_image(),
        inference_instance_type=s.inference.instance_type,
        inference_environment=tuple(sorted(s.inference.environment.items())),
        tags=tuple(sorted(args.tags.items())),
    )


def deploy_spec(args: MlPipelineArgs) -> DeploySpec:
    """The deployment definition's inputs (where the stack deploys)."""
    s, n, ctx = args.settings, args.names, args.context
    return DeploySpec(
        partition=ctx.partition,
        prefix=n.prefix,
        model_package_group=n.model_package_group,
        sagemaker_role_arn=arns.role_arn(ctx, n.sagemaker_role),
        notification_topic_arn=arns.sns_topic_arn(ctx, n.failure_topic),
        endpoint_name=n.endpoint,
        instance_type=s.inference.instance_type,
        instance_count=s.inference.instance_count,
        rollback_alarms=n.endpoint_alarms,
        inference_image=s.inference.resolved_image(),
        model_data_prefix=f"s3://{args.bucket_name}/{n.s3_prefix}runs/",
        rollback_window=s.deployment.rollback_alarm_window_seconds,
        max_wait=s.deployment.max_wait_seconds,
        retry_interval=s.retry.interval_seconds,
        retry_max_attempts=s.retry.max_attempts,
        retry_backoff=s.retry.backoff_rate,
        tags=tuple(sorted(args.tags.items())),
    )


Document = dict[str, object]


def role_policies(args: MlPipelineArgs) -> dict[str, dict[str, Document]]:
    """Role name -> policy name -> document: every permission the pipeline's roles get, generated from the
    settings and the definition. The program attaches them; bootstrap/ makes the environment's permissions
    boundary from the same documents, so the boundary is exactly what the pipelines need."""
    ctx, names, s = args.context, args.names, args.settings
    definition = build_definition(workflow_spec(args))
    assert s.evaluation is not None, "parse_settings fills in the evaluation step"
    steps = (s.processing, s.training, s.evaluation, s.inference)
    images = [image_repository(step.resolved_image()) for step in steps]
    policies: dict[str, dict[str, Document]] = {
        names.sagemaker_role: {
            "sagemaker-execution": iam_documents.sagemaker_execution_policy(
                ctx, names, args.bucket_name, images, deploy=s.deployment.enabled
            )
        },
        names.state_machine_role: {
            "state-machine": state_machine_policy(
                ctx, names.prefix, definition, logging=args.log_level != "OFF", tracing=args.tracing
            ),
        },
        names.evaluate_role: {
            "evaluate-model": iam_documents.evaluate_function_policy(ctx, names, args.bucket_name, tracing=args.tracing)
        },
    }
    if s.schedule is not None:
        policies[names.scheduler_role] = {"start-retraining": iam_documents.scheduler_policy(ctx, names)}
    if s.deployment.enabled:
        policies[names.deploy_state_machine_role] = {
            "deploy-state-machine": state_machine_policy(
                ctx,
                names.prefix,
                build_deploy_definition(deploy_spec(args)),
                logging=args.log_level != "OFF",
                tracing=args.tracing,
            ),
            "notifications-key": iam_documents.notification_key_use(ctx, args.environment),
        }
        policies[names.approval_rule_role] = {"start-deployment": iam_documents.approval_rule_policy(ctx, names)}
    return policies


class MlPipeline(pulumi.ComponentResource):
    """A Step Functions STANDARD state machine running preprocess -> train -> evaluate -> gate -> register
    [-> deploy], with least-privilege roles generated from the definition it deploys."""

    state_machine_arn: pulumi.Output[str]
    """ARN of the pipeline's state machine."""
    state_machine_role_arn: pulumi.Output[str]
    """ARN of the role the state machine runs as."""
    sagemaker_role_arn: pulumi.Output[str]
    """ARN of the role SageMaker jobs and models run as."""
    evaluate_function_role_arn: pulumi.Output[str]
    """ARN of the evaluation Lambda's role."""
    failure_topic_arn: pulumi.Output[str]
    """ARN of the SNS topic failures are published to."""
    console_url: pulumi.Output[str]
    """The state machine in the AWS console."""
    model_package_group_name: pulumi.Output[str]
    """The pipeline's group in the SageMaker Model Registry."""

    def __init__(
        self,
        name: str,
        args: MlPipelineArgs,
        opts: pulumi.ResourceOptions | None = None,
        bucket: pulumi.Resource | None = None,
    ) -> None:
        """`bucket`: the artifacts bucket's resource, which the uploaded code and data wait for."""
        super().__init__("mlpipelines:pipeline:MlPipeline", name, None, opts)
        self._name, self._args, self._bucket = name, args, bucket
        self._policies = role_policies(args)
        # Every role carries the environment's permissions boundary: a deploy role may create and change roles
        # only with it (bootstrap/github_access.py), and it caps them at what these documents grant.
        self._boundary = arns.policy_arn(args.context, args.environment.boundary_policy)
        names = args.names

        sagemaker_role, _ = self._role("sagemaker-role", names.sagemaker_role, "sagemaker-policy",
                                       iam_documents.sagemaker_trust_policy(args.context))  # fmt: skip
        topic = self._notifications()
        code = self._code()
        self._example_data()
        evaluate_role, evaluate_function = self._evaluation()
        state_machine_role, state_machine = self._state_machine(evaluate_function, code)
        self._failure_alarm(topic, state_machine)
        self._registry()
        machines = [state_machine]
        if args.settings.deployment.enabled:
            machines.append(self._deployment(topic))
        self._unsuccessful_executions(topic, machines)
        if args.settings.schedule is not None:
            self._schedule(state_machine)

        self.model_package_group_name = pulumi.Output.from_input(names.model_package_group)
        self.state_machine_arn = state_machine.arn
        self.state_machine_role_arn = state_machine_role.arn
        self.sagemaker_role_arn = sagemaker_role.arn
        self.evaluate_function_role_arn = evaluate_role.arn
        self.failure_topic_arn = topic.arn
        self.console_url = pulumi.Output.from_input(arns.console_url(args.context, names.state_machine))
        self.register_outputs(
            {
                "state_machine_arn": self.state_machine_arn,
                "state_machine_role_arn": self.state_machine_role_arn,
                "sagemaker_role_arn": self.sagemaker_role_arn,
                "evaluate_function_role_arn": self.evaluate_function_role_arn,
                "failure_topic_arn": self.failure_topic_arn,
                "console_url": self.console_url,
                "model_package_group_name": self.model_package_group_name,
            }
        )

    # -- builders, one per part of the pipeline ------------------------------------------------------------

    def _child(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on) or None)

    def _role(
        self, suffix: str, role_name: str, policy_suffix: str, trust: dict[str, object]
    ) -> tuple[aws.iam.Role, list[aws.iam.RolePolicy]]:
        """A role under the environment's boundary, with its inline policies from `role_policies` (the first
        named `<name>-<policy_suffix>`, the others `<name>-<policy_suffix>-<policy>`)."""
        role = aws.iam.Role(
            f"{self._name}-{suffix}",
            name=role_name,
            assume_role_policy=json.dumps(trust),
            permissions_boundary=self._boundary,
            opts=self._child(),
        )
        base = f"{self._name}-{policy_suffix}"
        policies = [
            aws.iam.RolePolicy(
                f"{base}-{policy_name}" if index else base,
                role=role.name,
                name=policy_name,
                policy=json.dumps(document),
                opts=self._child(),
            )
            for index, (policy_name, document) in enumerate(self._policies[role_name].items())
        ]
        self._keep_to(role, base, policies)
        return role, policies

    def _keep_to(self, role: aws.iam.Role, base: str, policies: list[aws.iam.RolePolicy]) -> None:
        """The role holds exactly these inline policies and no managed one: on create the exclusive resources
        remove whatever else it holds (a role adopted with `import_`, a policy attached out of band), and the
        pack's `iam-grant-sets-declared` knows the role's whole grant set. Built from the policies' names, they
        are created after them (pulumi_aws's RolePoliciesExclusive puts a listed name it does not find)."""
        aws.iam.RolePoliciesExclusive(
            f"{base}-only",
            role_name=role.name,
            policy_names=[policy.name for policy in policies],
            opts=self._child(),
        )
        aws.iam.RolePolicyAttachmentsExclusive(
            f"{base}-no-managed",
            role_name=role.name,
            policy_arns=[],
            opts=self._child(),
        )

    def _notifications(self) -> aws.sns.Topic:
        """The pipeline's topic, encrypted with the environment's key, and the stack file's e-mail addresses."""
        names, ctx = self._args.names, self._args.context
        topic = aws.sns.Topic(
            f"{self._name}-failures",
            name=names.failure_topic,
            kms_master_key_id=arns.kms_alias_arn(ctx, self._args.environment.notifications_key_alias),
            opts=self._child(),
        )
        for index, address in enumerate(self._args.alarm_emails):
            aws.sns.TopicSubscription(
                f"{self._name}-failures-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=address,
                opts=self._child(),
            )
        return topic

    def _object(
        self, suffix: str, key: str, *, retain: bool = False, **content: pulumi.Input[str] | pulumi.Asset
    ) -> aws.s3.BucketObjectv2:
        opts = self._child(*([self._bucket] if self._bucket is not None else []))
        return aws.s3.BucketObjectv2(
            f"{self._name}-{suffix}",
            bucket=self._args.bucket_name,
            key=key,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=retain)),
            **content,  # type: ignore[arg-type]
        )

    def _code(self) -> list[aws.s3.BucketObjectv2]:
        """The workload's files under `code/<digest>/` (processing jobs) and packed as `code/<digest>.tar.gz`
        (script-mode training and serving). A changed file is a new key, and the old keys are kept
        (retain_on_delete): executions running when the code changes, and every registered model version (its
        SAGEMAKER_SUBMIT_DIRECTORY names the archive it was trained with), still find their code."""
        workload, code = self._args.workload, self._args.code
        objects = [
            self._object(
                f"code-{path.replace('/', '-')}",
                code.files_key + path,
                retain=True,
                content_base64=base64.b64encode(content).decode(),
                content_type="text/x-python" if path.endswith(".py") else "application/octet-stream",
            )
            for path, content in workload.files
        ]
        archive = base64.b64encode(workload.archive()).decode()
        objects.append(
            self._object(
                "code-archive", code.archive_key, retain=True, content_base64=archive, content_type="application/gzip"
            )
        )
        return objects

    def _example_data(self) -> None:
        """The stack's example dataset in `data/raw/`, where the preprocessing job reads (dev: a first execution
        has input). Where `upload` is off, the team's own data is there and nothing is written."""
        data = self._args.settings.example_data
        if data is None or not data.upload:
            return
        path = data.file()
        self._object(
            "example-data",
            f"{self._args.names.s3_prefix}data/raw/{path.name}",
            source=pulumi.FileAsset(str(path)),
            content_type="text/csv",
        )

    def _evaluation(self) -> tuple[aws.iam.Role, aws.lambda_.Function]:
        """The evaluation Lambda, with its own role and log group."""
        args, names = self._args, self._args.names
        role, _ = self._role("evaluate-role", names.evaluate_role, "evaluate-policy",
                             iam_documents.lambda_trust_policy())  # fmt: skip
        logs = aws.cloudwatch.LogGroup(
            f"{self._name}-evaluate-logs",
            name=names.evaluate_log_group,
            retention_in_days=args.log_retention_days,
            opts=self._child(),
        )
        function = aws.lambda_.Function(
            f"{self._name}-evaluate",
            name=names.evaluate_function,
            # ARNs built from names, known at preview: the pack must see which role compute runs as.
            role=arns.role_arn(args.context, names.evaluate_role),
            runtime=EVALUATE_RUNTIME,
            handler="handler.handler",
            code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(EVALUATE_FUNCTION_SOURCE)}),
            timeout=60,
            memory_size=256,
            environment={"variables": {"ALLOWED_REPORT_PREFIX": f"s3://{args.bucket_name}/{names.s3_prefix}"}},
            tracing_config={"mode": "Active" if args.tracing else "PassThrough"},
            logging_config={"log_format": "JSON", "log_group": logs.name},
            opts=self._child(logs, role),
        )
        return role, function

    def _machine(
        self,
        resource_name: str,
        machine_name: str,
        role_name: str,
        log_group_name: str,
        definition: dict[str, object],
        depends_on: list[pulumi.Resource],
        logs_resource: str,
    ) -> aws.sfn.StateMachine:
        """A STANDARD state machine with its log group; it runs as the role named (an ARN built from the name)."""
        args = self._args
        log_group = aws.cloudwatch.LogGroup(
            logs_resource, name=log_group_name, retention_in_days=args.log_retention_days, opts=self._child()
        )
        return aws.sfn.StateMachine(
            resource_name,
            name=machine_name,
            type="STANDARD",
            role_arn=arns.role_arn(args.context, role_name),
            definition=json.dumps(definition, indent=2),
            logging_configuration={
                "level": args.log_level,
                "include_execution_data": True,
                "log_destination": pulumi.Output.concat(log_group.arn, ":*"),
            },
            tracing_configuration={"enabled": args.tracing},
            # Step Functions checks the role's log-delivery permissions when the state machine is created.
            opts=self._child(*depends_on),
        )

    def _state_machine(
        self, evaluate_function: aws.lambda_.Function, code: list[aws.s3.BucketObjectv2]
    ) -> tuple[aws.iam.Role, aws.sfn.StateMachine]:
        """The training state machine and its role, whose policies are generated from the definition."""
        args, names = self._args, self._args.names
        role, policies = self._role("sfn-role", names.state_machine_role, "sfn-policy",
                                    iam_documents.state_machine_trust_policy(args.context, names))  # fmt: skip
        machine = self._machine(
            f"{self._name}-state-machine",
            names.state_machine,
            names.state_machine_role,
            names.state_machine_log_group,
            build_definition(workflow_spec(args)),
            # An execution may start as soon as the machine exists: its code is uploaded first.
            [role, *policies, evaluate_function, *code],
            f"{self._name}-sfn-logs",
        )
        return role, machine

    def _failure_alarm(self, topic: aws.sns.Topic, state_machine: aws.sfn.StateMachine) -> None:
        """An alarm on executions that failed, timed out or were aborted."""
        names = self._args.names
        dimensions = {"StateMachineArn": arns.state_machine_arn(self._args.context, names.state_machine)}
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-failed-executions",
            name=names.failed_executions_alarm,
            alarm_description=f"Executions of {names.state_machine} that did not succeed",
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=1,
            threshold=1,
            treat_missing_data="notBreaching",
            alarm_actions=[topic.arn],
            metric_queries=[
                *[
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id=metric_id,
                        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                            namespace="AWS/States", metric_name=metric, dimensions=dimensions, period=300, stat="Sum"
                        ),
                    )
                    for metric_id, metric in (
                        ("failed", "ExecutionsFailed"),
                        ("timedout", "ExecutionsTimedOut"),
                        ("aborted", "ExecutionsAborted"),
                    )
                ],
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="unsuccessful", expression="failed + timedout + aborted", return_data=True
                ),
            ],
            opts=self._child(state_machine),
        )

    def _registry(self) -> None:
        """The pipeline's group in the Model Registry: the training machine registers each gated model in it."""
        names = self._args.names
        aws.sagemaker.ModelPackageGroup(
            f"{self._name}-models",
            model_package_group_name=names.model_package_group,
            model_package_group_description=f"Models of {names.prefix} that passed its quality gate",
            opts=self._child(),
        )

    def _schedule(self, state_machine: aws.sfn.StateMachine) -> None:
        """The retraining schedule, with a role that may start this state machine only."""
        args, names = self._args, self._args.names
        schedule = args.settings.schedule
        assert schedule is not None
        role, _ = self._role("scheduler-role", names.scheduler_role, "scheduler-policy",
                             iam_documents.scheduler_trust_policy(args.context))  # fmt: skip
        aws.scheduler.Schedule(
            f"{self._name}-retraining",
            name=names.retraining_schedule,
            schedule_expression=schedule.expression,
            schedule_expression_timezone=schedule.timezone,
            flexible_time_window={"mode": "OFF"},
            target={
                "arn": state_machine.arn,
                "role_arn": arns.role_arn(args.context, names.scheduler_role),
                "input": json.dumps({}),
            },
            opts=self._child(role),
        )

    def _unsuccessful_executions(self, topic: aws.sns.Topic, machines: list[aws.sfn.StateMachine]) -> None:
        """Every execution of the pipeline's state machines that fails, times out or is aborted is published to
        the failure topic by an EventBridge rule on Step Functions' own status-change events: the definitions
        do not catch task errors (a redrive resumes at the failed task), and no Catch sees a timeout or an abort.

        EventBridge publishes under the topic's policy, not a role: "For targets that use resource-based policies
        (Lambda, Amazon SNS, ...), do not specify a RoleArn" (EventBridge user guide, "Using resource-based
        policies for Amazon EventBridge", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html).
        The topic's policy replaces SNS's default one, so it also admits the pipeline's own CloudWatch alarms."""
        args, names, ctx = self._args, self._args.names, self._args.context
        deploys = args.settings.deployment.enabled
        topic_arn = arns.sns_topic_arn(ctx, names.failure_topic)
        policy = aws.sns.TopicPolicy(
            f"{self._name}-failures-policy",
            arn=topic_arn,
            policy=json.dumps(iam_documents.failure_topic_policy(ctx, names, deploys=deploys)),
            opts=self._child(topic),
        )
        machine_arns = [arns.state_machine_arn(ctx, m) for m in pipeline_state_machines(names, deploys=deploys)]
        rule = aws.cloudwatch.EventRule(
            f"{self._name}-unsuccessful",
            name=names.failure_rule,
            description=f"Executions of {names.prefix}'s state machines that failed, timed out or were aborted",
            event_pattern=json.dumps(unsuccessful_execution_pattern(machine_arns)),
            opts=self._child(*machines),
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-unsuccessful-notify",
            rule=rule.name,
            arn=topic_arn,
            input_transformer=unsuccessful_execution_message(names.prefix),
            opts=self._child(policy),
        )

    def _deployment(self, topic: aws.sns.Topic) -> aws.sfn.StateMachine:
        """Approval-driven deployment: alarms that roll a bad update back, the deployment state machine, and
        the EventBridge rule that starts it when a version of the group is approved."""
        args, names = self._args, self._args.names
        errors_alarm, latency_alarm = names.endpoint_alarms
        variant = {"EndpointName": names.endpoint, "VariantName": "primary"}
        for alarm, metric, statistic, threshold, description in (
            (errors_alarm, "Invocation5XXErrors", "Sum", 1, "server errors"),
            (latency_alarm, "ModelLatency", "Average", LATENCY_ALARM_MICROSECONDS, "model latency over 1 s"),
        ):
            aws.cloudwatch.MetricAlarm(
                f"{self._name}-{alarm.removeprefix(names.prefix + '-')}",
                name=alarm,
                alarm_description=f"{names.endpoint}: {description}; a blue/green update rolls back when it fires",
                namespace="AWS/SageMaker",
                metric_name=metric,
                dimensions=variant,
                statistic=statistic,
                period=60,
                evaluation_periods=2,
                threshold=threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                opts=self._child(),
            )
        role, policies = self._role("deploy-sfn-role", names.deploy_state_machine_role, "deploy-sfn-policy",
                                    iam_documents.deploy_state_machine_trust_policy(args.context, names))  # fmt: skip
        machine = self._machine(
            f"{self._name}-deploy",
            names.deploy_state_machine,
            names.deploy_state_machine_role,
            names.deploy_state_machine_log_group,
            build_deploy_definition(deploy_spec(args)),
            [role, *policies, topic],
            f"{self._name}-deploy-logs",
        )
        rule_role, _ = self._role("approved-role", names.approval_rule_role, "approved-policy",
                                  iam_documents.approval_rule_trust_policy(args.context, names))  # fmt: skip
        rule = aws.cloudwatch.EventRule(
            f"{self._name}-approved",
            name=names.approval_rule,
            description=f"A version of {names.model_package_group} was approved: deploy it",
            event_pattern=json.dumps(approval_event_pattern(names.model_package_group)),
            opts=self._child(),
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-approved-deploy",
            rule=rule.name,
            arn=machine.arn,
            role_arn=arns.role_arn(args.context, names.approval_rule_role),
            opts=self._child(rule_role),
        )
        return machine


LATENCY_ALARM_MICROSECONDS = 1_000_000
"""ModelLatency is in microseconds (SageMaker's endpoint invocation metrics)."""


UNSUCCESSFUL_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
"""Execution statuses that end an execution other than in success (DescribeExecution's `status`)."""
STATUS_CHANGE = "Step Functions Execution Status Change"
"""The event Step Functions sends EventBridge on each status change of a STANDARD execution (EventBridge events
reference, "AWS Step Functions events": source `aws.states`)."""


def pipeline_state_machines(names: PipelineNames, *, deploys: bool) -> list[str]:
    """The names of the pipeline's state machines: training, and deployment where the stack deploys."""
    return [names.state_machine, *([names.deploy_state_machine] if deploys else [])]


def unsuccessful_execution_pattern(state_machine_arns: list[str]) -> dict[str, object]:
    """Status changes of these state machines' executions to an unsuccessful end."""
    return {
        "source": ["aws.states"],
        "detail-type": [STATUS_CHANGE],
        "detail": {"status": list(UNSUCCESSFUL_STATUSES), "stateMachineArn": state_machine_arns},
    }


def unsuccessful_execution_message(prefix: str) -> aws.cloudwatch.EventTargetInputTransformerArgs:
    """What the on-call reads: which execution ended how, and how to see why and to resume it. Only ARNs and the
    status are put in (none holds a quote); the error and its cause are in the execution's history."""
    return aws.cloudwatch.EventTargetInputTransformerArgs(
        input_paths={
            "execution": "$.detail.executionArn",
            "machine": "$.detail.stateMachineArn",
            "status": "$.detail.status",
        },
        input_template=json.dumps(
            f"ML pipeline {prefix}: execution <execution> of <machine> ended <status>. "
            "Its error and cause: aws stepfunctions describe-execution --execution-arn <execution>. "
            "Once the cause is fixed, resume it from the step that failed: "
            "aws stepfunctions redrive-execution --execution-arn <execution>"
        ),
    )


def approval_event_pattern(group: str) -> dict[str, object]:
    """EventBridge's "SageMaker Model Package State Change" events of one group whose status is Approved."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": [group], "ModelApprovalStatus": ["Approved"]},
    }
