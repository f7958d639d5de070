"""`policies/resource_policies.py`: resource policies open to anyone or to other accounts."""

from __future__ import annotations

import json

import pytest

from policies.resource_policies import RESOURCE_POLICIES
from tests.policies.conftest import UNKNOWN, Stack
from tests.policies.rules import ACCOUNT, reported

ALLOWED = {"allowedAccounts": [ACCOUNT], "allowedOrganizations": ["o-a1b2c3d4e5"]}
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def policy(principal: object, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    return json.dumps({"Statement": [{**statement, **({"Condition": condition} if condition else {})}]})


@pytest.mark.parametrize(
    ("principal", "condition", "words"),
    [
        ("*", None, "allows anyone (*) s3:GetObject"),
        ({"AWS": "*"}, None, "allows anyone (*) s3:GetObject"),
        ({"AWS": "arn:aws:iam::999999999999:root"}, None, "(account 999999999999) s3:GetObject"),
        ("*", {"StringEquals": {"aws:SourceAccount": "999999999999"}}, "allows anyone (*)"),
        ("*", {"StringLike": {"aws:SourceArn": "*"}}, "allows anyone (*)"),
        ("*", {"StringEquals": {"aws:PrincipalOrgID": "o-attackerorg1"}}, "allows anyone (*)"),
        ("*", {"ForAllValues:StringEquals": {"aws:SourceAccount": ACCOUNT}}, "allows anyone (*)"),
        ({"aws": "*"}, None, "allows anyone (*)"),
        (["*"], None, "allows anyone (*)"),
        ({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, None, "canonical user"),
        ({"Service": "s3.amazonaws.com"}, None, "s3.amazonaws.com for any account"),
    ],
)
def test_open_policies_are_reported(principal: object, condition: dict | None, words: str) -> None:
    stack = Stack().add(BUCKET_POLICY, "open", {"bucket": "b", "policy": policy(principal, condition)})
    [message] = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert words in message


@pytest.mark.parametrize(
    ("principal", "condition"),
    [
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, None),
        ("*", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
        ({"Service": "logging.s3.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
    ],
    ids=["the account itself", "organisation-scoped", "a guarded service"],
)
def test_scoped_policies_pass(principal: object, condition: dict | None) -> None:
    stack = Stack().add(BUCKET_POLICY, "own", {"bucket": "b", "policy": policy(principal, condition)})
    assert reported(RESOURCE_POLICIES, stack, ALLOWED) == []


def test_lambda_permissions_kms_grants_and_unknowns() -> None:
    stack = (
        Stack()
        .add(
            "aws:lambda/permission:Permission",
            "public",
            {"function": "f", "principal": "*", "action": "lambda:InvokeFunction"},
        )
        .add(
            "aws:lambda/permission:Permission",
            "events",
            {
                "function": "f",
                "principal": "events.amazonaws.com",
                "sourceArn": f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/r",
            },
        )
        .add("aws:lambda/permission:Permission", "any-bucket", {"function": "f", "principal": "s3.amazonaws.com"})
        .add("aws:lambda/permission:Permission", "unknown", {"function": "f", "principal": UNKNOWN})
        .add(
            "aws:kms/grant:Grant",
            "grant",
            {"keyId": "k", "granteePrincipal": "arn:aws:iam::999999999999:root", "operations": ["Decrypt"]},
        )
    )
    found = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert [m.split(":", 1)[0] for m in found] == [
        "aws",
        "aws",
        "aws",
        "aws",
    ]
    assert "allows anyone (*) lambda:InvokeFunction" in found[0]
    assert "s3.amazonaws.com for any account" in found[1]
    assert "a principal not known at preview" in found[2]
    assert "(account 999999999999) Decrypt" in found[3]


def test_any_property_holding_a_policy_is_read() -> None:
    open_policy = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}]}
    )
    stack = (
        Stack()
        .add("aws:secretsmanager/secret:Secret", "inline", {"policy": open_policy})
        .add("aws-native:sqs:QueuePolicy", "native", {"queues": ["q"], "policyDocument": json.loads(open_policy)})
        .add("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "tpl", {"repositoryPolicy": open_policy})
    )
    assert len(reported(RESOURCE_POLICIES, stack, ALLOWED)) == 3


def test_access_control_lists_that_let_others_in() -> None:
    foreign = {
        "owner": {"id": "me"},
        "grants": [{"permission": "FULL_CONTROL", "grantee": {"type": "CanonicalUser", "id": "them"}}],
    }
    own = {
        "owner": {"id": "me"},
        "grants": [{"permission": "FULL_CONTROL", "grantee": {"type": "CanonicalUser", "id": "me"}}],
    }
    stack = (
        Stack()
        .add("aws:s3/bucketAcl:BucketAcl", "foreign", {"bucket": "b", "accessControlPolicy": foreign})
        .add("aws:s3/bucketAcl:BucketAcl", "canned", {"bucket": "b", "acl": "public-read"})
        .add("aws:s3/bucketAcl:BucketAcl", "own", {"bucket": "b", "accessControlPolicy": own})
    )
    found = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert [m.split(":", 1)[0] for m in found] == ["aws", "aws"]
    assert "canonical user them, not the owner" in found[0]
    assert "anyone (canned ACL public-read)" in found[1]


def test_a_document_with_escaped_keys_is_read_as_aws_reads_it() -> None:
    """`"\\u0053tatement"` is `Statement` once decoded: the policy is found and judged."""
    escaped = policy("*").replace('"Statement"', '"\\u0053tatement"')
    assert json.loads(escaped)["Statement"] and "Statement" not in escaped
    stack = Stack().add(BUCKET_POLICY, "open", {"bucket": "b", "policy": escaped})
    [message] = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert "allows anyone (*)" in message


@pytest.mark.parametrize(
    ("type_", "key"),
    [
        ("aws:opensearch/domain:Domain", "accessPolicies"),
        ("aws:opensearch/domainPolicy:DomainPolicy", "accessPolicies"),
        ("aws:elasticsearch/domainPolicy:DomainPolicy", "accessPolicies"),
    ],
)
def test_access_policies_of_search_domains_are_read(type_: str, key: str) -> None:
    stack = Stack().add(type_, "search", {"domainName": "logs", key: policy({"AWS": "*"})})
    [message] = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert "allows anyone (*)" in message


@pytest.mark.parametrize(
    ("type_", "props", "words"),
    [
        ("aws:cloudwatch/eventPermission:EventPermission", {"principal": "*", "statementId": "s"}, "anyone"),
        ("aws:cloudwatch/eventPermission:EventPermission", {"principal": "999999999999"}, "account 999999999999"),
        ("aws:ram/principalAssociation:PrincipalAssociation", {"principal": "999999999999"}, "account 999999999999"),
        (
            "aws:lakeformation/permissions:Permissions",
            {"principal": "999999999999", "permissions": ["ALL"]},
            "999999999999",
        ),
        ("aws:ec2/amiLaunchPermission:AmiLaunchPermission", {"imageId": "ami-1", "group": "all"}, "anyone"),
        (
            "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission",
            {"accountId": "999999999999"},
            "999999999999",
        ),
        ("aws:ssm/document:Document", {"permissions": {"type": "Share", "account_ids": "All"}}, "anyone"),
        (
            "aws:ec2/amiLaunchPermission:AmiLaunchPermission",
            {"organizationArn": "arn:aws:organizations::1:organization/o-attacker123"},
            "outside allowedOrganizations",
        ),
    ],
    ids=[
        "events to anyone",
        "events to an account",
        "RAM",
        "Lake Formation",
        "AMI to all",
        "snapshot",
        "SSM document",
        "AMI to another org",
    ],
)
def test_sharing_without_a_policy_document_is_judged_too(type_: str, props: dict, words: str) -> None:
    [message] = reported(RESOURCE_POLICIES, Stack().add(type_, "shared", props), ALLOWED)
    assert "shares it with" in message and words in message


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("aws:ram/principalAssociation:PrincipalAssociation", {"principal": ACCOUNT}),
        (
            "aws:ec2/amiLaunchPermission:AmiLaunchPermission",
            {"organizationArn": "arn:aws:organizations::1:organization/o-a1b2c3d4e5"},
        ),
        ("aws:ssm/document:Document", {"permissions": {"type": "Share", "account_ids": ACCOUNT}}),
    ],
    ids=["the account itself", "the allowed organisation", "an SSM document shared with the account"],
)
def test_sharing_with_allowed_accounts_passes(type_: str, props: dict) -> None:
    assert reported(RESOURCE_POLICIES, Stack().add(type_, "shared", props), ALLOWED) == []


SNS_CONTEXT = "kms:EncryptionContext:aws:sns:topicArn"


def _key_policy(condition: dict | None) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
    }
    return json.dumps({"Statement": [{**statement, **({"Condition": condition} if condition else {})}]})


@pytest.mark.parametrize(
    ("condition", "passes"),
    [
        # SNS sets the topic's ARN as the encryption context itself: topics of the account only
        ({"StringLike": {SNS_CONTEXT: f"arn:aws:sns:eu-west-1:{ACCOUNT}:*"}}, True),
        ({"StringEquals": {SNS_CONTEXT: f"arn:aws:sns:eu-west-1:{ACCOUNT}:tumor-prod-failures"}}, True),
        (None, False),
        ({"StringLike": {SNS_CONTEXT: "arn:aws:sns:eu-west-1:999999999999:*"}}, False),
        ({"StringLike": {SNS_CONTEXT: "arn:aws:sns:*:*:*"}}, False),
        ({"StringLike": {SNS_CONTEXT: "*"}}, False),
        ({"StringLike": {SNS_CONTEXT: [f"arn:aws:sns:eu-west-1:{ACCOUNT}:*", "arn:aws:sns:eu-west-1:99*"]}}, False),
        # absent key passes these: no guard
        ({"ForAllValues:StringLike": {SNS_CONTEXT: f"arn:aws:sns:eu-west-1:{ACCOUNT}:*"}}, False),
        ({"StringLikeIfExists": {SNS_CONTEXT: f"arn:aws:sns:eu-west-1:{ACCOUNT}:*"}}, False),
        ({"StringNotLike": {SNS_CONTEXT: "arn:aws:sns:eu-west-1:999999999999:*"}}, False),
    ],
)
def test_a_service_using_a_key_through_sns_is_guarded_by_the_topics_it_names(
    condition: dict | None, passes: bool
) -> None:
    """EventBridge's deliveries to an encrypted topic carry no aws:SourceAccount to KMS; the topic's ARN, which
    SNS sets as the encryption context, keeps the key to the allowed accounts' topics when every value names one."""
    stack = Stack().add("aws:kms/key:Key", "notifications", {"policy": _key_policy(condition)})
    found = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert (found == []) is passes, found


@pytest.mark.parametrize("key", ["sourceArn", "sourceAccount", "principalOrgId"])
def test_a_guard_not_known_at_preview_is_never_read_as_absent(key: str) -> None:
    """`source_arn=stage.execution_arn.apply(...)` at a first preview: the permission has a guard whose value is
    not known yet. It is reported as not known, never as a permission with no guard at all."""
    stack = Stack().add(
        "aws:lambda/permission:Permission",
        "api",
        {"function": "f", "principal": "apigateway.amazonaws.com", "action": "lambda:InvokeFunction", key: UNKNOWN},
    )
    [found] = reported(RESOURCE_POLICIES, stack, ALLOWED)
    assert "apigateway.amazonaws.com for an account not known at preview (its condition is not known yet)" in found
    assert "no aws:SourceAccount" not in found
