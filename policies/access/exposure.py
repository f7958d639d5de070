"""What a resource shares outside identity grants (`resource-policies-not-public`): its resource-based policies at
any depth (in JSON or YAML text too), shares without a document (an account ID, an organisation), a Lambda
permission or KMS grant as the statement it amounts to, and S3 access control lists."""

from __future__ import annotations

import json
import re
from typing import Any

from ..framework import UNKNOWN
from .items import IDENTITY_TYPES
from .properties import BEYOND, UNREADABLE, unreadable_documents, walk, walk_marked
from .templates import approximate

_POLICY_KEY = re.compile(r"polic(y|ies)", re.IGNORECASE)
"""`policy`, `keyPolicy`, `policyDocument`, `policyText`, and the plural (OpenSearch's `accessPolicies`)."""


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


_POLICY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "aws:organizations/resourcePolicy:ResourcePolicy": ("content",),
}
"""Per type (pulumi_aws's inputs), a resource policy held by a property not named like one: an organisation's
resource policy is its `content`."""


def _is_function(value: Any) -> bool:
    """A CloudFormation function (`Fn::If`, `Ref`...) standing for a whole value."""
    return isinstance(value, dict) and len(value) == 1 and str(next(iter(value))).startswith(("Fn::", "Ref"))


def resource_policies(type_: str, props: dict[str, Any]) -> list[tuple[str, Any]]:
    """(property path, document) of every resource-based policy a resource sets: any property named like a
    policy that holds a document (`policy`, `resourcePolicy`, `keyPolicy`, `policyDocument`, in JSON text or
    not, nested or not), on any type but the identity types (read as grants elsewhere)."""
    if type_.startswith(IDENTITY_TYPES):
        return []
    found = [(key, UNREADABLE) for key in unreadable_documents(type_, props)]
    found += [(key, props[key]) for key in _POLICY_PROPERTIES.get(type_, ()) if props.get(key) is not None]
    for where, value, in_text in walk_marked(props):
        named = _POLICY_KEY.search(where.rsplit(".", 1)[-1]) is not None
        if value is BEYOND or (named and (_is_document(value) or (in_text and _is_function(value)))):
            # In text (a template, an OpenAPI body), a function in a policy's place is read as a wildcard:
            # `Fn::If` choosing a public Principal is `*`, a statement or document behind one cannot be read.
            found.append((where, approximate(value) if in_text and isinstance(value, (dict, list)) else value))
    return found


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
