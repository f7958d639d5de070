"""Where a stack's resources put identity grants, read from their properties (camelCase, as the engine sends).

Each resource is read into `Item`s (`items.py`): a principal it declares (a role, user, group or SSO permission
set), a document it grants to a principal (named by its name or ARN), an attachment of a managed policy, a group
membership, or a gap (a value not known at preview, a template given by URL, a type the pack cannot read).
`principals.py` joins them per principal. Types read:

- `aws:iam/*` (pulumi_aws): roles, users, groups with their inline and managed policies, `*Policy`,
  `Policy`, every kind of attachment, group memberships.
- `aws:ssoadmin/*`: permission set inline policies, AWS- and customer-managed attachments.
- `aws-native:iam:*`, `aws-native:sso:PermissionSet` (pulumi-aws-native): the same, CloudFormation-shaped.
- CloudFormation templates and Cloud Control resources: `templates.py`.

The other readers of a resource: `compute.py` (the roles it runs as) and `exposure.py` (its resource policies,
shares and access control lists).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..framework import UNKNOWN
from .items import (
    ATTACHED,
    CUSTOMER,
    GROUP,
    INLINE,
    MANAGED_POLICY,
    PERMISSION_SET,
    ROLE,
    USER,
    Item,
    Ref,
    What,
    inline_name,
    listed,
    own_name,
)
from .templates import cloud_control, template

SET_INLINE = "inline policy"
"""The name of a permission set's inline policy: it has one, so two writers of it are one name written twice."""

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


def _aws(type_: str, props: dict[str, Any]) -> Iterator[Item]:
    if type_ in _AWS_PRINCIPALS:
        kind = _AWS_PRINCIPALS[type_]
        me = Ref(kind, own_name(props.get("name")), "name")
        yield Item(What.PRINCIPAL, "name", principal=me)
        if "assumeRolePolicy" in props:
            yield Item(What.TRUST, "assumeRolePolicy", principal=me, document=props["assumeRolePolicy"])
        yield from _role_lists(type_, props, me)
    elif type_ in _AWS_INLINE:
        kind, key = _AWS_INLINE[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        name, overwrites = inline_name(props.get("name"))
        document = props.get("policy", UNKNOWN)
        yield Item(What.DOCUMENT, "policy", principal=who, document=document, name=name, overwrites=overwrites)
    elif type_ == MANAGED_POLICY:
        yield Item(What.DOCUMENT, "policy", document=props.get("policy", UNKNOWN), name=_policy_name(props))
    elif type_ in _AWS_ATTACH:
        kind, key = _AWS_ATTACH[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        yield Item(What.ATTACHMENT, "policyArn", principal=who, policy_arn=props.get("policyArn", UNKNOWN))
    elif EXCLUSIVE.get(type_, (None, None, None))[2] == ATTACHED:
        kind, key, _ = EXCLUSIVE[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        for index, arn in enumerate(listed(props.get("policyArns"))):
            yield Item(What.ATTACHMENT, f"policyArns[{index}]", principal=who, policy_arn=arn)
    elif type_ == "aws:iam/policyAttachment:PolicyAttachment":
        arn = props.get("policyArn", UNKNOWN)
        for kind, key in ((ROLE, "roles"), (USER, "users"), (GROUP, "groups")):
            for index, name in enumerate(listed(props.get(key))):
                yield Item(What.ATTACHMENT, "policyArn", principal=Ref(kind, name, f"{key}[{index}]"), policy_arn=arn)
    elif type_ == "aws:iam/userGroupMembership:UserGroupMembership":
        groups = [Ref(GROUP, g, f"groups[{i}]") for i, g in enumerate(listed(props.get("groups")))]
        yield Item(What.MEMBERSHIP, "groups", principal=Ref(USER, props.get("user", UNKNOWN), "user"), groups=groups)
    elif type_ == "aws:iam/groupMembership:GroupMembership":
        group = Ref(GROUP, props.get("group", UNKNOWN), "group")
        for index, user in enumerate(listed(props.get("users"))):
            yield Item(What.MEMBERSHIP, f"users[{index}]", principal=Ref(USER, user, f"users[{index}]"), groups=[group])


def _role_lists(type_: str, props: dict[str, Any], me: Ref) -> Iterator[Item]:
    """A role's (a user's, a group's) own `inlinePolicies` and `managedPolicyArns`, as the engine sends them to a
    stack policy: the resource's outputs. pulumi_aws's `inline_policy` and `managed_policy_arns` are Optional and
    Computed (terraform-provider-aws `internal/service/iam/role.go`), so at a preview of a role that does not set
    them they are unknown, and once the role is read they list every inline policy and managed policy it holds,
    whatever resource put them there. A whole list unknown is therefore no grant of the program's
    (`iam-least-privilege-in-prod` judges the inputs, where a list the program sets to an unknown value shows); a
    known one is what the role holds (`Item.held`): each entry is judged, and a policy another resource puts on the
    role but that the list leaves out may not stay (the list is exclusive where the program sets it)."""
    if type_ != "aws:iam/role:Role":
        return
    inline = props.get("inlinePolicies")
    if inline is not UNKNOWN and inline is not None:
        names = []
        for index, entry in enumerate(listed(inline)):
            where = f"inlinePolicies[{index}]"
            if entry is UNKNOWN:
                yield Item(What.DOCUMENT, where, principal=me, document=UNKNOWN)
                names.append(UNKNOWN)
            elif isinstance(entry, dict) and entry.get("policy") is not None:
                label = entry.get("name")
                where += f" ({label})" if isinstance(label, str) else ""
                name = label if isinstance(label, str) else None
                names.append(label if isinstance(label, str) else UNKNOWN)
                yield Item(What.DOCUMENT, where, me, entry["policy"], name=name, held=True)
        yield Item(What.HELD, "inlinePolicies", principal=me, covers=INLINE, names=names)
    arns = props.get("managedPolicyArns")
    if arns is not UNKNOWN and arns is not None:
        for index, arn in enumerate(listed(arns)):
            yield Item(What.ATTACHMENT, f"managedPolicyArns[{index}]", principal=me, policy_arn=arn, held=True)
        yield Item(What.HELD, "managedPolicyArns", principal=me, covers=ATTACHED, names=listed(arns))


def _sso(type_: str, props: dict[str, Any]) -> Iterator[Item]:
    who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
    if type_ == "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive":
        for index, arn in enumerate(listed(props.get("managedPolicyArns"))):
            yield Item(What.ATTACHMENT, f"managedPolicyArns[{index}]", principal=who, policy_arn=arn)
    elif type_ == "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:CustomerManagedPolicyAttachmentsExclusive":
        for index, ref in enumerate(listed(props.get("customerManagedPolicyReferences"))):
            where = f"customerManagedPolicyReferences[{index}]"
            yield Item(What.ATTACHMENT, where, principal=who, policy_arn=_customer_ref(ref))
    elif type_ == "aws:ssoadmin/accountAssignment:AccountAssignment":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        yield Item(What.ASSIGNMENT, "permissionSetArn", principal=who)
    elif type_ == "aws:ssoadmin/permissionSet:PermissionSet":
        yield Item(What.PRINCIPAL, "arn", principal=Ref(PERMISSION_SET, own_name(props.get("arn")), "arn"))
    elif type_ == "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        document = props.get("inlinePolicy", UNKNOWN)
        yield Item(What.DOCUMENT, "inlinePolicy", principal=who, document=document, name=SET_INLINE)
    elif type_ == "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        yield Item(
            What.ATTACHMENT, "managedPolicyArn", principal=who, policy_arn=props.get("managedPolicyArn", UNKNOWN)
        )
    elif type_ == "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment":
        who = Ref(PERMISSION_SET, props.get("permissionSetArn", UNKNOWN), "permissionSetArn")
        reference = props.get("customerManagedPolicyReference")
        yield Item(
            What.ATTACHMENT, "customerManagedPolicyReference", principal=who, policy_arn=_customer_ref(reference)
        )


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
        me = Ref(kind, own_name(props.get(key)), key)
        yield Item(What.PRINCIPAL, key, principal=me)
        if "assumeRolePolicyDocument" in props:
            yield Item(What.TRUST, "assumeRolePolicyDocument", principal=me, document=props["assumeRolePolicyDocument"])
        yield from _cfn_shaped(props, me, "policies", "policyName", "policyDocument", "managedPolicyArns")
        if type_ == "aws-native:iam:User" and props.get("loginProfile") is not None:
            yield Item(What.CREDENTIAL, "loginProfile", principal=me)
        if type_ == "aws-native:iam:User":
            groups = [Ref(GROUP, g, f"groups[{i}]") for i, g in enumerate(listed(props.get("groups")))]
            if groups:
                yield Item(What.MEMBERSHIP, "groups", principal=me, groups=groups)
    elif type_ in _NATIVE_INLINE:
        kind, key = _NATIVE_INLINE[type_]
        who = Ref(kind, props.get(key, UNKNOWN), key)
        name, overwrites = inline_name(props.get("policyName"))
        document = props.get("policyDocument", UNKNOWN)
        yield Item(What.DOCUMENT, "policyDocument", principal=who, document=document, name=name, overwrites=overwrites)
    elif type_ == "aws-native:iam:ManagedPolicy":
        name = props.get("managedPolicyName")
        doc = props.get("policyDocument", UNKNOWN)
        yield Item(What.DOCUMENT, "policyDocument", document=doc, name=name if isinstance(name, str) else None)
        for kind, key in ((ROLE, "roles"), (USER, "users"), (GROUP, "groups")):
            for index, who in enumerate(listed(props.get(key))):
                yield Item(What.DOCUMENT, "policyDocument", principal=Ref(kind, who, f"{key}[{index}]"), document=doc)
    elif type_ == "aws-native:sso:PermissionSet":
        me = Ref(PERMISSION_SET, own_name(props.get("permissionSetArn")), "permissionSetArn")
        yield Item(What.PRINCIPAL, "name", principal=me)
        if props.get("inlinePolicy") is not None:
            # One inline policy per permission set: whatever else writes one replaces it.
            yield Item(What.DOCUMENT, "inlinePolicy", principal=me, document=props["inlinePolicy"], name=SET_INLINE)
        for index, arn in enumerate(listed(props.get("managedPolicies"))):
            yield Item(What.ATTACHMENT, f"managedPolicies[{index}]", principal=me, policy_arn=arn)
        for index, ref in enumerate(listed(props.get("customerManagedPolicyReferences"))):
            where = f"customerManagedPolicyReferences[{index}]"
            yield Item(What.ATTACHMENT, where, principal=me, policy_arn=_customer_ref(ref))


def _cfn_shaped(
    props: dict[str, Any], me: Ref, policies: str, name_key: str, document_key: str, managed: str
) -> Iterator[Item]:
    for index, entry in enumerate(listed(props.get(policies))):
        where = f"{policies}[{index}]"
        if entry is UNKNOWN or not isinstance(entry, dict):
            yield Item(What.DOCUMENT, where, principal=me, document=UNKNOWN if entry is UNKNOWN else entry)
            continue
        label = entry.get(name_key)
        where += f" ({label})" if isinstance(label, str) else ""
        name, overwrites = inline_name(label)
        document = entry.get(document_key, UNKNOWN)
        yield Item(What.DOCUMENT, where, principal=me, document=document, name=name, overwrites=overwrites)
    for index, arn in enumerate(listed(props.get(managed))):
        yield Item(What.ATTACHMENT, f"{managed}[{index}]", principal=me, policy_arn=arn)


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
"""Types of those modules that grant no identity permission (providers, certificates, profiles)."""

EXCLUSIVE = {
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive": (ROLE, "roleName", INLINE),
    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive": (USER, "userName", INLINE),
    "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive": (GROUP, "groupName", INLINE),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (ROLE, "roleName", ATTACHED),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": (USER, "userName", ATTACHED),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": (GROUP, "groupName", ATTACHED),
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": (
        PERMISSION_SET,
        "permissionSetArn",
        ATTACHED,
    ),
    "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:CustomerManagedPolicyAttachmentsExclusive": (
        PERMISSION_SET,
        "permissionSetArn",
        CUSTOMER,
    ),
}
"""Resources that remove what they do not list (`covers`): the policies (and Denies) the stack declares elsewhere
for that principal may not stay in place, and those the principal held before the stack (a role adopted with
`import_`) are removed when the resource is created (terraform-provider-aws's `syncAttachments`, which pulumi_aws
runs on create and on a change of the list)."""

CREDENTIALS = {
    "aws:iam/accessKey:AccessKey": "user",
    "aws:iam/userLoginProfile:UserLoginProfile": "user",
    "aws:iam/sshKey:SshKey": "username",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential": "userName",
    "aws:iam/signingCertificate:SigningCertificate": "userName",
}
"""pulumi_aws's credentials of a user, by the property naming the user: whoever holds one acts as the user."""


def items(type_: str, props: dict[str, Any]) -> list[Item]:
    """What one resource declares and grants."""
    found: list[Item] = []
    if type_ in EXCLUSIVE:
        kind, key, covers = EXCLUSIVE[type_]
        names = props.get("policyNames", UNKNOWN) if covers == INLINE else None
        who = Ref(kind, props.get(key, UNKNOWN), key)
        found.append(Item(What.EXCLUSIVE, key, principal=who, covers=covers, names=names))
    if type_ in CREDENTIALS:
        key = CREDENTIALS[type_]
        found.append(Item(What.CREDENTIAL, key, principal=Ref(USER, props.get(key, UNKNOWN), key)))
    if type_ == "aws:cloudcontrol/resource:Resource":
        found.extend(cloud_control(props))
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
    read = any(i.what not in (What.EXCLUSIVE, What.CREDENTIAL) for i in found)
    known = type_ in HARMLESS or type_ in EXCLUSIVE or type_ in CREDENTIALS
    if not read and module in GRANT_MODULES.get(package, ()) and not known:
        found.append(
            Item(
                What.GAP,
                "type",
                reason=f"the pack does not read {type_}, which can grant identity "
                "permissions; grant through the resources it reads (roles, users, groups, their "
                "policies and attachments, permission sets)",
            )
        )
    return found
