"""A principal the stack hands out holds only what the stack grants it (`iam-grant-sets-declared`).

The engine does not tell a policy pack that a resource is adopted with `import_`, and an adopted role keeps the
policies it had. Each row is a program as an attacker with the repository would write it to hand out grants the
pack never sees, or as a team writes it soundly. Expected findings are written out by hand: which resource is
reported, and the words that say why."""

from __future__ import annotations

import json

import pytest

from policies import grant_sets
from tests.policies.conftest import UNKNOWN, Stack

ROLE, GROUP, USER = "aws:iam/role:Role", "aws:iam/group:Group", "aws:iam/user:User"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEEP_INLINE = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
KEEP_ATTACHED = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
PERMISSION_SET = "aws:ssoadmin/permissionSet:PermissionSet"
SET_ARN = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
TRUST = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
            }
        ]
    }
)
TIGHT = json.dumps({"Statement": [{"Effect": "Allow", "Action": "sagemaker:DescribeTrainingJob", "Resource": "*"}]})


def findings(stack: Stack) -> list[tuple[str, str]]:
    """(reported resource's name, message) of iam-grant-sets-declared."""
    found: list[tuple[str, str]] = []
    grant_sets.GRANT_SETS.validate(
        stack.args(), lambda message, urn=None: found.append(((urn or "").rsplit("::", 1)[-1], message))
    )
    return found


def trainer(stack: Stack, *, policy: bool = True) -> Stack:
    stack.add(ROLE, "trainer", {"name": "trainer", "assumeRolePolicy": TRUST}, custom=True)
    if policy:
        stack.add(ROLE_POLICY, "train", {"role": "trainer", "name": "train", "policy": TIGHT}, custom=True)
    return stack


def kept(stack: Stack, names: object = ("train",), arns: object = (), role: str = "trainer") -> Stack:
    names = list(names) if isinstance(names, tuple) else names
    arns = list(arns) if isinstance(arns, tuple) else arns
    stack.add(KEEP_INLINE, f"{role}-only", {"roleName": role, "policyNames": names}, custom=True)
    stack.add(KEEP_ATTACHED, f"{role}-no-managed", {"roleName": role, "policyArns": arns}, custom=True)
    return stack


def test_a_role_kept_to_exactly_its_declared_policies_passes() -> None:
    assert findings(kept(trainer(Stack()))) == []


def test_a_role_kept_to_an_aws_managed_policy_it_attaches_passes() -> None:
    arn = "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly"
    stack = trainer(Stack(), policy=False)
    stack.add(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "read", {"role": "trainer", "policyArn": arn}, custom=True
    )
    assert findings(kept(stack, names=[], arns=[arn])) == []


def test_a_first_preview_where_the_policy_names_the_role_by_an_output_passes() -> None:
    """`RolePolicy(role=role.id, name="train")`: the grant is judged on every role; its name is one the role may
    be kept to."""
    stack = trainer(Stack(), policy=False)
    stack.add(ROLE_POLICY, "train", {"role": UNKNOWN, "name": "train", "policy": TIGHT}, custom=True, role="trainer")
    assert findings(kept(stack)) == []


# (case, the program, the words the finding on the role must hold)
REFUSED = [
    (
        "a role adopted with import_ and nothing keeping it",
        lambda: trainer(Stack()),
        "aws.iam.RolePoliciesExclusive and aws.iam.RolePolicyAttachmentsExclusive",
    ),
    (
        "its inline policies kept, its managed attachments not",
        lambda: trainer(Stack()).add(
            KEEP_INLINE, "only", {"roleName": "trainer", "policyNames": ["train"]}, custom=True
        ),
        "nothing keeps its managed policy attachments to a list (aws.iam.RolePolicyAttachmentsExclusive)",
    ),
    (
        "kept to an inline policy the stack does not declare (the adopted role's own administrator policy)",
        lambda: kept(trainer(Stack()), names=["train", "admin"]),
        "it is kept to the inline policy 'admin', which the stack does not declare for it",
    ),
    (
        "kept to an inline policy the stack declares for another role",
        lambda: kept(
            trainer(Stack(), policy=False).add(
                ROLE_POLICY, "elsewhere", {"role": "other", "name": "train", "policy": TIGHT}, custom=True
            )
        ),
        "it is kept to the inline policy 'train', which the stack does not declare for it",
    ),
    (
        "kept to inline policy names not known at preview",
        lambda: kept(trainer(Stack()), names=UNKNOWN),
        "the inline policy names it is kept to are not known at preview",
    ),
    (
        "kept to a list of names one of which is not known at preview",
        lambda: kept(trainer(Stack()), names=["train", UNKNOWN]),
        "the inline policy names it is kept to are not known at preview",
    ),
    (
        "an exclusive resource that ignores changes (imported with its list ignored, it never applies it)",
        lambda: _ignoring(kept(trainer(Stack())), "trainer-only", "policyNames"),
        'aws:iam/rolePoliciesExclusive:RolePoliciesExclusive "trainer-only" ignores changes',
    ),
    (
        "the exclusive resources go through a provider of another account",
        lambda: _other_account(kept(trainer(Stack()))),
        "does not provably go to one account",
    ),
]


def _ignoring(stack: Stack, name: str, *properties: str) -> Stack:
    stack.resources[name].opts.ignore_changes = list(properties)
    return stack


def _other_account(stack: Stack) -> Stack:
    stack.add("pulumi:providers:aws", "elsewhere", {"allowedAccountIds": ["999999999999"]})
    stack.add("pulumi:providers:aws", "here", {"allowedAccountIds": ["123456789012"]})
    for name in ("trainer", "train"):
        stack.via(name, "here")
    for name in ("trainer-only", "trainer-no-managed"):
        stack.via(name, "elsewhere")
    return stack


@pytest.mark.parametrize(("case", "build", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_role_not_kept_to_what_the_stack_grants_is_refused(case: str, build, words: str) -> None:
    found = findings(build())
    assert [name for name, _ in found] == ["trainer"], case
    assert words in found[0][1]
    assert "import_" in found[0][1]


def test_each_role_is_judged_on_its_own_lists() -> None:
    """Keeping one role says nothing of another of the stack."""
    stack = kept(trainer(Stack()))
    stack.add(ROLE, "deployer", {"name": "deployer", "assumeRolePolicy": TRUST}, custom=True)
    assert [name for name, _ in findings(stack)] == ["deployer"]


def test_a_group_is_judged_once_the_stack_adds_a_member() -> None:
    stack = Stack().add(GROUP, "admins", {"name": "admins"}, custom=True)
    assert findings(stack) == []  # handed to no one by the stack
    stack.add(USER, "alice", {"name": "alice"}, custom=True)
    stack.add(
        "aws:iam/userGroupMembership:UserGroupMembership", "join", {"user": "alice", "groups": ["admins"]}, custom=True
    )
    [(name, message)] = findings(stack)
    assert name == "admins" and "adds a member to it" in message
    assert "aws.iam.GroupPoliciesExclusive and aws.iam.GroupPolicyAttachmentsExclusive" in message
    stack.add(
        "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive",
        "g1",
        {"groupName": "admins", "policyNames": []},
        custom=True,
    )
    stack.add(
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
        "g2",
        {"groupName": "admins", "policyArns": []},
        custom=True,
    )
    assert findings(stack) == []


def _permission_set(*, inline: bool, customer: bool) -> Stack:
    stack = Stack().add(PERMISSION_SET, "analysts", {"name": "analysts", "arn": SET_ARN}, custom=True)
    stack.add(
        "aws:ssoadmin/accountAssignment:AccountAssignment",
        "assign",
        {"permissionSetArn": SET_ARN, "targetId": "123456789012", "principalId": "g-1"},
        custom=True,
    )
    stack.add(
        "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
        "managed",
        {"permissionSetArn": SET_ARN, "managedPolicyArns": []},
        custom=True,
    )
    if customer:
        stack.add(
            "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:CustomerManagedPolicyAttachmentsExclusive",
            "customer",
            {"permissionSetArn": SET_ARN, "customerManagedPolicyReferences": []},
            custom=True,
        )
    if inline:
        stack.add(
            "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
            "inline",
            {"permissionSetArn": SET_ARN, "inlinePolicy": TIGHT},
            custom=True,
        )
    return stack


def test_an_assigned_permission_set_holds_only_what_the_stack_grants() -> None:
    assert findings(_permission_set(inline=True, customer=True)) == []
    [(name, message)] = findings(_permission_set(inline=False, customer=True))
    assert name == "analysts" and "assigns it" in message
    assert "the stack does not declare its inline policy (aws.ssoadmin.PermissionSetInlinePolicy)" in message
    [(_, message)] = findings(_permission_set(inline=True, customer=False))
    assert "(aws.ssoadmin.CustomerManagedPolicyAttachmentsExclusive)" in message


CREDENTIALS = [
    ("aws:iam/accessKey:AccessKey", {"user": "ci-admin"}, "the user 'ci-admin'"),
    ("aws:iam/userLoginProfile:UserLoginProfile", {"user": "ci-admin"}, "the user 'ci-admin'"),
    ("aws:iam/sshKey:SshKey", {"username": "ci-admin", "encoding": "SSH", "publicKey": "ssh-rsa AAAA"}, "ci-admin"),
    (
        "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
        {"userName": "ci-admin", "serviceName": "codecommit.amazonaws.com"},
        "ci-admin",
    ),
    ("aws:iam/signingCertificate:SigningCertificate", {"userName": "ci-admin", "certificateBody": "x"}, "ci-admin"),
    ("aws:iam/accessKey:AccessKey", {"user": UNKNOWN}, "a user not known at preview"),
]


@pytest.mark.parametrize(("type_", "values", "words"), CREDENTIALS, ids=[c[0].rsplit(":", 1)[1] for c in CREDENTIALS])
def test_every_kind_of_user_credential_is_refused(type_: str, values: dict, words: str) -> None:
    """An existing user, or one the stack declares and keeps: either may be in groups the stack cannot see."""
    stack = Stack().add(USER, "ci", {"name": "ci-admin"}, custom=True).add(type_, "credential", values, custom=True)
    [(name, message)] = findings(stack)
    assert name == "credential" and words in message and "give the workload a role to assume" in message


def test_a_template_credential_is_refused_and_a_template_role_is_not_adopted() -> None:
    """CloudFormation creates what its template declares (never adopts it), but an access key in a template for
    an existing user hands that user out all the same."""
    template = {
        "Resources": {
            "Runner": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "runner", "AssumeRolePolicyDocument": {}}},
            "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": "ci-admin"}},
            "Person": {
                "Type": "AWS::IAM::User",
                "Properties": {"UserName": "person", "LoginProfile": {"Password": "x"}},
            },
        }
    }
    stack = Stack().add(
        "aws:cloudformation/stack:Stack", "cfn", {"name": "cfn", "templateBody": json.dumps(template)}, custom=True
    )
    found = findings(stack)
    assert [name for name, _ in found] == ["cfn", "cfn"]
    assert any("'ci-admin'" in message and "Resources.Key" in message for _, message in found)
    assert any("LoginProfile" in message for _, message in found)
