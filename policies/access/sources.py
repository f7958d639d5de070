"""Where a stack's resources put identity grants, read from their properties (camelCase, as the engine sends).

Each resource is read into `Item`s: a principal it declares (a role, user, group or SSO permission set), a
document it grants to a principal (named by its name or ARN), an attachment of a managed policy, a group
membership, or a gap (a value not known at preview, a template given by URL, a type the pack cannot read).
`principals.py` joins them per principal. Types read:

- `aws:iam/*` (pulumi_aws): roles, users, groups with their inline and managed policies, `*Policy`,
  `Policy`, every kind of attachment, group memberships.
- `aws:ssoadmin/*`: permission set inline policies, AWS- and customer-managed attachments.
- `aws-native:iam:*`, `aws-native:sso:PermissionSet` (pulumi-aws-native): the same, CloudFormation-shaped.
- `aws:cloudformation/stack:Stack`, `aws:cloudformation/stackSet:StackSet`, `aws-native:cloudformation:Stack`:
  the `AWS::IAM::*` resources of a template given inline (JSON or YAML); a template given by URL is a gap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..framework import UNKNOWN
from .properties import BEYOND, TemplateLoader, key_of, normal_path, role_properties, role_values, walk

ROLE, USER, GROUP, PERMISSION_SET = "role", "user", "group", "permission set"
MANAGED_POLICY = "aws:iam/policy:Policy"


@dataclass(frozen=True)
class Ref:
    """A principal or managed policy as the resource names it: `kind` and a name, ARN or template id."""

    kind: str
    key: Any
    """A string, or UNKNOWN at preview."""
    where: str
    """The property that names it, e.g. `role` or `Roles[0]`."""


@dataclass
class Item:
    what: str
    """`principal`, `document`, `trust` (a role's trust policy), `attachment`, `membership`, `exclusive` (a
    resource that removes what it does not list), `assignment` (a permission set handed out) or `gap`."""
    where: str
    principal: Ref | None = None
    document: Any = None
    policy_arn: Any = None
    name: str | None = None
    """A principal's or managed policy's own name (for `principal` and managed-policy `document` items)."""
    groups: list[Ref] = field(default_factory=list)
    reason: str = ""


SELF = "self:"
"""The key of a principal whose name is not known yet, in the resource that declares it: its URN stands in."""


def _own_name(value: Any) -> str:
    return value if isinstance(value, str) else SELF


def _list(value: Any) -> list[Any]:
    if value is UNKNOWN:
        return [UNKNOWN]
    return value if isinstance(value, list) else ([] if value is None else [value])


# -- pulumi_aws ---------------------------------------------------------------------------------------------
_AWS_PRINCIPALS = {"aws:iam/role:Role": ROLE, "aws:iam/user:User": USER, "aws:iam/group:Group": GROUP}
_AWS_INLINE = {
    "aws:iam/rolePolicy:RolePolicy": (ROLE, "role"),
    "aws:iam/userPolicy:UserPolicy": (USER, "user"),
    "aws:iam/groupPolicy:GroupPolicy": (GROUP, "group"),
}
_AWS_ATTACH = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (ROLE, "role"),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": (USER, "user"),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": (GROUP, "group"),
}
_AWS_EXCLUSIVE = {
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (ROLE, "roleName"),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": (USER, "userName"),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": (GROUP, "groupName"),
}


def _aws(type_: str, props: dict[str, Any]) -> Iterator[Item]:
    if type_ in _AWS_PRINCIPALS:
        kind = _AWS_PRINCIPALS[type_]
        me = Ref(kind, _own_name(props.get("name")), "name")
        yield Item("principal", "name", principal=me)
        if "inlinePolicies" in props or "managedPolicyArns" in props:
            # Set on the role, they are exclusive: the provider removes the policies they do not list.
            yield Item("exclusive-self", "inlinePolicies/managedPolicyArns", principal=me)
        if "assumeRolePolicy" in props:
            yield Item("trust", "assumeRolePolicy", principal=me, document=props["assumeRolePolicy"])
        inline = props.get("inlinePolicies")
        for index, entry in enumerate(_list(inline)):
            where = f"inlinePolicies[{index}]"
            if entry is UNKNOWN:
                yield Item("document", where, principal=me, document=UNKNOWN)
            elif isinstance(entry, dict) and entry.get("policy") is not None:
                label = entry.get("name")
                where += f" ({label})" if isinstance(label, str) else ""
                name = label if isinstance(label, str) else None
                yield Item("document", where, me, entry["policy"], name=name)
        if "managedPolicyArns" in props:
            for index, arn in enumerate(_list(props["managedPolicyArns"])):
                yield Item("attachment", f"managedPolicyArns[{index}]", principal=me, policy_arn=arn)
    elif type_ in _AWS_INLINE:
        kind, key = _AWS_INLINE[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        name = props.get("name") if isinstance(props.get("name"), str) else None
        yield Item("document", "policy", principal=who, document=props.get("policy", UNKNOWN), name=name)
    elif type_ == MANAGED_POLICY:
        yield Item("document", "policy", document=props.get("policy", UNKNOWN), name=_policy_name(props))
    elif type_ in _AWS_ATTACH:
        kind, key = _AWS_ATTACH[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        yield Item("attachment", "policyArn", principal=who, policy_arn=props.get("policyArn", UNKNOWN))
    elif type_ in _AWS_EXCLUSIVE:
        kind, key = _AWS_EXCLUSIVE[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        for index, arn in enumerate(_list(props.get("policyArns"))):
            yield Item("attachment", f"policyArns[{index}]", principal=who, policy_arn=arn)
    elif type_ == "aws:iam/policyAttachment:PolicyAttachment":
        arn = props.get("policyArn", UNKNOWN)
        for kind, key in ((ROLE, "roles"), (USER, "users"), (GROUP, "groups")):
            for index, name in enumerate(_list(props.get(key))):
                yield Item("attachment", "policyArn", principal=Ref(kind, name, f"{key}[{index}]"), policy_arn=arn)
    elif type_ == "aws:iam/userGroupMembership:UserGroupMembership":
        groups = [Ref(GROUP, g, f"groups[{i}]") for i, g in enumerate(_list(props.get("groups")))]
        yield Item("membership", "groups", principal=Ref(USER, props.get("user", UNKNOWN), "user"), groups=groups)
    elif type_ == "aws:iam/groupMembership:GroupMembership":
        group = Ref(GROUP, props.get("group", UNKNOWN), "group")
        for index, user in enumerate(_list(props.get("users"))):
            yield Item("membership", f"users[{index}]", principal=Ref(USER, user, f"users[{index}]"), groups=[group])


def _sso(type_: str, props: dict[str, Any]) -> Iterator[Item]:
    who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
    if type_ == "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive":
        for index, arn in enumerate(_list(props.get("managedPolicyArns"))):
            yield Item("attachment", f"managedPolicyArns[{index}]", principal=who, policy_arn=arn)
    elif type_ == "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:CustomerManagedPolicyAttachmentsExclusive":
        for index, ref in enumerate(_list(props.get("customerManagedPolicyReferences"))):
            where = f"customerManagedPolicyReferences[{index}]"
            yield Item("attachment", where, principal=who, policy_arn=_customer_ref(ref))
    elif type_ == "aws:ssoadmin/accountAssignment:AccountAssignment":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        yield Item("assignment", "permissionSetArn", principal=who)
    elif type_ == "aws:ssoadmin/permissionSet:PermissionSet":
        yield Item("principal", "arn", principal=Ref(PERMISSION_SET, _own_name(props.get("arn")), "arn"))
    elif type_ == "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        yield Item("document", "inlinePolicy", principal=who, document=props.get("inlinePolicy", UNKNOWN))
    elif type_ == "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        yield Item("attachment", "managedPolicyArn", principal=who, policy_arn=props.get("managedPolicyArn", UNKNOWN))
    elif type_ == "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        reference = props.get("customerManagedPolicyReference")
        yield Item("attachment", "customerManagedPolicyReference", principal=who, policy_arn=_customer_ref(reference))


def _policy_name(props: dict[str, Any]) -> str | None:
    name = props.get("name")
    return name if isinstance(name, str) else None


def _customer_ref(reference: Any) -> Any:
    """A customer-managed policy named in the permission set's accounts: `policy:<path><name>`."""
    if reference is UNKNOWN or not isinstance(reference, dict):
        return UNKNOWN
    name, path = reference.get("name"), reference.get("path") or "/"
    if not isinstance(name, str) or not isinstance(path, str):
        return UNKNOWN
    return f"policy-name:{path}{name}"


# -- pulumi-aws-native (CloudFormation-shaped, camelCase) ---------------------------------------------------
_NATIVE_PRINCIPALS = {
    "aws-native:iam:Role": (ROLE, "roleName"),
    "aws-native:iam:User": (USER, "userName"),
    "aws-native:iam:Group": (GROUP, "groupName"),
}
_NATIVE_INLINE = {
    "aws-native:iam:RolePolicy": (ROLE, "roleName"),
    "aws-native:iam:UserPolicy": (USER, "userName"),
    "aws-native:iam:GroupPolicy": (GROUP, "groupName"),
}


def _native(type_: str, props: dict[str, Any]) -> Iterator[Item]:
    if type_ in _NATIVE_PRINCIPALS:
        kind, key = _NATIVE_PRINCIPALS[type_]
        me = Ref(kind, _own_name(props.get(key)), key)
        yield Item("principal", key, principal=me)
        if "assumeRolePolicyDocument" in props:
            yield Item("trust", "assumeRolePolicyDocument", principal=me, document=props["assumeRolePolicyDocument"])
        yield from _cfn_shaped(props, me, "policies", "policyName", "policyDocument", "managedPolicyArns")
        if type_ == "aws-native:iam:User":
            groups = [Ref(GROUP, g, f"groups[{i}]") for i, g in enumerate(_list(props.get("groups")))]
            if groups:
                yield Item("membership", "groups", principal=me, groups=groups)
    elif type_ in _NATIVE_INLINE:
        kind, key = _NATIVE_INLINE[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        yield Item("document", "policyDocument", principal=who, document=props.get("policyDocument", UNKNOWN))
    elif type_ == "aws-native:iam:ManagedPolicy":
        name = props.get("managedPolicyName")
        doc = props.get("policyDocument", UNKNOWN)
        yield Item("document", "policyDocument", document=doc, name=name if isinstance(name, str) else None)
        for kind, key in ((ROLE, "roles"), (USER, "users"), (GROUP, "groups")):
            for index, who in enumerate(_list(props.get(key))):
                yield Item("document", "policyDocument", principal=Ref(kind, who, f"{key}[{index}]"), document=doc)
    elif type_ == "aws-native:sso:PermissionSet":
        me = Ref(PERMISSION_SET, _own_name(props.get("permissionSetArn")), "permissionSetArn")
        yield Item("principal", "name", principal=me)
        if props.get("inlinePolicy") is not None:
            yield Item("document", "inlinePolicy", principal=me, document=props["inlinePolicy"])
        for index, arn in enumerate(_list(props.get("managedPolicies"))):
            yield Item("attachment", f"managedPolicies[{index}]", principal=me, policy_arn=arn)
        for index, ref in enumerate(_list(props.get("customerManagedPolicyReferences"))):
            where = f"customerManagedPolicyReferences[{index}]"
            yield Item("attachment", where, principal=me, policy_arn=_customer_ref(ref))


def _cfn_shaped(
    props: dict[str, Any], me: Ref, policies: str, name_key: str, document_key: str, managed: str
) -> Iterator[Item]:
    for index, entry in enumerate(_list(props.get(policies))):
        where = f"{policies}[{index}]"
        if entry is UNKNOWN or not isinstance(entry, dict):
            yield Item("document", where, principal=me, document=UNKNOWN if entry is UNKNOWN else entry)
            continue
        label = entry.get(name_key)
        where += f" ({label})" if isinstance(label, str) else ""
        yield Item("document", where, principal=me, document=entry.get(document_key, UNKNOWN))
    for index, arn in enumerate(_list(props.get(managed))):
        yield Item("attachment", f"{managed}[{index}]", principal=me, policy_arn=arn)


# -- CloudFormation templates -------------------------------------------------------------------------------
class _TooLarge(Exception):
    """A template whose values, YAML aliases expanded, exceed what the pack reads."""


_BUDGET = 200_000
"""Values read from one template, aliases expanded: far above any real template, far below an alias bomb."""


def _approximate(value: Any, budget: list[int]) -> Any:
    """A document's intrinsic functions as wildcards: `!Sub arn:${AWS::Partition}:s3:::${Bucket}/*` reads as
    `arn:*:s3:::*/*`, a `!Ref` or `!GetAtt` as `*`. Wider than what CloudFormation would write (fail closed).
    `budget` counts the values read: a YAML alias repeated inside aliases cannot make this exponential."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                return re.sub(r"\$\{[^}]*\}", "*", text) if isinstance(text, str) else "*"
            if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2 and isinstance(inner[1], list):
                parts = [_approximate(p, budget) for p in inner[1]]
                return str(inner[0]).join(p if isinstance(p, str) else "*" for p in parts)
            if key == "Ref" or key.startswith("Fn::"):
                return "*"
        return {k: _approximate(v, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_approximate(v, budget) for v in value]
    return value


_CFN_PRINCIPALS = {
    "AWS::IAM::Role": (ROLE, "RoleName"),
    "AWS::IAM::User": (USER, "UserName"),
    "AWS::IAM::Group": (GROUP, "GroupName"),
}
_CFN_INLINE = {
    "AWS::IAM::RolePolicy": (ROLE, "RoleName"),
    "AWS::IAM::UserPolicy": (USER, "UserName"),
    "AWS::IAM::GroupPolicy": (GROUP, "GroupName"),
}
_CFN_HARMLESS = frozenset(
    {
        "AWS::IAM::OIDCProvider",
        "AWS::IAM::SAMLProvider",
        "AWS::IAM::ServerCertificate",
        "AWS::IAM::VirtualMFADevice",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::ServiceLinkedRole",
        "AWS::IAM::AccessKey",
    }
)
_CFN_OPAQUE = (
    "AWS::IAM::",
    "AWS::SSO::",
    "AWS::IdentityStore::",
    "AWS::Organizations::",
    "AWS::CloudFormation::",
    "AWS::Serverless::",
    "AWS::ServiceCatalog::",
)
"""Types that can grant identity permissions, or declare more resources, that the reader does not read."""


def _template_ref(kind: str, value: Any, where: str, keys: dict[str, str]) -> Ref:
    """A principal or policy a template names: `!Ref Logical` is the template's own resource (its literal name
    when it sets one, else `template:Logical`); a literal string is a name."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in keys:
        return Ref(kind, keys[value["Ref"]], where)
    if isinstance(value, str):
        return Ref(kind, value, where)
    return Ref(kind, UNKNOWN, where)


def _intrinsic_only(properties: dict[str, Any]) -> bool:
    return len(properties) == 1 and next(iter(properties)).startswith("Fn::")


def _load_template(body: str) -> Any:
    if body.lstrip().startswith("{"):
        return json.loads(body)
    return yaml.load(body, Loader=TemplateLoader)  # a SafeLoader subclass


def template(props: dict[str, Any]) -> Iterator[Item]:
    body = props.get("templateBody")
    if body is None:
        url = props.get("templateUrl")
        if url is not None:
            yield Item(
                "gap",
                "templateUrl",
                reason="the template is given by URL, so the pack cannot read the IAM "
                "resources it declares; give it inline as templateBody",
            )
        return
    if body is UNKNOWN or not isinstance(body, str):
        yield Item("gap", "templateBody", reason="the template is not known at preview")
        return
    try:
        parsed = _load_template(body)
        yield from _template_items(parsed)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        yield Item("gap", "templateBody", reason=f"the template cannot be read ({str(exc).splitlines()[0][:80]})")
    except _TooLarge:
        yield Item(
            "gap",
            "templateBody",
            reason="the template holds more values than the pack reads once its YAML aliases are expanded",
        )


def _transforms(value: Any) -> bool:
    """Whether `Fn::Transform` (an AWS::Include or a macro) stands anywhere in the template."""
    return any(where.rsplit(".", 1)[-1] == "Fn::Transform" or inner is BEYOND for where, inner in walk(value))


def _template_gaps(parsed: Any) -> Iterator[Item]:
    """What in a template can declare IAM out of the reader's sight, whatever its resources."""
    if isinstance(parsed, dict) and parsed.get("Transform") is not None:
        yield Item(
            "gap",
            "templateBody Transform",
            reason=f"the template uses Transform {parsed['Transform']!r}: a "
            "transform or macro can declare IAM the pack cannot see; expand it before deploying",
        )
    if _transforms(parsed):
        yield Item(
            "gap",
            "templateBody Fn::Transform",
            reason="the template includes content with Fn::Transform (AWS::Include or a macro), which can declare "
            "IAM the pack cannot see; inline it",
        )


def _template_keys(resources: dict[str, Any]) -> dict[str, str]:
    """Logical id -> how the model keys it: a principal's literal name (so that it meets the same name
    elsewhere in the stack), else `template:<id>`."""
    keys: dict[str, str] = {}
    for logical, resource in resources.items():
        if isinstance(resource, dict) and resource.get("Type") in _CFN_PRINCIPALS:
            _, name_key = _CFN_PRINCIPALS[resource["Type"]]
            properties = resource.get("Properties")
            name = properties.get(name_key) if isinstance(properties, dict) else None
            keys[logical] = name if isinstance(name, str) else f"template:{logical}"
        elif isinstance(resource, dict) and resource.get("Type") == "AWS::IAM::ManagedPolicy":
            keys[logical] = f"template:{logical}"
    return keys


def _template_items(parsed: Any) -> Iterator[Item]:
    budget = [_BUDGET]
    yield from _template_gaps(parsed)
    resources = parsed.get("Resources") if isinstance(parsed, dict) else None
    if not isinstance(resources, dict):
        return
    keys = _template_keys(resources)
    for logical, resource in resources.items():
        where = f"templateBody Resources.{logical}"
        if not isinstance(resource, dict):
            yield Item(
                "gap",
                where,
                reason="not a resource the pack reads (Fn::ForEach or another language "
                "extension): it can declare IAM the pack cannot see",
            )
            continue
        kind_type, properties = resource.get("Type"), resource.get("Properties") or {}
        if not isinstance(kind_type, str) or not isinstance(properties, dict) or _intrinsic_only(properties):
            yield Item(
                "gap",
                where,
                reason="a resource without a literal Type and Properties (an intrinsic in their place), which can "
                "declare IAM the pack cannot see",
            )
            continue
        where += f" ({kind_type})"
        if not kind_type.startswith("AWS::"):
            yield Item(
                "gap",
                where,
                reason=f"{kind_type} is not an AWS resource type (a module, a custom resource or a third-party "
                "type): what it declares or runs cannot be read",
            )
            continue
        if kind_type in _CFN_PRINCIPALS:
            kind, _name_key = _CFN_PRINCIPALS[kind_type]
            me = Ref(kind, keys[logical], where)
            yield Item("principal", where, principal=me)
            if properties.get("AssumeRolePolicyDocument") is not None:
                doc = _approximate(properties["AssumeRolePolicyDocument"], budget)
                yield Item("trust", f"{where} AssumeRolePolicyDocument", principal=me, document=doc)
            for index, entry in enumerate(_list(properties.get("Policies"))):
                doc = _approximate(entry.get("PolicyDocument", UNKNOWN), budget) if isinstance(entry, dict) else UNKNOWN
                yield Item("document", f"{where} Policies[{index}]", principal=me, document=doc)
            for index, arn in enumerate(_list(properties.get("ManagedPolicyArns"))):
                arn = _template_ref("policy", arn, where, keys).key
                yield Item("attachment", f"{where} ManagedPolicyArns[{index}]", principal=me, policy_arn=arn)
            if kind_type == "AWS::IAM::User":
                groups = [_template_ref(GROUP, g, f"{where} Groups", keys) for g in _list(properties.get("Groups"))]
                if groups:
                    yield Item("membership", where, principal=me, groups=groups)
        elif kind_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            doc = _approximate(properties.get("PolicyDocument", UNKNOWN), budget)
            if kind_type == "AWS::IAM::ManagedPolicy":
                yield Item("document", where, document=doc, name=f"template:{logical}")
            for kind, key in ((ROLE, "Roles"), (USER, "Users"), (GROUP, "Groups")):
                for value in _list(properties.get(key)):
                    who = _template_ref(kind, value, f"{where} {key}", keys)
                    yield Item("document", where, principal=who, document=doc)
        elif kind_type in _CFN_INLINE:
            kind, key = _CFN_INLINE[kind_type]
            doc = _approximate(properties.get("PolicyDocument", UNKNOWN), budget)
            who = _template_ref(kind, properties.get(key), f"{where} {key}", keys)
            yield Item("document", where, principal=who, document=doc)
        elif kind_type.startswith(_CFN_OPAQUE) and kind_type not in _CFN_HARMLESS:
            yield Item(
                "gap",
                where,
                reason=f"the pack does not read {kind_type}, which can grant identity "
                "permissions or declare more resources; declare them as Pulumi resources instead",
            )


def _cloud_control(props: dict[str, Any]) -> Iterator[Item]:
    """A Cloud Control resource (`typeName`, `desiredState` JSON) is read as a template of that one resource."""
    type_name, state = props.get("typeName", UNKNOWN), props.get("desiredState", UNKNOWN)
    if not isinstance(type_name, str) or not isinstance(state, str):
        yield Item("gap", "desiredState", reason="its type or desired state is not known at preview")
        return
    try:
        properties = json.loads(state)
    except ValueError:
        yield Item("gap", "desiredState", reason="its desired state is not JSON the pack can read")
        return
    yield from template(
        {"templateBody": json.dumps({"Resources": {"Resource": {"Type": type_name, "Properties": properties}}})}
    )


# -- entry point --------------------------------------------------------------------------------------------
READ_PACKAGES = frozenset({"aws", "aws-native"})
"""Providers whose resource types the pack reads (their other types carry no identity grant, or are resource
policies judged elsewhere)."""

GRANT_MODULES = {
    "aws": frozenset(
        {
            "iam",
            "ssoadmin",
            "identitystore",
            "cloudformation",
            "serverlessrepository",
            "organizations",
            "cloudcontrol",
            "servicecatalog",
        }
    ),
    "aws-native": frozenset(
        {"iam", "sso", "identitystore", "cloudformation", "serverlessrepo", "organizations", "servicecatalog"}
    ),
}
"""Modules whose types can grant identity permissions or declare resources: a type of theirs the reader does
not read is a gap, never a silent pass."""

HARMLESS = frozenset(
    {
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/samlProvider:SamlProvider",
        "aws:iam/accountAlias:AccountAlias",
        "aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
        "aws:iam/serverCertificate:ServerCertificate",
        "aws:iam/virtualMfaDevice:VirtualMfaDevice",
        "aws:iam/signingCertificate:SigningCertificate",
        "aws:iam/userLoginProfile:UserLoginProfile",
        "aws:iam/accessKey:AccessKey",
        "aws:iam/sshKey:SshKey",
        "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
        "aws:iam/securityTokenServicePreferences:SecurityTokenServicePreferences",
        "aws:iam/serviceLinkedRole:ServiceLinkedRole",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws-native:iam:OidcProvider",
        "aws-native:iam:SamlProvider",
        "aws-native:iam:ServerCertificate",
        "aws-native:iam:VirtualMfaDevice",
        "aws-native:iam:InstanceProfile",
        "aws-native:iam:ServiceLinkedRole",
    }
)
"""Types of those modules that grant no identity permission (providers, credentials of a user, profiles)."""

EXCLUSIVE = {
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive": (ROLE, "roleName"),
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive": (USER, "userName"),
    "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive": (GROUP, "groupName"),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (ROLE, "roleName"),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": (USER, "userName"),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": (GROUP, "groupName"),
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": (
        PERMISSION_SET,
        "permissionSetArn",
    ),
    "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:CustomerManagedPolicyAttachmentsExclusive": (
        PERMISSION_SET,
        "permissionSetArn",
    ),
}
"""Resources that remove what they do not list: the policies (and Denies) the stack declares elsewhere for
that principal may not stay in place."""


def items(type_: str, props: dict[str, Any]) -> list[Item]:
    """What one resource declares and grants."""
    found: list[Item] = []
    if type_ in EXCLUSIVE:
        kind, key = EXCLUSIVE[type_]
        found.append(Item("exclusive", key, principal=Ref(kind, props.get(key, UNKNOWN), key)))
    if type_ == "aws:cloudcontrol/resource:Resource":
        found.extend(_cloud_control(props))
    elif type_ in ("aws:cloudformation/stack:Stack", "aws:cloudformation/stackSet:StackSet") or type_ in (
        "aws-native:cloudformation:Stack",
        "aws-native:cloudformation:StackSet",
    ):
        found.extend(template(props))
    elif type_.startswith("aws:ssoadmin/"):
        found.extend(_sso(type_, props))
    elif type_.startswith("aws:"):
        found.extend(_aws(type_, props))
    elif type_.startswith("aws-native:"):
        found.extend(_native(type_, props))
    package, _, rest = type_.partition(":")
    module = rest.split("/", 1)[0].split(":", 1)[0]
    read = any(i.what != "exclusive" for i in found)
    if not read and module in GRANT_MODULES.get(package, ()) and type_ not in HARMLESS and type_ not in EXCLUSIVE:
        found.append(
            Item(
                "gap",
                "type",
                reason=f"the pack does not read {type_}, which can grant identity "
                "permissions; grant through the resources it reads (roles, users, groups, their "
                "policies and attachments, permission sets)",
            )
        )
    return found


# -- resource policies and compute roles (the exposure, trust and compute rules) ------------------------------
_POLICY_KEY = re.compile(r"polic(y|ies)", re.IGNORECASE)
"""`policy`, `keyPolicy`, `policyDocument`, `policyText`, and the plural (OpenSearch's `accessPolicies`)."""
_ROLE_KEY = re.compile(
    r"^(role|rolearn|executionrole|executionrolearn|servicerole|instancerole|taskrolearn|jobrolearn|"
    r"iaminstanceprofile|instanceprofile|servicerolearn)$",
    re.IGNORECASE,
)
_ROLE_SUFFIX = re.compile(
    r"(role|rolearn|roles|rolearns|instanceprofile|instanceprofilearn|instanceprofilename)$", re.I
)
"""Any other property named like a role (`nodeRoleArn`, `podExecutionRoleArn`, `iamRoles`, `iamFleetRole`,
`agentResourceRoleArn`, `administrationRoleArn`...): read when it holds a role or instance-profile ARN."""
_ROLE_ARN = re.compile(r"^arn:[^:]+:iam::[^:]*:(role|instance-profile)/", re.IGNORECASE)
_ROLE_HOLDERS: dict[str, tuple[str, ...]] = {
    "aws:sfn/stateMachine:StateMachine": ("definition",),
    "aws:scheduler/schedule:Schedule": ("target",),
    "aws:batch/jobDefinition:JobDefinition": (
        "containerProperties",
        "nodeProperties",
        "ecsProperties",
        "eksProperties",
    ),
    "aws:sagemaker/domain:Domain": ("defaultUserSettings", "defaultSpaceSettings"),
    "aws:sagemaker/userProfile:UserProfile": ("userSettings",),
    "aws:sagemaker/space:Space": ("spaceSettings",),
    "aws:apprunner/service:Service": ("instanceConfiguration",),
    "aws:elasticbeanstalk/environment:Environment": ("settings",),
    "aws:ssm/association:Association": ("parameters",),
}
"""Per type, the properties (pulumi_aws's inputs) that hold a role inside them: a state machine's definition, a
schedule's target, a job's container, a domain's user settings, an environment's option settings, an
association's parameters (AutomationAssumeRole). Wholly unknown at preview, the role in them cannot be seen;
the same property of another type (an RDS parameter group's `parameters`) holds none."""
_IDENTITY_TYPES = ("aws:iam/", "aws-native:iam:", "aws:ssoadmin/", "aws-native:sso:")


def _is_document(value: Any) -> bool:
    if value is UNKNOWN or value is BEYOND:
        return True
    if isinstance(value, str):
        # Decoded first: `"\u0053tatement"` is `Statement` to every JSON reader, AWS's included.
        try:
            value = json.loads(value)
        except ValueError:
            return '"statement"' in value.lower()
    return isinstance(value, dict) and any(isinstance(k, str) and k.lower() == "statement" for k in value)


def resource_policies(type_: str, props: dict[str, Any]) -> list[tuple[str, Any]]:
    """(property path, document) of every resource-based policy a resource sets: any property named like a
    policy that holds a document (`policy`, `resourcePolicy`, `keyPolicy`, `policyDocument`, in JSON text or
    not, nested or not), on any type but the identity types (read as grants elsewhere)."""
    if type_.startswith(_IDENTITY_TYPES):
        return []
    return [
        (where, value)
        for where, value in walk(props)
        if value is BEYOND or (_POLICY_KEY.search(where.rsplit(".", 1)[-1]) and _is_document(value))
    ]


_SHARES: dict[str, tuple[str, ...]] = {
    "aws:cloudwatch/eventPermission:EventPermission": ("principal",),
    "aws:ram/principalAssociation:PrincipalAssociation": ("principal",),
    "aws:lakeformation/permissions:Permissions": ("principal",),
    "aws:ec2/amiLaunchPermission:AmiLaunchPermission": (
        "accountId",
        "group",
        "organizationArn",
        "organizationalUnitArn",
    ),
    "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission": ("accountId",),
}
"""Resources that share something with a principal without a policy document (pulumi_aws's inputs)."""


def shares(type_: str, props: dict[str, Any]) -> list[tuple[str, Any]]:
    """(property, whom) a resource shares with, outside any policy document: an account ID, `*`, `all`, an
    organisation or OU ARN, an IAM ARN; UNKNOWN where not known yet. An SSM document shared by its
    `permissions` (`type: Share`, `account_ids`: `All` or a comma-separated list) counts too. An EventBridge
    permission narrowed by an `aws:PrincipalOrgID` condition shares with that organisation."""
    found: list[tuple[str, Any]] = []
    for key in _SHARES.get(type_, ()):
        value = props.get(key)
        if value is None:
            continue
        condition = props.get("condition")
        if key == "principal" and isinstance(condition, dict) and condition.get("key") == "aws:PrincipalOrgID":
            value = f"organization {condition.get('value')}"
        found.append((key, value))
    if type_ == "aws:ssm/document:Document" and isinstance(props.get("permissions"), dict):
        permissions = props["permissions"]
        accounts = permissions.get("account_ids", permissions.get("accountIds", UNKNOWN))
        if str(permissions.get("type", "")).lower() == "share":
            listed = accounts.split(",") if isinstance(accounts, str) else [accounts]
            found += [("permissions.account_ids", a.strip() if isinstance(a, str) else a) for a in listed]
    return found


def permission_statement(type_: str, props: dict[str, Any]) -> dict[str, Any] | None:
    """A Lambda permission or a KMS grant as the policy statement it amounts to (None for other types)."""
    if type_.endswith(
        ("lambda/permission:Permission", "lambda:Permission", "layerVersionPermission:LayerVersionPermission")
    ):
        principal = props.get("principal", UNKNOWN)
        condition: dict[str, Any] = {}
        for key, prop in (
            ("aws:SourceAccount", "sourceAccount"),
            ("aws:PrincipalOrgID", "principalOrgId"),
            ("aws:PrincipalOrgID", "organizationId"),
        ):
            # Not known yet is not absent: kept as unknown, so the statement says its condition is not known.
            if isinstance(props.get(prop), str) or props.get(prop) is UNKNOWN:
                condition.setdefault("StringEquals", {})[key] = props[prop]
        if isinstance(props.get("sourceArn"), str) or props.get("sourceArn") is UNKNOWN:
            condition["ArnLike"] = {"aws:SourceArn": props["sourceArn"]}
        who: Any = principal
        if isinstance(principal, str) and principal != "*":
            who = {"Service": principal} if principal.endswith(".amazonaws.com") else {"AWS": principal}
        return {
            "Effect": "Allow",
            "Principal": who,
            "Action": props.get("action", "lambda:InvokeFunction"),
            "Resource": "*",
            **({"Condition": condition} if condition else {}),
        }
    if type_ in ("aws:kms/grant:Grant", "aws-native:kms:Grant"):
        grantee = props.get("granteePrincipal", UNKNOWN)
        return {
            "Effect": "Allow",
            "Principal": {"AWS": grantee} if isinstance(grantee, str) else grantee,
            "Action": props.get("operations", ["kms:*"]),
            "Resource": "*",
        }
    return None


@dataclass(frozen=True)
class RoleUse:
    """A role a resource runs as or hands to a service, as a property gives it."""

    where: str
    value: Any
    """A role or instance-profile ARN or name; UNKNOWN where not known yet; BEYOND where the walk gave up."""
    profile: bool = False
    """The property holds an instance profile (its name is read through the stack's instance profiles)."""


def compute_roles(type_: str, props: dict[str, Any]) -> list[RoleUse]:
    """Every role a resource runs as or hands to a service, on any type but the identity types:
    - the properties pulumi_aws documents as holding a role, an instance profile or credentials
      (`role_properties.json`, at any depth): API Gateway's `credentials`, Cognito's `roles` map, Image
      Builder's `instanceProfileName`...;
    - any property named like a role (`role`, `roleArn`, `executionRole`, `taskRoleArn`, `iamInstanceProfile`,
      `RoleArn` of a state machine's task...) at any depth, in JSON or YAML text too (a definition, a template,
      an SSM document), where the types say nothing.
    UNKNOWN where not known yet; BEYOND where the properties hold more than the pack reads."""
    if type_.startswith(_IDENTITY_TYPES) and type_ != "aws:iam/instanceProfile:InstanceProfile":
        return []
    found: list[RoleUse] = []
    for key in _ROLE_HOLDERS.get(type_, ()):
        # A whole property not known at preview may hold the role (a definition, a target): fail closed.
        if props.get(key) is UNKNOWN:
            found.append(RoleUse(key, UNKNOWN))
    documented = role_properties().get(type_, {})
    for where, value in walk(props):
        if value is BEYOND:
            found.append(RoleUse(where, BEYOND))
            continue
        kind = documented.get(normal_path(where))
        if kind is not None and where.endswith("]"):
            continue  # an item of a documented list, read with the list
        if kind is not None:
            for item in role_values(value):
                if item is UNKNOWN or kind != "arn" or _ROLE_ARN.match(item):
                    found.append(RoleUse(where, item, kind == "profile-name" or _is_profile(item)))
        key = key_of(where)
        if where.endswith(".$") and _ROLE_SUFFIX.search(key):
            # A state machine task whose role comes from the execution's input: chosen at run time.
            found.append(RoleUse(where, UNKNOWN))
            continue
        named = _ROLE_KEY.match(key)
        if not named and not _ROLE_SUFFIX.search(key):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                item = item.get("arn") or item.get("name") or (UNKNOWN if named else None)
            if item is UNKNOWN or (isinstance(item, str) and (named or _ROLE_ARN.match(item))):
                profile = "instanceprofile" in key.lower() or _is_profile(item)
                found.append(RoleUse(where, item, profile))
    unique: dict[tuple[str, Any], RoleUse] = {}
    for use in found:  # a property both documented and named like a role is one use
        unique.setdefault((use.where, use.value if isinstance(use.value, str) else id(use.value)), use)
    return list(unique.values())


def _is_profile(value: Any) -> bool:
    return isinstance(value, str) and ":instance-profile/" in value.lower()


_PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})


def acl_exposures(type_: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    """(property path, who) an S3 access control list lets in: a public canned ACL, the AllUsers or
    AuthenticatedUsers groups, or a canonical user other than the owner."""
    if not type_.startswith("aws:s3"):
        return []
    owner = None
    found: list[tuple[str, str]] = []
    for where, value in walk(props):
        key = where.rsplit(".", 1)[-1].lower()
        if key == "owner" and isinstance(value, dict):
            owner = value.get("id")
        elif key == "acl" and isinstance(value, str) and value.lower() in _PUBLIC_ACLS:
            found.append((where, f"anyone (canned ACL {value})"))
    for where, value in walk(props):
        if where.rsplit(".", 1)[-1].lower() != "grantee" or not isinstance(value, dict):
            continue
        uri, kind, ident = str(value.get("uri", "")), str(value.get("type", "")), value.get("id")
        if "AllUsers" in uri or "AuthenticatedUsers" in uri:
            found.append((where, f"the group {uri.rsplit('/', 1)[-1]}"))
        elif kind == "CanonicalUser" and ident != owner:
            found.append((where, f"canonical user {ident}, not the owner"))
    return found
