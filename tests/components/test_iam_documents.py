"""components/iam_documents.py: the trust and permission documents, judged as IAM would read them."""

from __future__ import annotations

import json

import pytest

from components import arns, iam_documents
from components.arns import AwsContext, EnvironmentNames, PipelineNames
from tools.mock_runtime.program import Plan

CTX = AwsContext(partition="aws", region="eu-west-1", account_id="123456789012")
NAMES = PipelineNames.of("tumor", "prod")


def test_a_document_is_the_2012_policy_language_with_the_statements_given() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert iam_documents.document(statement) == {"Version": "2012-10-17", "Statement": [statement]}
    assert iam_documents.document() == {"Version": "2012-10-17", "Statement": []}


@pytest.mark.parametrize(
    ("build", "service", "source"),
    [
        # Step Functions' documented form: any state machine of this account (the exact ARN is not documented to be
        # what it presents when it checks the role at create time).
        (iam_documents.state_machine_trust_policy, "states.amazonaws.com", arns.state_machine_arn(CTX, "*")),
        (iam_documents.deploy_state_machine_trust_policy, "states.amazonaws.com", arns.state_machine_arn(CTX, "*")),
        # Scheduler presents its schedule group's ARN, never a schedule's.
        (
            lambda ctx, _: iam_documents.scheduler_trust_policy(ctx),
            "scheduler.amazonaws.com",
            "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/default",
        ),
        (
            iam_documents.approval_rule_trust_policy,
            "events.amazonaws.com",
            arns.events_rule_arn(CTX, "tumor-prod-approved"),
        ),
    ],
)
def test_a_service_role_trusts_its_service_for_its_own_resource_in_this_account_only(
    build: object, service: str, source: str
) -> None:
    """Confused-deputy protection: another account's state machine or rule cannot act through the role."""
    [statement] = build(CTX, NAMES)["Statement"]  # type: ignore[operator]
    assert statement["Principal"] == {"Service": service} and statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": source},
    }


def test_roles_without_a_source_resource_are_still_held_to_the_account() -> None:
    for build in (iam_documents.sagemaker_trust_policy,):
        [statement] = build(CTX)["Statement"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_the_approval_rule_may_start_the_deployment_and_nothing_else() -> None:
    [statement] = iam_documents.approval_rule_policy(CTX, NAMES)["Statement"]
    assert (statement["Action"], statement["Resource"]) == (
        "states:StartExecution",
        arns.state_machine_arn(CTX, NAMES.deploy_state_machine),
    )


def test_the_bucket_refuses_every_request_without_tls() -> None:
    [statement] = iam_documents.tls_only_bucket_policy(CTX, "b")["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_a_pipeline_uses_only_its_own_environments_notification_key() -> None:
    environment = EnvironmentNames("ml-pipelines", "prod")
    [statement] = iam_documents.notification_key_use(CTX, environment)["Statement"]
    assert statement["Action"] == iam_documents.DATA_KEY_ACTIONS == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Resource"] == "arn:aws:kms:eu-west-1:123456789012:key/*"
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/ml-pipelines:notifications": "prod"}}
    # ...and CloudWatch alarms of this account, not of any other, and EventBridge may encrypt with the key
    services = iam_documents.notification_key_policy(CTX)["Statement"][1:]
    assert [s["Principal"] for s in services] == [
        {"Service": "cloudwatch.amazonaws.com"},
        {"Service": "events.amazonaws.com"},
    ]
    for statement in services:
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert services[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    # EventBridge's deliveries to an encrypted topic carry no source keys to KMS: a condition on them would drop
    # every notification. SNS's own encryption context (the topic's ARN) keeps the key to this account's topics;
    # the topic's policy names the rule that may publish.
    assert services[1]["Condition"] == {
        "StringLike": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-1:123456789012:*"}
    }


@pytest.mark.parametrize("deploys", [False, True])
def test_the_failure_topic_admits_only_its_own_rule_and_alarms_of_this_account(deploys: bool) -> None:
    """The topic policy replaces SNS's default: the pipeline's status-change rule and its own alarms may publish,
    each named as the source, from this account; nothing else, and nothing but sns:Publish."""
    names = PipelineNames.of("tumor", "prod")
    rule, alarms = iam_documents.failure_topic_policy(CTX, names, deploys=deploys)["Statement"]
    topic = "arn:aws:sns:eu-west-1:123456789012:tumor-prod-failures"
    assert (rule["Principal"], rule["Action"], rule["Resource"]) == (
        {"Service": "events.amazonaws.com"}, "sns:Publish", topic,
    )  # fmt: skip
    assert rule["Condition"] == {
        "ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/tumor-prod-unsuccessful"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    assert (alarms["Principal"], alarms["Action"], alarms["Resource"]) == (
        {"Service": "cloudwatch.amazonaws.com"}, "sns:Publish", topic,
    )  # fmt: skip
    expected = [
        "tumor-prod-failed-executions",
        *(["tumor-prod-endpoint-errors", "tumor-prod-endpoint-latency"] if deploys else []),
    ]
    assert alarms["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{a}" for a in expected
    ]


def test_the_models_execution_role_describes_exactly_its_rollback_alarms(plans: dict[str, Plan]) -> None:
    """SageMaker's auto-rollback reads the alarms as the role passed to the model (the deployment machine's
    CreateModel ExecutionRoleArn): that role may describe those alarms and no other; where nothing deploys, none."""
    for stack, plan in plans.items():
        statements = json.loads(plan.named("tumor-sagemaker-policy").inputs["policy"])["Statement"]
        found = [s for s in statements if s["Action"] == "cloudwatch:DescribeAlarms"]
        deploy = next((r for r in plan.resources if r.name == "tumor-deploy"), None)
        if deploy is None:
            assert found == [], stack
            continue
        definition = json.loads(deploy.inputs["definition"])
        update = definition["States"]["UpdateEndpoint"]["Parameters"]
        alarms = [a["AlarmName"] for a in update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]]
        create_model = definition["States"]["CreateModel"]["Parameters"]
        assert create_model["ExecutionRoleArn"].endswith(f"role/tumor-{stack}-sagemaker")
        assert [s["Resource"] for s in found] == [
            [f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{alarm}" for alarm in alarms]
        ], stack


def _statement(index: int, padding: int) -> dict[str, object]:
    return {
        "Sid": f"S{index}",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::b/{'k' * padding}",
    }


def test_a_document_past_a_managed_policys_quota_splits_into_as_few_as_fit_each_within_it() -> None:
    statements = [_statement(i, 700) for i in range(20)]  # about 15,000 characters
    policy = iam_documents.document(*statements)
    found = iam_documents.chunks(policy)
    # Independent of the measure under test: whitespace dropped from the pretty-printed text.
    sizes = [len("".join(json.dumps(c, indent=2).split())) for c in found]
    assert all(size <= 6144 for size in sizes), sizes
    assert [s for c in found for s in c["Statement"]] == statements  # every statement, in order, once
    assert len(found) == -(-len("".join(json.dumps(policy).split())) // 6144)  # as few as the total needs
    assert max(sizes) - min(sizes) < 1500  # and about even, each with headroom


def test_a_statement_over_the_quota_alone_is_an_error() -> None:
    with pytest.raises(ValueError, match="alone is over 6144 characters"):
        iam_documents.chunks(iam_documents.document(_statement(0, 7000)))
