"""`policies/access/sources.py` and `principals.py`: every grant path joined per principal, every gap named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.access import catalog
from policies.access.algebra import allows, full_access
from policies.access.principals import Model, Resource, collect
from policies.framework import UNKNOWN

SAGEMAKER = catalog.service("sagemaker")
assert SAGEMAKER is not None
HALF = len(SAGEMAKER.actions) // 2
FIRST = {"Statement": [{"Effect": "Allow", "Action": [a.name for a in SAGEMAKER.actions[:HALF]], "Resource": "*"}]}
SECOND = {"Statement": [{"Effect": "Allow", "Action": [a.name for a in SAGEMAKER.actions[HALF:]], "Resource": "*"}]}
MANAGED = "arn:aws:iam::aws:policy/{}"


def resource(type_: str, logical: str, /, **props: Any) -> Resource:
    return Resource(f"urn:pulumi:prod::p::{type_}::{logical}", type_, logical, props)


def full(model: Model, key: str) -> bool:
    return full_access(model.granted(model.principals[key]), "sagemaker") is not None


def test_two_policies_on_one_role_are_one_grant() -> None:
    model = collect(
        [
            resource("aws:iam/role:Role", "r", name="runner"),
            resource("aws:iam/rolePolicy:RolePolicy", "a", role="runner", policy=json.dumps(FIRST)),
            resource("aws:iam/rolePolicy:RolePolicy", "b", role="RUNNER", policy=SECOND),
        ]
    )
    assert model.gaps == []
    assert model.principals["role:runner"].label == 'aws:iam/role:Role "r"'
    assert full(model, "role:runner")


def test_inline_policies_and_a_customer_policy_attached_by_arn() -> None:
    arn = "arn:aws:iam::123456789012:policy/second"
    model = collect(
        [
            resource(
                "aws:iam/role:Role", "r", name="runner", inlinePolicies=[{"name": "one", "policy": json.dumps(FIRST)}]
            ),
            resource("aws:iam/policy:Policy", "p", name="second", policy=json.dumps(SECOND), arn=arn),
            resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "at", role="runner", policyArn=arn),
        ]
    )
    assert model.gaps == []
    assert full(model, "role:runner")
    assert not full_access(
        model.policies[
            model.principals["role:runner"].urn.replace("aws:iam/role:Role::r", "aws:iam/policy:Policy::p")
        ].statements,
        "sagemaker",
    )


@pytest.mark.parametrize(
    ("name", "is_full"),
    [
        ("AdministratorAccess", True),
        ("PowerUserAccess", True),
        # Spares 7 Studio administration types (domain, user-profile, app, space...) through NotResource, and
        # grants every action on every other type: all but a few types is full access (docs/policies.md).
        ("AmazonSageMakerFullAccess", True),
        ("AmazonSageMakerReadOnly", False),
        ("AWSDenyAll", False),
    ],
)
def test_aws_managed_attachments_are_judged_by_their_documents(name: str, is_full: bool) -> None:
    model = collect(
        [
            resource("aws:iam/role:Role", "r", name="runner", managedPolicyArns=[MANAGED.format(name)]),
        ]
    )
    assert model.gaps == []
    assert full(model, "role:runner") is is_full


def test_aws_deny_all_takes_away_what_an_inline_policy_grants() -> None:
    model = collect(
        [
            resource(
                "aws:iam/role:Role",
                "r",
                name="runner",
                managedPolicyArns=[MANAGED.format("AWSDenyAll")],
                inlinePolicies=[
                    {
                        "name": "all",
                        "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                    }
                ],
            ),
        ]
    )
    statements = model.granted(model.principals["role:runner"])
    assert allows(statements, "s3:GetObject", "arn:aws:s3:::b/k") is None
    assert not full(model, "role:runner")


def test_a_user_is_granted_its_groups_policies() -> None:
    model = collect(
        [
            resource("aws:iam/user:User", "u", name="alice"),
            resource("aws:iam/userPolicy:UserPolicy", "up", user="alice", policy=json.dumps(FIRST)),
            resource("aws:iam/group:Group", "g", name="scientists"),
            resource("aws:iam/groupPolicy:GroupPolicy", "gp", group="scientists", policy=json.dumps(SECOND)),
            resource("aws:iam/userGroupMembership:UserGroupMembership", "m", user="alice", groups=["scientists"]),
        ]
    )
    assert full(model, "user:alice")
    assert not full(model, "group:scientists")


def test_sso_permission_sets() -> None:
    arn = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
    model = collect(
        [
            resource("aws:ssoadmin/permissionSet:PermissionSet", "ps", name="scientists", arn=arn),
            resource(
                "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
                "inline",
                permissionSetArn=arn,
                inlinePolicy=json.dumps(FIRST),
            ),
            resource(
                "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
                "managed",
                permissionSetArn=arn,
                managedPolicyArn=MANAGED.format("AdministratorAccess"),
            ),
        ]
    )
    assert model.gaps == []
    assert full(model, f"permission set:{arn.lower()}")


def test_a_customer_managed_reference_is_judged_with_the_stacks_policy_and_is_a_gap_all_the_same() -> None:
    """Identity Center resolves the name in each account the permission set is assigned to."""
    arn = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
    common = [
        resource("aws:ssoadmin/permissionSet:PermissionSet", "ps", name="scientists", arn=arn),
        resource(
            "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment",
            "cm",
            permissionSetArn=arn,
            customerManagedPolicyReference={"name": "wide", "path": "/"},
        ),
    ]
    wide = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}
    model = collect([*common, resource("aws:iam/policy:Policy", "wide", name="wide", policy=json.dumps(wide))])
    assert full(model, f"permission set:{arn.lower()}")
    [gap] = model.gaps
    assert "which IAM Identity Center resolves in every account the permission set is assigned to" in gap.reason
    assert len(collect(common).gaps) == 1


def test_aws_native_roles_and_managed_policies() -> None:
    model = collect(
        [
            resource(
                "aws-native:iam:Role", "r", roleName="runner", policies=[{"policyName": "one", "policyDocument": FIRST}]
            ),
            resource(
                "aws-native:iam:ManagedPolicy", "mp", managedPolicyName="two", policyDocument=SECOND, roles=["runner"]
            ),
        ]
    )
    assert model.gaps == []
    assert full(model, "role:runner")
    native_managed = collect(
        [
            resource(
                "aws-native:iam:Role",
                "r",
                roleName="runner",
                managedPolicyArns=[MANAGED.format("AdministratorAccess")],
            ),
        ]
    )
    assert full(native_managed, "role:runner")


TEMPLATE_YAML = """
Resources:
  Runner:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: one
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sagemaker:*
                Resource: !Sub arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:*
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref Runner]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: "*"
"""


@pytest.mark.parametrize("body", [TEMPLATE_YAML, "json"], ids=["YAML, short intrinsics", "JSON"])
def test_cloudformation_templates_declare_principals(body: str) -> None:
    if body == "json":
        body = json.dumps(
            {
                "Resources": {
                    "Runner": {
                        "Type": "AWS::IAM::Role",
                        "Properties": {
                            "Policies": [
                                {
                                    "PolicyName": "one",
                                    "PolicyDocument": {
                                        "Statement": [
                                            {
                                                "Effect": "Allow",
                                                "Action": "sagemaker:*",
                                                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:*"},
                                            }
                                        ]
                                    },
                                }
                            ]
                        },
                    }
                }
            }
        )
    stack = resource("aws:cloudformation/stack:Stack", "cfn", templateBody=body)
    model = collect([stack])
    assert model.gaps == []
    [key] = model.principals
    assert key == f"role:template:Runner@{stack.urn}"
    assert full(model, key)


@pytest.mark.parametrize(
    ("resources", "reason"),
    [
        (
            # Joining a group not known yet is joining any group, the account's too: unbounded.
            [resource("aws:iam/userGroupMembership:UserGroupMembership", "x", user="u", groups=[UNKNOWN])],
            "groups[0]: which group it joins is not known at preview",
        ),
        (
            [resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "x", role="r", policyArn=UNKNOWN)],
            "policyArn: the policy it attaches is not known at preview",
        ),
        (
            [
                resource(
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "x",
                    role="r",
                    policyArn="arn:aws:iam::123456789012:policy/elsewhere",
                )
            ],
            "policyArn: it attaches arn:aws:iam::123456789012:policy/elsewhere, which is neither",
        ),
        (
            [resource("aws:iam/rolePolicy:RolePolicy", "x", role="r", policy=UNKNOWN)],
            "policy: the document is not known at preview",
        ),
        (
            [
                resource(
                    "aws:iam/rolePolicy:RolePolicy",
                    "x",
                    role="r",
                    policy={"Statement": [{"Effect": "Allow", "Action": UNKNOWN, "Resource": "*"}]},
                )
            ],
            "policy statement 0: its Action is not known at preview",
        ),
        (
            [
                resource(
                    "aws:iam/rolePolicy:RolePolicy",
                    "x",
                    role="r",
                    policy='{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "action": "*", '
                    '"Resource": "*"}]}',
                )
            ],
            "policy: the document repeats 'Action' and 'action'",
        ),
        (
            [resource("aws:cloudformation/stack:Stack", "x", templateUrl="https://example.com/t.json")],
            "templateUrl: the template is given by URL",
        ),
        (
            [resource("aws:iam/role:Role", "x", name="r", managedPolicyArns=[MANAGED.format("NoSuchPolicy")])],
            "is not an AWS-managed policy in the pack's snapshot",
        ),
        (
            [
                Resource(
                    "urn:pulumi:prod::p::pulumi-python:dynamic:Resource::d", "pulumi-python:dynamic:Resource", "d", {}
                )
            ],
            "type: the pack cannot read a pulumi-python:dynamic:Resource resource",
        ),
    ],
    ids=[
        "unknown principal",
        "unknown policy ARN",
        "foreign policy",
        "unknown document",
        "unknown action",
        "ambiguous document",
        "template by URL",
        "not in the snapshot",
        "dynamic resource",
    ],
)
def test_what_cannot_be_decided_is_a_gap(resources: list[Resource], reason: str) -> None:
    gaps = collect(resources).gaps
    assert any(reason in f"{g.what}: {g.reason}" for g in gaps), gaps


def test_readable_types_and_components_are_not_gaps() -> None:
    dynamic = Resource(
        "urn:pulumi:prod::p::pulumi-python:dynamic:Resource::d", "pulumi-python:dynamic:Resource", "d", {}
    )
    component = Resource(
        "urn:pulumi:prod::p::mlpipelines:pipeline:MlPipeline::c",
        "mlpipelines:pipeline:MlPipeline",
        "c",
        {},
        custom=False,
    )
    assert collect([dynamic, component], ["pulumi-python:dynamic:Resource"]).gaps == []


def test_a_grant_to_a_role_outside_the_stack_is_judged_all_the_same() -> None:
    model = collect(
        [
            resource("aws:iam/rolePolicy:RolePolicy", "x", role="admin", policy=json.dumps(FIRST)),
            resource("aws:iam/rolePolicy:RolePolicy", "y", role="admin", policy=json.dumps(SECOND)),
        ]
    )
    principal = model.principals["role:admin"]
    assert principal.label == "role 'admin' (not defined in the stack)"
    assert full(model, "role:admin")


# -- classes an adversarial review found passing, each now blocked -----------------------------------------------
DENY_SAGEMAKER = {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}
ALL = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}


def reasons(model: Model) -> str:
    return "\n".join(f"{g.what}: {g.reason}" for g in model.gaps)


def test_exclusive_sso_attachments_are_read() -> None:
    arn = "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
    model = collect(
        [
            resource("aws:ssoadmin/permissionSet:PermissionSet", "ps", arn=arn),
            resource(
                "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
                "x",
                permissionSetArn=arn,
                managedPolicyArns=[MANAGED.format("AdministratorAccess")],
            ),
        ]
    )
    assert full(model, f"permission set:{arn.lower()}")


@pytest.mark.parametrize(
    "remover",
    [
        resource("aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "x", roleName="runner", policyNames=["work"]),
        resource(
            "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
            "x",
            roleName="runner",
            policyArns=[],
        ),
        resource("aws:iam/rolePolicy:RolePolicy", "again", role="runner", name="guard", policy=json.dumps(ALL)),
    ],
    ids=["policies exclusive", "attachments exclusive", "a second policy of the same name"],
)
def test_a_deny_that_may_be_removed_or_replaced_takes_nothing_away(remover: Resource) -> None:
    model = collect(
        [
            resource("aws:iam/role:Role", "r", name="runner"),
            resource(
                "aws:iam/rolePolicy:RolePolicy", "guard", role="runner", name="guard", policy=json.dumps(DENY_SAGEMAKER)
            ),
            resource("aws:iam/rolePolicy:RolePolicy", "work", role="runner", name="work", policy=json.dumps(ALL)),
            remover,
        ]
    )
    assert full(model, "role:runner")
    without = collect(
        [
            resource("aws:iam/role:Role", "r", name="runner"),
            resource(
                "aws:iam/rolePolicy:RolePolicy", "guard", role="runner", name="guard", policy=json.dumps(DENY_SAGEMAKER)
            ),
            resource("aws:iam/rolePolicy:RolePolicy", "work", role="runner", name="work", policy=json.dumps(ALL)),
        ]
    )
    assert not full(without, "role:runner")  # the Deny counts where nothing can remove it


def test_one_name_through_two_providers_keeps_the_union_and_drops_the_denies() -> None:
    model = collect(
        [
            Resource("urn:a", "aws:iam/role:Role", "a", {"name": "runner"}, provider="urn:provider:prod"),
            Resource(
                "urn:b",
                "aws:iam/rolePolicy:RolePolicy",
                "b",
                {"role": "runner", "policy": json.dumps(ALL)},
                provider="urn:provider:prod",
            ),
            Resource(
                "urn:c",
                "aws:iam/rolePolicy:RolePolicy",
                "c",
                {"role": "runner", "policy": json.dumps(DENY_SAGEMAKER)},
                provider="urn:provider:sandbox",
            ),
        ]
    )
    assert full(model, "role:runner")


def test_a_deny_reads_resource_arns_case_sensitively() -> None:
    shouting = {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "ARN:AWS:SAGEMAKER:*:*:*/*"}]}
    model = collect(
        [
            resource("aws:iam/role:Role", "r", name="runner"),
            resource("aws:iam/rolePolicy:RolePolicy", "a", role="runner", policy=json.dumps(ALL)),
            resource("aws:iam/rolePolicy:RolePolicy", "b", role="runner", policy=json.dumps(shouting)),
        ]
    )
    assert full(model, "role:runner")


def test_joining_a_group_the_stack_does_not_define_is_a_gap() -> None:
    model = collect(
        [
            resource("aws:iam/user:User", "u", name="bot"),
            resource("aws:iam/userGroupMembership:UserGroupMembership", "m", user="bot", groups=["Administrators"]),
        ]
    )
    assert "it joins the group 'Administrators', which the stack does not define" in reasons(model)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}}, "uses Transform 'AWS::Serverless-2016-10-31'"),
        ({"Resources": {"Fn::ForEach::Runners": ["X", ["a"], {}]}}, "Fn::ForEach or another language extension"),
        (
            {"Resources": {"Nested": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "x"}}}},
            "the pack does not read AWS::CloudFormation::Stack",
        ),
        (
            {
                "Resources": {
                    "F": {"Type": "AWS::Serverless::Function", "Properties": {"Policies": ["AdministratorAccess"]}}
                }
            },
            "the pack does not read AWS::Serverless::Function",
        ),
        (
            {"Resources": {"Add": {"Type": "AWS::IAM::UserToGroupAddition", "Properties": {}}}},
            "the pack does not read AWS::IAM::UserToGroupAddition",
        ),
    ],
    ids=["a transform", "Fn::ForEach", "a nested stack", "SAM", "an IAM type not read"],
)
def test_templates_that_can_declare_iam_the_reader_skips_are_gaps(body: dict[str, Any], words: str) -> None:
    model = collect([resource("aws:cloudformation/stack:Stack", "s", templateBody=json.dumps(body))])
    assert words in reasons(model)


def test_a_stack_set_template_is_read_and_a_named_template_role_is_the_same_role() -> None:
    template = {
        "Resources": {
            "Runner": {
                "Type": "AWS::IAM::Role",
                "Properties": {"RoleName": "ml-runner", "Policies": [{"PolicyName": "a", "PolicyDocument": FIRST}]},
            }
        }
    }
    model = collect(
        [
            resource("aws-native:cloudformation:StackSet", "s", templateBody=json.dumps(template)),
            resource("aws:iam/rolePolicy:RolePolicy", "b", role="ml-runner", policy=json.dumps(SECOND)),
        ]
    )
    assert full(model, "role:ml-runner")


def test_an_alias_bomb_is_a_quick_gap() -> None:
    lines = [
        "Resources:",
        "  R:",
        "    Type: AWS::IAM::Role",
        "    Properties:",
        "      Policies:",
        "        - PolicyName: p",
        "          PolicyDocument:",
        "            l0: &l0 [s3:GetObject]",
    ]
    for level in range(1, 12):
        lines.append(f"            l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    lines.append("            Statement: [{Effect: Allow, Action: *l11, Resource: '*'}]")
    model = collect([resource("aws:cloudformation/stack:Stack", "s", templateBody="\n".join(lines))])
    assert "more values than the pack reads once its YAML aliases are expanded" in reasons(model)


@pytest.mark.parametrize(
    "type_",
    [
        "aws:ssoadmin/accountAssignment:AccountAssignment",
        "aws:identitystore/groupMembership:GroupMembership",
        "aws:iam/rolePolicyAttachments:NoSuchYet",
        "aws-native:sso:Assignment",
    ],
)
def test_types_of_grant_modules_the_reader_does_not_know_are_gaps(type_: str) -> None:
    model = collect([resource(type_, "x", permissionSetArn="arn:aws:sso:::permissionSet/ssoins-1/ps-9")])
    assert reasons(model)


# -- a third review's classes -------------------------------------------------------------------------------------
def test_a_cloud_control_resource_is_read_as_the_resource_it_declares() -> None:
    state = {"RoleName": "ml-admin", "Policies": [{"PolicyName": "p", "PolicyDocument": ALL}]}
    model = collect(
        [resource("aws:cloudcontrol/resource:Resource", "r", typeName="AWS::IAM::Role", desiredState=json.dumps(state))]
    )
    assert full(model, "role:ml-admin")
    other = collect(
        [resource("aws:cloudcontrol/resource:Resource", "x", typeName="AWS::SSO::PermissionSet", desiredState="{}")]
    )
    assert "the pack does not read AWS::SSO::PermissionSet" in reasons(other)


@pytest.mark.parametrize(
    ("resources", "words"),
    [
        (
            {
                "Placeholder": {"Type": "AWS::SNS::Topic"},
                "Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/roles.json"}},
            },
            "content with Fn::Transform",
        ),
        (
            {"Admin": {"Type": "AWS::IAM::Role", "Properties": {"Fn::Transform": {"Name": "AWS::Include"}}}},
            "an intrinsic in their place",
        ),
        ({"Admin": {"Properties": {"RoleName": "x"}}}, "without a literal Type"),
        ({"Admin": {"Type": "Acme::Platform::AdminRole::MODULE", "Properties": {}}}, "is not an AWS resource type"),
        ({"Admin": {"Type": "Custom::Anything", "Properties": {"ServiceToken": "arn"}}}, "is not an AWS resource type"),
    ],
    ids=["AWS::Include", "properties by transform", "no Type", "a module", "a custom resource"],
)
def test_template_constructs_the_reader_cannot_follow_are_gaps(resources: dict[str, Any], words: str) -> None:
    model = collect(
        [resource("aws:cloudformation/stack:Stack", "s", templateBody=json.dumps({"Resources": resources}))]
    )
    assert words in reasons(model)


@pytest.mark.parametrize("carrier", ["aws:cloudformation/stackSet:StackSet", "aws:cloudformation/stack:Stack"])
def test_a_template_deny_never_takes_anything_away(carrier: str) -> None:
    template = {
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "D": {
                "Type": "AWS::IAM::RolePolicy",
                "Condition": "Never",
                "Properties": {"RoleName": "ml-admin", "PolicyName": "guard", "PolicyDocument": DENY_SAGEMAKER},
            }
        },
    }
    model = collect(
        [
            resource("aws:iam/role:Role", "r", name="ml-admin"),
            resource("aws:iam/rolePolicy:RolePolicy", "p", role="ml-admin", policy=json.dumps(ALL)),
            resource(carrier, "guard", templateBody=json.dumps(template)),
        ]
    )
    assert full(model, "role:ml-admin")


def test_a_roles_own_exclusive_lists_keep_their_denies_and_drop_others() -> None:
    inline = [{"name": "allow", "policy": json.dumps(ALL)}]
    outside = collect(
        [
            resource("aws:iam/role:Role", "r", name="ml-admin", inlinePolicies=inline),
            resource("aws:iam/rolePolicy:RolePolicy", "guard", role="ml-admin", policy=json.dumps(DENY_SAGEMAKER)),
        ]
    )
    assert full(outside, "role:ml-admin")  # the provider removes the RolePolicy the role's list does not hold
    listed = collect(
        [
            resource(
                "aws:iam/role:Role",
                "r",
                name="ml-admin",
                inlinePolicies=[*inline, {"name": "guard", "policy": json.dumps(DENY_SAGEMAKER)}],
            ),
        ]
    )
    assert not full(listed, "role:ml-admin")


def test_service_catalog_products_are_gaps() -> None:
    model = collect([resource("aws:servicecatalog/provisionedProduct:ProvisionedProduct", "p", productId="prod-1")])
    assert "the pack does not read aws:servicecatalog/provisionedProduct:ProvisionedProduct" in reasons(model)


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-isob-east-1", "aws-iso-b"),
        (None, "aws"),
    ],
)
def test_the_stacks_partition_comes_from_its_providers_region(region: str | None, partition: str) -> None:
    model = collect([resource("pulumi:providers:aws", "default", **({"region": region} if region else {}))])
    assert model.partitions == {partition}


def test_a_deny_for_another_partition_takes_nothing_away() -> None:
    deny = {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "arn:aws:sagemaker:*"}]}
    grant = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "arn:aws-cn:sagemaker:*"}]}
    statements = [*parse_all(grant), *parse_all(deny)]
    assert full_access(statements, "sagemaker", {"aws-cn"}) is not None
    assert full_access(statements, "sagemaker", {"aws"}) is None


def parse_all(document: dict[str, Any]) -> list[Any]:
    from policies.access.document import parse

    return parse(document, "d")
