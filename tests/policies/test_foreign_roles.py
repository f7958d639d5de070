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


# An attacker's review of the above: every way a namesake elsewhere could stand in for the account's own.
def _runner(stack: Stack, *statements: dict) -> Stack:
    document = {"Statement": [{"Effect": "Allow", **s} for s in statements]}
    stack.add(ROLE, "runner", {"name": "runner", "assumeRolePolicy": json.dumps({"Statement": []})}).via(
        "runner", "home"
    )
    stack.add("aws:iam/rolePolicy:RolePolicy", "runner-policy", {"role": "runner", "policy": json.dumps(document)})
    return stack.via("runner-policy", "home")


def _away() -> Stack:
    return _providers({"allowedAccountIds": [ACCOUNT]}, {"allowedAccountIds": [OTHER]})


def test_a_managed_policy_namesake_through_another_account_is_not_what_is_attached() -> None:
    from policies.iam import DECIDABLE

    stack = _runner(_away())
    harmless = {"Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
    stack.add("aws:iam/policy:Policy", "decoy", {"name": "PowerPolicy", "policy": json.dumps(harmless)}).via(
        "decoy", "away"
    )
    attachment = {"role": "runner", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/PowerPolicy"}
    stack.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", attachment).via("attach", "home")
    [message] = reported(DECIDABLE, stack)
    assert "PowerPolicy, which is neither an AWS-managed policy nor a policy of this stack" in message


def test_a_group_namesake_through_another_account_is_not_the_group_joined() -> None:
    from policies.iam import DECIDABLE

    stack = _away().add("aws:iam/group:Group", "decoy", {"name": "Admins"}).via("decoy", "away")
    stack.add("aws:iam/user:User", "alice", {"name": "alice"}).via("alice", "home")
    membership = {"user": "alice", "groups": ["Admins"]}
    stack.add("aws:iam/userGroupMembership:UserGroupMembership", "m", membership).via("m", "home")
    [message] = reported(DECIDABLE, stack)
    assert "joins the group 'Admins', which the stack does not define" in message


@pytest.mark.parametrize(
    ("decoy", "statement", "method"),
    [
        (
            (ROLE, {"name": "Admin"}),
            {"Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/Admin"},
            "AssumeExistingRole",
        ),
        (
            ("aws:iam/user:User", {"name": "admin"}),
            {"Action": "iam:CreateAccessKey", "Resource": f"arn:aws:iam::{ACCOUNT}:user/admin"},
            "CreateAccessKey",
        ),
        (
            ("aws:lambda/function:Function", {"name": "deployer"}),
            {
                "Action": "lambda:UpdateFunctionCode",
                "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:deployer",
            },
            "EditExistingLambdaFunctionWithRole",
        ),
    ],
    ids=["a role", "a user", "a function"],
)
def test_escalation_on_a_name_declared_only_through_another_account_is_escalation(
    decoy: tuple[str, dict], statement: dict, method: str
) -> None:
    from policies.escalation import PRIVILEGE_ESCALATION

    stack = _away().add(decoy[0], "decoy", decoy[1]).via("decoy", "away")
    [message] = reported(PRIVILEGE_ESCALATION, _runner(stack, statement))
    assert f"can escalate its privileges by {method}" in message


@pytest.mark.parametrize("template_type", ["aws:cloudformation/stack:Stack", "aws:cloudformation/stackSet:StackSet"])
def test_a_role_only_a_template_declares_is_not_the_stacks_own(template_type: str) -> None:
    """A stack set creates it in other accounts; a template's Condition may never create it."""
    template = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "Admin"}}}}
    stack = Stack().add(template_type, "tpl", {"name": "tpl", "templateBody": json.dumps(template)})
    stack.add(FUNCTION, "f", {"role": f"arn:aws:iam::{ACCOUNT}:role/Admin"})
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert message.startswith('aws:lambda/function:Function "f"')


def test_a_role_arn_of_another_account_than_its_namesakes_is_not_the_namesake() -> None:
    stack = _away().add(ROLE, "decoy", {"name": "Admin"}).via("decoy", "away")
    stack.add(FUNCTION, "f", {"role": f"arn:aws:iam::{ACCOUNT}:role/Admin"}).via("f", "away")
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT, OTHER]})
    assert message.startswith('aws:lambda/function:Function "f"')
