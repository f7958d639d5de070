"""Each real stack, run under the mock runtime with its real stack file: what it deploys and how."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
import yaml

from components.settings import settings_of_stack_file
from tests.conftest import ROOT, STACKS
from tools.mock_runtime.program import Plan

# What a stack declares, worked out from its stack file: the stack's own resources, then each pipeline's,
# with what its schedule, its deployment and the stack's alarm e-mails add.
STACK_WIDE = {
    "pulumi:pulumi:Stack": 1,  # the root stack, registered before the program runs
    "pulumi:providers:aws": 1,
    "mlpipelines:storage:ArtifactsBucket": 1,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
    "aws:s3/bucketVersioning:BucketVersioning": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 1,
}
PIPELINE = {
    "mlpipelines:pipeline:MlPipeline": 1,
    "aws:sfn/stateMachine:StateMachine": 1,
    "aws:lambda/function:Function": 1,
    "aws:cloudwatch/logGroup:LogGroup": 2,
    "aws:cloudwatch/metricAlarm:MetricAlarm": 1,
    "aws:sns/topic:Topic": 1,
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": 1,
    "aws:iam/role:Role": 3,
    # sagemaker (one), state machine (one: it publishes nothing), evaluation Lambda (one)
    "aws:iam/rolePolicy:RolePolicy": 3,
    # the rule that publishes unsuccessful executions to the topic, its target, and the topic's policy
    "aws:cloudwatch/eventRule:EventRule": 1,
    "aws:cloudwatch/eventTarget:EventTarget": 1,
    "aws:sns/topicPolicy:TopicPolicy": 1,
}
SCHEDULED = {"aws:iam/role:Role": 1, "aws:iam/rolePolicy:RolePolicy": 1, "aws:scheduler/schedule:Schedule": 1}
DEPLOYED = {
    # the deployment state machine with its role (two policies) and log group, the approval rule with its role
    # and target, and the two alarms a blue/green update rolls back on
    "aws:sfn/stateMachine:StateMachine": 1,
    "aws:iam/role:Role": 2,
    "aws:iam/rolePolicy:RolePolicy": 3,
    "aws:cloudwatch/logGroup:LogGroup": 1,
    "aws:cloudwatch/metricAlarm:MetricAlarm": 2,
    "aws:cloudwatch/eventRule:EventRule": 1,
    "aws:cloudwatch/eventTarget:EventTarget": 1,
}


def expected(stack: str) -> Counter[str]:
    settings = settings_of_stack_file("ml-pipelines", stack, ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    counts = Counter(STACK_WIDE)
    for pipeline in settings.pipelines:
        counts.update(PIPELINE)
        counts.update(SCHEDULED if pipeline.schedule is not None else {})
        counts.update(DEPLOYED if pipeline.deployment.enabled else {})
        counts.update({"aws:sns/topicSubscription:TopicSubscription": len(settings.alarm_emails)})
        # The workload's files one by one, their archive, and the example data where the stack uploads it.
        folder = ROOT / "workloads" / pipeline.workload
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        uploads = pipeline.example_data is not None and pipeline.example_data.upload
        counts.update({"aws:s3/bucketObjectv2:BucketObjectv2": len(files) + 1 + int(uploads)})
    # Each role kept to its inline policies and to no managed one (test_roles_hold_exactly_what_the_stack_grants).
    counts["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"] = counts["aws:iam/role:Role"]
    counts["aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"] = counts["aws:iam/role:Role"]
    return +counts


def stack_config(stack: str) -> dict:
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_declares_the_expected_resources(plans: dict[str, Plan], stack: str) -> None:
    assert Counter(r.type for r in plans[stack].resources) == expected(stack)


@pytest.mark.parametrize("stack", STACKS)
def test_roles_hold_exactly_what_the_stack_grants(plans: dict[str, Plan], stack: str) -> None:
    """A role adopted with `import_`, or given a policy out of band, loses what the stack does not grant when the
    exclusive resources are created: each role is kept to exactly the inline policies the stack puts on it, and
    to no managed policy."""
    plan = plans[stack]
    inline: dict[str, set[str]] = {}
    for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        inline.setdefault(policy.inputs["role"], set()).add(policy.inputs["name"])
    kept = {
        r.inputs["roleName"]: r.inputs["policyNames"]
        for r in plan.of_type("aws:iam/rolePoliciesExclusive:RolePoliciesExclusive")
    }
    attached = {
        r.inputs["roleName"]: r.inputs["policyArns"]
        for r in plan.of_type("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive")
    }
    roles = {r.inputs["name"] for r in plan.of_type("aws:iam/role:Role")}
    assert set(kept) == set(attached) == roles == set(inline)
    assert all(sorted(kept[role]) == sorted(inline[role]) for role in roles)
    assert all(arns == [] for arns in attached.values())


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_uses_the_stack_provider_with_the_stack_tags_as_default_tags(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    [provider] = plan.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == stack_config(stack)["aws:region"]
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": stack_config(stack)["ml-pipelines:tags"]}
    for resource in plan.resources:
        if resource.custom and resource.type.startswith("aws:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_children_are_parented_under_their_component(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    components = {r.urn: r.name for r in plan.resources if r.type.startswith("mlpipelines:")}
    for resource in plan.resources:
        if resource.custom and resource.type.startswith("aws:"):
            assert resource.parent in components, resource.urn
            assert resource.name.startswith(components[resource.parent] + "-"), resource.urn
    assert plan.named("tumor-state-machine").urn == (
        f"urn:pulumi:{stack}::ml-pipelines::mlpipelines:pipeline:MlPipeline$aws:sfn/stateMachine:StateMachine::tumor-state-machine"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_iam_documents_are_fully_known_in_a_first_preview(preview_plans: dict[str, Plan], stack: str) -> None:
    plan = preview_plans[stack]
    documents = [r.inputs["policy"] for r in plan.resources if r.type.endswith("Policy") and "policy" in r.inputs]
    documents += [r.inputs["assumeRolePolicy"] for r in plan.of_type("aws:iam/role:Role")]
    assert len(documents) >= 7
    for document in documents:
        assert isinstance(document, str), "an IAM document depends on a value unknown at preview"
        json.loads(document)
    # So are the roles compute runs as (ARNs from names: the pack must see them at preview)...
    assert plan.named("tumor-state-machine").inputs["roleArn"] == f"arn:aws:iam::123456789012:role/tumor-{stack}-sfn"
    assert plan.named("tumor-evaluate").inputs["role"] == f"arn:aws:iam::123456789012:role/tumor-{stack}-evaluate"
    # ...while outputs of resources being created really are unknown in this mode.
    alarm = plan.named("tumor-failed-executions")
    assert not isinstance(alarm.inputs["alarmActions"][0], str)


@pytest.mark.parametrize("stack", STACKS)
def test_exports_per_pipeline(plans: dict[str, Plan], stack: str) -> None:
    exported = plans[stack].outputs["tumor"]
    assert exported == {
        "state_machine_arn": f"arn:aws:states:eu-west-1:123456789012:stateMachine:tumor-{stack}",
        "state_machine_role_arn": f"arn:aws:iam::123456789012:role/tumor-{stack}-sfn",
        "sagemaker_role_arn": f"arn:aws:iam::123456789012:role/tumor-{stack}-sagemaker",
        "evaluate_function_role_arn": f"arn:aws:iam::123456789012:role/tumor-{stack}-evaluate",
        "bucket_name": f"ml-pipelines-{stack}-123456789012-eu-west-1",
        "failure_topic_arn": f"arn:aws:sns:eu-west-1:123456789012:tumor-{stack}-failures",
        "model_package_group_name": f"tumor-{stack}",
        "console_url": "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/statemachines/view/"
        f"arn:aws:states:eu-west-1:123456789012:stateMachine:tumor-{stack}",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_state_machine_logs_and_traces_as_configured(plans: dict[str, Plan], stack: str) -> None:
    config = stack_config(stack)
    machine = plans[stack].named("tumor-state-machine").inputs
    assert machine["type"] == "STANDARD"
    assert machine["loggingConfiguration"]["level"] == config["ml-pipelines:logLevel"]
    assert machine["loggingConfiguration"]["logDestination"] == (
        f"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/tumor-{stack}:*"
    )
    assert machine["tracingConfiguration"] == {"enabled": True}
    for group in plans[stack].of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["retentionInDays"] == config["ml-pipelines:logRetentionDays"]


@pytest.mark.parametrize("stack", STACKS)
def test_artifacts_bucket_is_encrypted_versioned_private_and_tls_only(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    rules = plan.named("artifacts-encryption").inputs["rules"]
    assert rules[0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert plan.named("artifacts-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    block = plan.named("artifacts-public-access").inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    [deny] = json.loads(plan.named("artifacts-tls-only").inputs["policy"])["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


@pytest.mark.parametrize("stack", STACKS)
def test_failure_topic_is_encrypted_and_alarmed(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    topic = plan.named("tumor-failures")
    # The environment's key, which bootstrap makes and no deploy role can manage (bootstrap/github_access.py).
    assert (
        topic.inputs["kmsMasterKeyId"] == f"arn:aws:kms:eu-west-1:123456789012:alias/ml-pipelines-{stack}-notifications"
    )
    assert not plan.of_type("aws:kms/key:Key") and not plan.of_type("aws:kms/alias:Alias")
    # The training state machine publishes nothing, so it has no use of the key; the deployment machine (which
    # tells of a model served) may encrypt with the keys carrying the environment's notifications tag, no other.
    assert not [
        r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "tumor-sfn-policy-notifications-key"
    ]
    deploy_key = [
        r
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.endswith("deploy-sfn-policy-notifications-key")
    ]
    for policy in deploy_key:
        [use] = json.loads(policy.inputs["policy"])["Statement"]
        assert use["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert use["Condition"] == {"StringEquals": {"aws:ResourceTag/ml-pipelines:notifications": stack}}
    assert len(deploy_key) == (0 if stack == "dev" else 1)
    alarm = plan.named("tumor-failed-executions").inputs
    assert alarm["alarmActions"] == [topic.outputs["arn"]]
    metrics = {q["metric"]["metricName"] for q in alarm["metricQueries"] if "metric" in q}
    assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}


def test_environments_differ_only_through_stack_files() -> None:
    code = "\n".join(p.read_text() for p in (ROOT / "components").glob("*.py")) + (ROOT / "__main__.py").read_text()
    assert not re.search(r"""["'](dev|staging|prod|production)["']""", code)
    assert "get_stack()" not in (ROOT / "components").joinpath("ml_pipeline.py").read_text()


def test_evaluation_function_ships_the_repository_handler(plans: dict[str, Plan]) -> None:
    function = plans["prod"].named("tumor-evaluate").inputs
    assert function["handler"] == "handler.handler"
    assert function["environment"]["variables"]["ALLOWED_REPORT_PREFIX"] == (
        "s3://ml-pipelines-prod-123456789012-eu-west-1/pipelines/tumor-prod/"
    )
    # The archive ships exactly the repository's handler, by a path relative to the project (as the CLI runs it).
    [(name, asset)] = function["code"].assets.items()
    assert name == "handler.py"
    assert (ROOT / asset.path).resolve() == (ROOT / "functions/evaluate_model/handler.py").resolve()


@pytest.mark.parametrize("stack", STACKS)
def test_every_unsuccessful_execution_of_the_pipeline_is_published_to_its_topic(
    plans: dict[str, Plan], stack: str
) -> None:
    """The status-change rule, run by moto's EventBridge pattern matcher against the events Step Functions sends:
    executions of the pipeline's own machines that failed, timed out or were aborted reach the topic; success,
    a running execution and another machine's failure do not. The target publishes under the topic's policy
    (no role), and the message names only fields the event carries."""
    from moto.events.models import EventPattern

    plan = plans[stack]
    rule = plan.named("tumor-unsuccessful").inputs
    target = plan.named("tumor-unsuccessful-notify").inputs
    machines = [r.outputs["arn"] for r in plan.of_type("aws:sfn/stateMachine:StateMachine")]
    assert len(machines) == (1 if stack == "dev" else 2)
    pattern = EventPattern.load(rule["eventPattern"])

    def event(machine: str, status: str) -> dict[str, Any]:
        # "Step Functions Execution Status Change", as the Step Functions developer guide's examples show it.
        execution = machine.replace(":stateMachine:", ":execution:") + ":run-1"
        return {
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": {"executionArn": execution, "stateMachineArn": machine, "name": "run-1", "status": status},
        }

    for machine in machines:
        for status in ("FAILED", "TIMED_OUT", "ABORTED"):
            assert pattern.matches_event(event(machine, status)), (machine, status)
        for status in ("SUCCEEDED", "RUNNING", "PENDING_REDRIVE"):
            assert not pattern.matches_event(event(machine, status)), (machine, status)
    other = f"arn:aws:states:eu-west-1:123456789012:stateMachine:other-{stack}"
    assert not pattern.matches_event(event(other, "FAILED"))
    assert (
        target["arn"]
        == f"arn:aws:sns:eu-west-1:123456789012:tumor-{stack}-failures"
        == plan.named("tumor-failures").outputs["arn"]
    )
    assert "roleArn" not in target
    transformer = target["inputTransformer"]
    template = json.loads(transformer["inputTemplate"])
    assert set(re.findall(r"<(\w+)>", template)) == set(transformer["inputPaths"])
    sample = event(machines[0], "FAILED")
    for path in transformer["inputPaths"].values():
        value: Any = sample
        for key in path.removeprefix("$.").split("."):
            value = value[key]
        assert isinstance(value, str) and '"' not in value
    assert "redrive-execution" in template
    policy = plan.named("tumor-failures-policy").inputs
    assert policy["arn"] == target["arn"]
