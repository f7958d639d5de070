"""A grant whose principal is not known at a first preview (`role=role.id`, `permission_set_arn=ps.arn`: outputs
of resources being created) is judged on every principal it may name, so the verdict holds whatever the value
turns out to be; a value whose reach cannot be bounded that way (which policy an attachment attaches, which group
a user joins, which role compute runs as) is refused, naming the resource it is built from.

Each row is a program as the engine sends it at a first preview: the reference unknown, its property dependency
on the resource whose output it is built from. An attacker controls the program, so `role.id.apply(lambda _:
"other")` has the same dependency as `role.id`: the rows that redirect a grant to another role, or split a grant
over a known and an unknown reference, must be refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies import data_reach, escalation, foreign_roles, iam, passrole, service_roles, trust
from tests.conftest import ROOT
from tests.policies.conftest import UNKNOWN, Stack

ROLE, USER = "aws:iam/role:Role", "aws:iam/user:User"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PERMISSION_SET = "aws:ssoadmin/permissionSet:PermissionSet"
INLINE = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
GRANT_RULES = [
    *iam.POLICIES,
    *escalation.POLICIES,
    *passrole.POLICIES,
    *data_reach.POLICIES,
    *service_roles.POLICIES,
    *trust.POLICIES,
    *foreign_roles.POLICIES,
]


def trusting(service: str) -> str:
    """A role's trust: the service, for this account's resources only (the confused-deputy guard)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


TRUST_SAGEMAKER = trusting("sagemaker.amazonaws.com")
TIGHT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"],
            "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/tumor-prod-*",
        }
    ],
}
SAGEMAKER = [a.name for a in iam.catalog.service("sagemaker").actions]  # type: ignore[union-attr]
HALF = len(SAGEMAKER) // 2
FIRST_HALF = {"Statement": [{"Effect": "Allow", "Action": SAGEMAKER[:HALF], "Resource": "*"}]}
SECOND_HALF = {"Statement": [{"Effect": "Allow", "Action": SAGEMAKER[HALF:], "Resource": "*"}]}
EVERYTHING = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}


PROD = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())


def findings(stack: Stack) -> list[tuple[str, str]]:
    """(policy, message) of every stack rule over the grant model, each with prod's config (all mandatory)."""
    found: list[tuple[str, str]] = []
    for rule in GRANT_RULES:
        if rule is iam.LEAST_PRIVILEGE:
            continue  # a resource policy: judges each document alone, whatever it is granted to
        config = PROD.get(rule.name) if isinstance(PROD.get(rule.name), dict) else None
        rule.validate(stack.args(config), lambda message, urn=None, name=rule.name: found.append((name, message)))
    return found


def provider(stack: Stack) -> Stack:
    return stack.add(
        "pulumi:providers:aws", "default", {"region": "eu-west-1", "allowedAccountIds": '["123456789012"]'}
    )


def role(stack: Stack, name: str) -> Stack:
    return stack.add(ROLE, name, {"name": f"{name}-role", "assumeRolePolicy": TRUST_SAGEMAKER}, custom=True)


def grant(stack: Stack, name: str, document: Any, on: str) -> Stack:
    """`aws.iam.RolePolicy(name, role=<on>.id, policy=...)` at a first preview."""
    return stack.add(ROLE_POLICY, name, {"role": UNKNOWN, "policy": json.dumps(document)}, custom=True, role=on)


# -- the everyday idiom passes -----------------------------------------------------------------------------------
def test_a_tight_inline_policy_on_a_role_created_alongside_passes_at_a_first_preview() -> None:
    stack = grant(role(provider(Stack()), "trainer"), "trainer-policy", TIGHT, on="trainer")
    assert findings(stack) == []


def test_a_tight_inline_policy_on_a_permission_set_created_alongside_passes_at_a_first_preview() -> None:
    stack = provider(Stack()).add(
        PERMISSION_SET, "analysts", {"name": "analysts", "instanceArn": "arn:aws:sso:::instance/ssoins-1"}, custom=True
    )
    stack.add(
        INLINE,
        "analysts-inline",
        {
            "permissionSetArn": UNKNOWN,
            "instanceArn": "arn:aws:sso:::instance/ssoins-1",
            "inlinePolicy": json.dumps(TIGHT),
        },
        custom=True,
        permissionSetArn="analysts",
    )
    assert findings(stack) == []


# -- what the value may turn out to be is judged too -----------------------------------------------------------------
def test_an_overgrant_to_an_unknown_role_is_refused() -> None:
    stack = grant(role(provider(Stack()), "trainer"), "trainer-policy", EVERYTHING, on="trainer")
    reported = findings(stack)
    assert any(p == "sagemaker-no-full-access-in-prod" and '"trainer"' in m for p, m in reported), reported
    # and on the role a redirected value would name, which the stack does not show
    assert any(p == "sagemaker-no-full-access-in-prod" and "(not known at preview)" in m for p, m in reported), reported


def _holder_has_full_access(stack: Stack) -> bool:
    return any(
        p == "sagemaker-no-full-access-in-prod" and m.startswith('aws:iam/role:Role "holder"')
        for p, m in findings(stack)
    )


def test_half_a_grant_redirected_to_another_role_that_holds_the_other_half_is_refused() -> None:
    # `trainer.id.apply(lambda _: "holder-role")`: the dependency says trainer, the value is holder.
    stack = role(role(provider(Stack()), "trainer"), "holder")
    stack.add(ROLE_POLICY, "holder-policy", {"role": "holder-role", "policy": json.dumps(FIRST_HALF)}, custom=True)
    grant(stack, "trainer-policy", SECOND_HALF, on="trainer")
    assert _holder_has_full_access(stack)


def test_a_deny_to_an_unknown_role_takes_nothing_away_from_the_others() -> None:
    stack = role(provider(Stack()), "holder")
    stack.add(ROLE_POLICY, "holder-policy", {"role": "holder-role", "policy": json.dumps(EVERYTHING)}, custom=True)
    deny = {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}
    grant(stack, "maybe-holder", deny, on="holder")
    assert _holder_has_full_access(stack)


def test_a_service_policy_for_an_unknown_role_is_judged_as_for_a_role_the_stack_does_not_show() -> None:
    # AWS documents AWSLambdaBasicExecutionRole for Lambda's own role: accepted only on a role the stack shows
    # trusting Lambda alone, never on one the value may turn out to name.
    stack = role(provider(Stack()), "runner")
    stack.add(
        ATTACHMENT,
        "runner-logs",
        {"role": UNKNOWN, "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
        custom=True,
        role="runner",
    )
    reported = findings(stack)
    assert any(p == "iam-service-role-policies" and "(not known at preview)" in m for p, m in reported), reported


# -- what cannot be bounded is refused, naming what it is built from ----------------------------------------------
def test_an_attachment_of_a_policy_not_known_yet_is_refused_naming_its_source() -> None:
    stack = role(provider(Stack()), "runner")
    stack.add("aws:iam/policy:Policy", "benign", {"name": "benign", "policy": json.dumps(TIGHT), "arn": UNKNOWN})
    stack.add(ATTACHMENT, "swap", {"role": "runner-role", "policyArn": UNKNOWN}, custom=True, policyArn="benign")
    reported = findings(stack)
    assert (
        "iam-attached-policies-checked",
        'aws:iam/rolePolicyAttachment:RolePolicyAttachment "swap": policyArn: the policy it attaches is not known '
        'at preview (it is built from an output of aws:iam/policy:Policy "benign"); build it from names and the '
        "account, region and partition (components/arns.py), not from outputs of resources being created, so that "
        "it is known at preview.",
    ) in reported


def test_compute_running_as_a_role_not_known_yet_is_refused_naming_its_source() -> None:
    stack = role(provider(Stack()), "runner")
    stack.add(
        "aws:lambda/function:Function",
        "hello",
        {"role": UNKNOWN, "runtime": "python3.12", "handler": "index.handler"},
        custom=True,
        role="runner",
    )
    reported = [m for p, m in findings(stack) if p == "iam-compute-runs-as-own-roles"]
    assert reported == [
        'aws:lambda/function:Function "hello": role: the role it runs as is not known at preview (it is built from '
        'an output of aws:iam/role:Role "runner"). ' + foreign_roles.INSTEAD
    ]


def test_a_user_joining_a_group_not_known_yet_is_refused_naming_its_source() -> None:
    stack = provider(Stack()).add("aws:iam/group:Group", "readers", {"name": "readers"}, custom=True)
    stack.add(USER, "person", {"name": "person"}, custom=True)
    stack.add(
        "aws:iam/userGroupMembership:UserGroupMembership",
        "joins",
        {"user": "person", "groups": [UNKNOWN]},
        custom=True,
        groups="readers",
    )
    reported = [m for p, m in findings(stack) if p == "iam-attached-policies-checked"]
    assert any(
        "groups[0]: which group it joins is not known at preview (it is built from an output of aws:iam/group:Group "
        '"readers")' in m
        for m in reported
    ), reported


# -- a Deny the grant may replace does not count (an attacker's review) -------------------------------------------
POWER = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iam:CreatePolicyVersion",
            "Resource": "arn:aws:iam::123456789012:policy/boundary",
        }
    ]
}
GUARD = {"Statement": [{"Effect": "Deny", "Action": "iam:CreatePolicyVersion", "Resource": "*"}]}


def _guarded(stack: Stack) -> Stack:
    """Role `trainer` may rewrite a managed policy (`power`), which its inline Deny (`guard`) takes away."""
    stack = role(provider(stack), "trainer")
    stack.add(ROLE_POLICY, "power", {"role": "trainer-role", "name": "power", "policy": json.dumps(POWER)}, custom=True)
    return stack.add(
        ROLE_POLICY, "guard", {"role": "trainer-role", "name": "guard", "policy": json.dumps(GUARD)}, custom=True
    )


def _escalates(stack: Stack) -> bool:
    return any(p == "iam-no-privilege-escalation" and '"trainer"' in m for p, m in findings(stack))


def test_the_deny_counts_while_nothing_may_replace_it() -> None:
    assert not _escalates(_guarded(Stack()))


@pytest.mark.parametrize(("name", "escalates"), [("guard", True), ("other", False)])
def test_a_policy_to_a_role_not_known_yet_replaces_the_deny_only_under_its_name(name: str, escalates: bool) -> None:
    # `aws.iam.RolePolicy("tight", role=trainer.id, name="guard", ...)`: PutRolePolicy replaces `guard`; a policy
    # of another name leaves the deny.
    stack = _guarded(Stack())
    stack.add(
        ROLE_POLICY,
        "tight",
        {"role": UNKNOWN, "name": name, "policy": json.dumps(TIGHT)},
        custom=True,
        role="trainer",
    )
    assert _escalates(stack) is escalates


def test_a_policy_whose_name_is_not_known_yet_may_replace_the_deny() -> None:
    # `name=trainer.id.apply(lambda _: "guard")` on the known role.
    stack = _guarded(Stack())
    stack.add(
        ROLE_POLICY,
        "tight",
        {"role": "trainer-role", "name": UNKNOWN, "policy": json.dumps(TIGHT)},
        custom=True,
        role="trainer",
    )
    assert _escalates(stack)


def test_an_aws_native_policy_of_the_same_name_replaces_the_deny() -> None:
    stack = _guarded(Stack())
    stack.add(
        "aws-native:iam:RolePolicy",
        "native-guard",
        {"roleName": "trainer-role", "policyName": "guard", "policyDocument": TIGHT},
        custom=True,
    )
    reported = findings(stack)
    assert any("second inline policy named 'guard'" in m for _, m in reported), reported


def test_a_second_writer_of_a_permission_sets_inline_policy_is_reported() -> None:
    # A permission set has one inline policy: another writer of it replaces the Deny whatever its name.
    stack = provider(Stack()).add(
        "aws-native:sso:PermissionSet",
        "analysts",
        {
            "name": "analysts",
            "instanceArn": "arn:aws:sso:::instance/ssoins-1",
            "inlinePolicy": GUARD,
            "managedPolicies": [],
            "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
        },
        custom=True,
    )
    stack.add(
        INLINE,
        "power",
        {
            "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
            "instanceArn": "arn:aws:sso:::instance/ssoins-1",
            "inlinePolicy": json.dumps(POWER),
        },
        custom=True,
    )
    reported = findings(stack)
    assert any("second inline policy named 'inline policy'" in m for _, m in reported), reported


def test_a_grant_through_a_regional_provider_of_the_account_leaves_the_other_roles_alone() -> None:
    """A tight policy on a role created through a second provider (another region, the same account) does not
    make the stack's other roles any less its own, nor their service policies any less accepted."""
    lambda_trust = trusting("lambda.amazonaws.com")
    stack = provider(Stack())
    stack.add("pulumi:providers:aws", "edge-provider", {"region": "us-east-1", "allowedAccountIds": '["123456789012"]'})
    stack.add(ROLE, "fn", {"name": "fn-role", "assumeRolePolicy": lambda_trust}, custom=True)
    stack.add(
        ATTACHMENT,
        "fn-logs",
        {"role": "fn-role", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
        custom=True,
    )
    stack.add(ROLE, "edge", {"name": "edge-role", "assumeRolePolicy": TRUST_SAGEMAKER}, custom=True).via(
        "edge", "edge-provider"
    )
    stack.add(ROLE_POLICY, "edge-policy", {"role": UNKNOWN, "policy": json.dumps(TIGHT)}, custom=True, role="edge")
    stack.via("edge-policy", "edge-provider")
    assert findings(stack) == []


def test_an_inline_policy_for_a_permission_set_not_known_yet_may_replace_any_sets_deny() -> None:
    ps_arn = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
    deny_all = {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}
    full = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    stack = provider(Stack()).add(
        "aws-native:sso:PermissionSet",
        "analysts",
        {
            "name": "analysts",
            "instanceArn": "arn:aws:sso:::instance/ssoins-1",
            "inlinePolicy": deny_all,
            "managedPolicies": [full],
            "permissionSetArn": ps_arn,
        },
        custom=True,
    )

    def full_access(stack: Stack) -> bool:
        return any(p == "sagemaker-no-full-access-in-prod" and '"analysts"' in m for p, m in findings(stack))

    assert not full_access(stack)  # the Deny takes AmazonSageMakerFullAccess away
    stack.add(
        INLINE,
        "tight",
        {
            "permissionSetArn": UNKNOWN,
            "instanceArn": "arn:aws:sso:::instance/ssoins-1",
            "inlinePolicy": json.dumps(TIGHT),
        },
        custom=True,
        permissionSetArn="analysts",
    )
    assert full_access(stack)  # PutInlinePolicyToPermissionSet on analysts would replace it


def test_a_deny_a_policy_attachment_may_detach_does_not_count() -> None:
    """pulumi_aws documents aws.iam.PolicyAttachment as exclusive across the account: it detaches its policy from
    every principal it does not list, so the Deny that policy brings to a role through a RolePolicyAttachment
    may not stay."""
    stack = role(provider(Stack()), "trainer")
    stack.add(ROLE_POLICY, "power", {"role": "trainer-role", "name": "power", "policy": json.dumps(POWER)}, custom=True)
    arn = "arn:aws:iam::123456789012:policy/guard"
    stack.add("aws:iam/policy:Policy", "guard", {"name": "guard", "policy": json.dumps(GUARD), "arn": arn}, custom=True)
    stack.add(ATTACHMENT, "trainer-guard", {"role": "trainer-role", "policyArn": arn}, custom=True)
    assert not _escalates(stack)
    role(stack, "other")
    stack.add(
        "aws:iam/policyAttachment:PolicyAttachment",
        "guard-elsewhere",
        {"name": "guard-elsewhere", "policyArn": arn, "roles": ["other-role"]},
        custom=True,
    )
    assert _escalates(stack)


@pytest.mark.parametrize(
    ("policy_name", "words"),
    [
        ("guard", "second inline policy named 'guard'"),
        ({"Ref": "Name"}, "can escalate its privileges"),  # a name a function gives: any name, `guard` too
    ],
    ids=["by the same name", "by a name a function gives"],
)
def test_a_templates_inline_policy_may_replace_the_deny(policy_name: Any, words: str) -> None:
    template = {
        "Parameters": {"Name": {"Type": "String"}},
        "Resources": {
            "Tight": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"PolicyName": policy_name, "Roles": ["trainer-role"], "PolicyDocument": TIGHT},
            }
        },
    }
    stack = _guarded(Stack())
    stack.add(
        "aws:cloudformation/stack:Stack", "cfn", {"name": "cfn", "templateBody": json.dumps(template)}, custom=True
    )
    reported = findings(stack)
    assert any(words in m for _, m in reported), reported
