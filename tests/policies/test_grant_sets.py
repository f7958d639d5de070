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
from tests.policies.rules import trust

ROLE, GROUP, USER = "aws:iam/role:Role", "aws:iam/group:Group", "aws:iam/user:User"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEEP_INLINE = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
KEEP_ATTACHED = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
PERMISSION_SET = "aws:ssoadmin/permissionSet:PermissionSet"
SET_ARN = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
TRUST = trust("sagemaker.amazonaws.com")
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


# The attacker review of this rule (each row got hidden grants past it before its fix).
def _decoy_named(stack: Stack) -> Stack:
    """A second role, created, whose RolePolicy `admin` names it by an output at a first preview: the name must
    not count for `trainer`, kept to `admin` (its own, held before adoption)."""
    stack.add(ROLE, "decoy", {"name": "decoy", "assumeRolePolicy": TRUST}, custom=True)
    values = {"role": UNKNOWN, "name": "admin", "policy": TIGHT}
    stack.add(ROLE_POLICY, "decoy-admin", values, custom=True, role="decoy")
    return kept(stack, names=["admin"], role="decoy")


def _template(stack: Stack, resources: dict) -> Stack:
    body = json.dumps({"Conditions": {"Never": {"Fn::Equals": ["a", "b"]}}, "Resources": resources})
    return stack.add("aws:cloudformation/stack:Stack", "cfn", {"name": "cfn", "templateBody": body}, custom=True)


def _reparent(stack: Stack, name: str, parent_type: str) -> Stack:
    resource = stack.resources[name]
    resource.urn = resource.urn.replace("::aws:iam/role:Role::", f"::{parent_type}$aws:iam/role:Role::")
    return stack


def _endpoint(stack: Stack) -> Stack:
    stack.add("pulumi:providers:aws", "here", {"allowedAccountIds": ["123456789012"]})
    elsewhere = {"allowedAccountIds": ["123456789012"], "endpoints": [{"iam": "https://iam.example.net"}]}
    stack.add("pulumi:providers:aws", "elsewhere", elsewhere)
    for name in ("trainer", "train"):
        stack.via(name, "here")
    for name in ("trainer-only", "trainer-no-managed"):
        stack.via(name, "elsewhere")
    return stack


REVIEWED = [
    (
        "a parent of a CloudFormation-like type (the URN holds it) does not make the role a template's",
        lambda: Stack().add(ROLE, "trainer", {"name": "trainer", "assumeRolePolicy": TRUST}, custom=True),
        lambda stack: _reparent(stack, "trainer", "AWS:CloudFormation:Wrapper"),
        "nothing keeps its inline policies to a list",
    ),
    (
        "a template namesake never created leaves the program's role the program's",
        lambda: trainer(Stack()),
        lambda stack: _template(
            stack,
            {"R": {"Type": "AWS::IAM::Role", "Condition": "Never", "Properties": {"RoleName": "trainer"}}},
        ),
        "nothing keeps its inline policies to a list",
    ),
    (
        "a keep-list name only a template writes (under a Condition never met) is not declared",
        lambda: kept(trainer(Stack()), names=["train", "admin"]),
        lambda stack: _template(
            stack,
            {
                "P": {
                    "Type": "AWS::IAM::RolePolicy",
                    "Condition": "Never",
                    "Properties": {"RoleName": "trainer", "PolicyName": "admin", "PolicyDocument": {}},
                }
            },
        ),
        "it is kept to the inline policy 'admin', which the stack does not declare for it",
    ),
    (
        "a keep-list name written to another role by an output at a first preview is not declared",
        lambda: kept(trainer(Stack()), names=["train", "admin"]),
        _decoy_named,
        "it is kept to the inline policy 'admin', which the stack does not declare for it",
    ),
    (
        "lists sent through a provider of the account whose IAM endpoint is elsewhere",
        lambda: kept(trainer(Stack())),
        _endpoint,
        "does not provably go to one account",
    ),
    (
        "a list naming the role by an ARN, which roleName refuses at pulumi up",
        lambda: trainer(Stack()),
        lambda stack: kept(stack, role="arn:aws:iam::123456789012:role/trainer"),
        "names it by an ARN",
    ),
]


@pytest.mark.parametrize(("case", "build", "vary", "words"), REVIEWED, ids=[r[0] for r in REVIEWED])
def test_what_the_attacker_review_found_is_refused(case: str, build, vary, words: str) -> None:
    found = findings(vary(build()))
    assert any(words in message for _, message in found), case


def test_a_role_created_alongside_passes_at_a_first_preview() -> None:
    """`role_name=role.name` of a role named by an output, and a RolePolicy on `role.id`: unknown only because the
    role is being created (an adopted one is read at preview), so its lists count for it."""
    stack = Stack().add(ROLE, "trainer", {"name": UNKNOWN, "assumeRolePolicy": TRUST}, custom=True)
    values = {"role": UNKNOWN, "name": "train", "policy": TIGHT}
    stack.add(ROLE_POLICY, "train", values, custom=True, role="trainer")
    keep = {"roleName": UNKNOWN, "policyNames": ["train"]}
    stack.add(KEEP_INLINE, "only", keep, custom=True, roleName="trainer")
    stack.add(KEEP_ATTACHED, "none", {"roleName": UNKNOWN, "policyArns": []}, custom=True, roleName="trainer")
    assert findings(stack) == []
    # The same lists built from another resource as well may name another role: they count for none.
    stack.add(ROLE, "other", {"name": "other", "assumeRolePolicy": TRUST}, custom=True)
    stack.resources["only"].property_dependencies["roleName"].append(stack.resources["other"])
    assert [name for name, _ in findings(stack)] == ["other", "trainer"]


def test_a_permission_set_kept_by_its_arn_not_known_yet_counts_where_built_from_it_alone() -> None:
    """Lists and the inline policy on `permission_set.arn` (unknown while the set is created): they count for the
    set they are built from alone, and for none when built from another resource too (they may name another)."""
    stack = Stack().add(PERMISSION_SET, "analysts", {"name": "analysts", "arn": SET_ARN}, custom=True)
    assign = {"permissionSetArn": SET_ARN, "targetId": "123456789012", "principalId": "g-1"}
    stack.add("aws:ssoadmin/accountAssignment:AccountAssignment", "assign", assign, custom=True)
    lists = (
        ("aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive", "m", "managedPolicyArns"),
        (
            "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:CustomerManagedPolicyAttachmentsExclusive",
            "c",
            "customerManagedPolicyReferences",
        ),
    )
    for type_, name, key in lists:
        stack.add(type_, name, {"permissionSetArn": UNKNOWN, key: []}, custom=True, permissionSetArn="analysts")
    inline = {"permissionSetArn": UNKNOWN, "inlinePolicy": TIGHT}
    inline_type = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
    stack.add(inline_type, "i", inline, custom=True, permissionSetArn="analysts")
    assert findings(stack) == []
    stack.add(PERMISSION_SET, "decoy", {"name": "decoy", "arn": SET_ARN + "-2"}, custom=True)
    stack.resources["i"].property_dependencies["permissionSetArn"].append(stack.resources["decoy"])
    [(name, message)] = findings(stack)
    assert name == "analysts" and "the stack does not declare its inline policy" in message


def test_a_console_password_of_an_aws_native_user_is_refused() -> None:
    values = {"userName": "ci-admin", "loginProfile": {"password": "x"}}
    [(name, message)] = findings(Stack().add("aws-native:iam:User", "person", values, custom=True))
    assert name == "person" and "creates a credential of the user 'ci-admin'" in message
