"""`policies/foreign_roles.py`: compute runs as roles the stack defines."""

from __future__ import annotations

import json

import pytest

from policies.foreign_roles import FOREIGN_ROLES
from tests.policies.conftest import UNKNOWN, Stack
from tests.policies.rules import ACCOUNT, ROLE, reported

FUNCTION = "aws:lambda/function:Function"


def test_compute_as_own_foreign_allow_listed_and_unknown_roles() -> None:
    stack = (
        Stack()
        .add(ROLE, "own", {"name": "own"})
        .add(FUNCTION, "mine", {"role": f"arn:aws:iam::{ACCOUNT}:role/own"})
        .add(FUNCTION, "theirs", {"role": f"arn:aws:iam::{ACCOUNT}:role/Admin"})
        .add("aws:sagemaker/notebookInstance:NotebookInstance", "nb", {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/Admin"})
        .add("aws:sfn/stateMachine:StateMachine", "later", {"roleArn": UNKNOWN})
    )
    found = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert [m.split(": ", 1)[0] for m in found] == [
        'aws:lambda/function:Function "theirs"',
        'aws:sagemaker/notebookInstance:NotebookInstance "nb"',
        'aws:sfn/stateMachine:StateMachine "later"',
    ]
    assert "a role the stack does not define" in found[0]
    assert "not known at preview" in found[2]
    assert len(reported(FOREIGN_ROLES, stack, {"allowedRoles": ["admin"], "allowedAccounts": [ACCOUNT]})) == 1
    other_account = (
        Stack().add(ROLE, "own", {"name": "own"}).add(FUNCTION, "f", {"role": "arn:aws:iam::999999999999:role/own"})
    )
    [message] = reported(FOREIGN_ROLES, other_account, {"allowedAccounts": [ACCOUNT]})
    assert "a role of account 999999999999, outside allowedAccounts" in message


ADMIN = f"arn:aws:iam::{ACCOUNT}:role/Admin"


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("aws:eks/nodeGroup:NodeGroup", {"nodeRoleArn": ADMIN}),
        ("aws:eks/fargateProfile:FargateProfile", {"podExecutionRoleArn": ADMIN}),
        ("aws:cloudformation/stackSet:StackSet", {"administrationRoleArn": ADMIN}),
        ("aws:apprunner/service:Service", {"instanceConfiguration": {"instanceRoleArn": ADMIN}}),
        ("aws:rds/cluster:Cluster", {"iamRoles": [ADMIN]}),
        ("aws:ec2/spotFleetRequest:SpotFleetRequest", {"iamFleetRole": ADMIN}),
        ("aws:bedrock/agentAgent:AgentAgent", {"agentResourceRoleArn": ADMIN}),
    ],
    ids=["EKS nodes", "Fargate pods", "StackSet", "App Runner", "RDS cluster roles", "Spot fleet", "Bedrock agent"],
)
def test_any_property_that_holds_a_role_arn_is_read(type_: str, props: dict) -> None:
    [message] = reported(FOREIGN_ROLES, Stack().add(type_, "x", props), {"allowedAccounts": [ACCOUNT]})
    assert f"runs as {ADMIN}, a role the stack does not define" in message


@pytest.mark.parametrize(
    ("type_", "props", "where"),
    [
        (
            "aws:sfn/stateMachine:StateMachine",
            {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/own", "definition": UNKNOWN},
            "definition",
        ),
        ("aws:scheduler/schedule:Schedule", {"target": UNKNOWN}, "target"),
        (
            "aws:sfn/stateMachine:StateMachine",
            {
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/own",
                "definition": json.dumps({"States": {"T": {"Type": "Task", "Parameters": {"RoleArn.$": "$.role"}}}}),
            },
            "RoleArn.$",
        ),
    ],
    ids=["a definition unknown at preview", "a target unknown at preview", "a role chosen from the input"],
)
def test_a_role_that_cannot_be_seen_is_reported(type_: str, props: dict, where: str) -> None:
    stack = Stack().add(ROLE, "own", {"name": "own"}).add(type_, "x", props)
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert where in message and "not known at preview" in message


def test_a_property_named_like_a_role_that_holds_no_role_arn_is_not_one() -> None:
    stack = Stack().add("aws:docdb/clusterInstance:ClusterInstance", "x", {"promotionTierRole": "WRITER"})
    assert reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]}) == []


def test_an_unknown_property_hides_a_role_only_where_that_type_keeps_one() -> None:
    """`parameters` of an SSM association may name its AutomationAssumeRole; an RDS parameter group's hold none."""
    association = Stack().add("aws:ssm/association:Association", "x", {"name": "doc", "parameters": UNKNOWN})
    [message] = reported(FOREIGN_ROLES, association, {"allowedAccounts": [ACCOUNT]})
    assert "parameters: the role it runs as is not known at preview" in message
    group = Stack().add("aws:rds/parameterGroup:ParameterGroup", "x", {"name": "pg", "parameters": UNKNOWN})
    assert reported(FOREIGN_ROLES, group, {"allowedAccounts": [ACCOUNT]}) == []


@pytest.mark.parametrize(
    "depends",
    [
        # `role=own.arn.apply(lambda _: "arn:...:role/Admin")` has the same dependency as `role=own.arn`: read as
        # `own` at preview, the other role would pass, and at `pulumi up` this stack policy runs only once the
        # function exists (an adversarial review's finding). Unknown stays unknown.
        {"role": ["own"]},
        {"role": ["own", "other"]},
        {"role": ["bucket"]},
        {"role": ["component"]},
    ],
    ids=["one role of the stack", "two resources", "a bucket", "a component"],
)
def test_a_role_not_known_at_preview_stays_unknown_whatever_its_dependencies(depends: dict[str, list[str]]) -> None:
    stack = (
        Stack()
        .add(ROLE, "own", {"name": "own"}, custom=True)
        .add(ROLE, "other", {"name": "other"}, custom=True)
        .add(ROLE, "component", {"name": "admin"})
        .add("aws:s3/bucketV2:BucketV2", "bucket", {"bucket": "own"}, custom=True)
        .add(FUNCTION, "f", {"role": UNKNOWN}, custom=True)
    )
    stack.resources["f"].property_dependencies["role"] = [stack.resources[n] for n in depends["role"]]
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert 'aws:lambda/function:Function "f": role: the role it runs as is not known at preview' in message


# -- identities by account: a name through another account's provider is another role --------------------------
PROVIDER = "pulumi:providers:aws"
OTHER = "999999999999"


def _providers(home: dict, away: dict) -> Stack:
    return Stack().add(PROVIDER, "home", home).add(PROVIDER, "away", away)


@pytest.mark.parametrize(
    "away",
    [
        {"allowedAccountIds": [OTHER]},
        {"assumeRoles": [{"roleArn": f"arn:aws:iam::{OTHER}:role/deployer"}]},
        {"region": "us-east-1"},  # says no account: may be any
    ],
    ids=["held to another account", "assuming a role of another account", "not held to any"],
)
def test_a_decoy_declared_through_another_provider_does_not_make_a_role_the_stacks_own(away: dict) -> None:
    """The account's real `Admin` is not the stack's because a namesake is declared elsewhere."""
    stack = _providers({"allowedAccountIds": [ACCOUNT]}, away)
    stack.add(ROLE, "decoy", {"name": "Admin"}).via("decoy", "away")
    stack.add(FUNCTION, "f", {"role": f"arn:aws:iam::{ACCOUNT}:role/Admin"}).via("f", "home")
    found = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    # (A provider assuming another account's role is itself judged as what it runs as.)
    [message] = [m for m in found if not m.startswith("pulumi:providers:aws")]
    assert message.startswith('aws:lambda/function:Function "f": role: runs as')


def test_two_providers_held_to_the_same_account_share_its_roles() -> None:
    """Two regions of one account (a certificate in us-east-1 beside the stack's region): one role."""
    stack = _providers(
        {"allowedAccountIds": [ACCOUNT], "region": "eu-west-1"},
        {"allowedAccountIds": [ACCOUNT], "region": "us-east-1"},
    )
    stack.add(ROLE, "own", {"name": "own"}).via("own", "home")
    stack.add(FUNCTION, "f", {"role": f"arn:aws:iam::{ACCOUNT}:role/own"}).via("f", "away")
    assert reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]}) == []


def test_compute_through_another_accounts_provider_runs_as_that_accounts_role() -> None:
    stack = _providers({"allowedAccountIds": [ACCOUNT]}, {"allowedAccountIds": [OTHER]})
    stack.add(ROLE, "own", {"name": "own"}).via("own", "home")
    stack.add(FUNCTION, "f", {"role": "own"}).via("f", "away")
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT, OTHER]})
    assert "through a provider not held to the account the stack defines that role in" in message
