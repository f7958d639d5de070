"""An account's IAM as `aws iam get-account-authorization-details` prints it, read into the pack's grant model.

The shape is the API's (botocore's IAM model, operation GetAccountAuthorizationDetails): `UserDetailList`,
`GroupDetailList`, `RoleDetailList` and `Policies`, each a list; a file may hold one response, or a list of
responses (pages), merged in order. Policy documents are objects (the AWS CLI's and boto3's output: botocore
decodes them, `handlers.json_decode_policies`) or the API's URL-encoded JSON text.

Each principal and policy becomes the resource a stack would declare for it (`aws:iam/role:Role` with its inline
policies and attached ARNs, `aws:iam/policy:Policy` with its default version, group memberships, instance
profiles), from which `tools.audit.account.model_of` builds the model the pack's rules read; AWS-managed
policies are read from the file's own documents, not the pack's snapshot.

Bad input is one line: the file, the key, what is accepted (`DetailsError`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from policies.access import catalog
from policies.access.principals import Resource
from policies.framework import label

LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
PROVIDER = "urn:pulumi:audit::account::pulumi:providers:aws::account"


class DetailsError(Exception):
    """The file cannot be read as authorization details: one line naming the file, the key and what is accepted."""


@dataclass
class Details:
    """What the file holds, pages merged."""

    path: Path
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)

    @functools.cached_property
    def account(self) -> str | None:
        """The account the ARNs name, when they name one account."""
        accounts = {
            arn.split(":")[4]
            for entry in (*self.users, *self.groups, *self.roles)
            if isinstance(arn := entry.get("Arn"), str) and arn.count(":") >= 5
        }
        return next(iter(accounts)) if len(accounts) == 1 else None


def load(path: Path) -> Details:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DetailsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DetailsError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise DetailsError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno}); accepted: the JSON `aws iam "
            "get-account-authorization-details` prints"
        ) from None
    return read(data, path)


PAGE_KEYS = frozenset({*LISTS, "IsTruncated", "Marker", "ResponseMetadata"})
"""What a page of GetAccountAuthorizationDetails holds (botocore's IAM model; `ResponseMetadata` as boto3 adds it)."""


def read(data: Any, path: Path) -> Details:
    """Authorization details from what `load` read, or from the API's pages (`--live`); `path` names them.

    Refused, one line each: no page; a key the API's output does not have (`roleDetailList` would leave every role
    out); a last page that says more follow (`IsTruncated`: the account would be judged on part of it); two
    principals of one name (IAM's names are unique without case) or two policies of one ARN."""
    pages = data if isinstance(data, list) else [data]
    if not pages:
        raise DetailsError(f"{path}: no page; accepted: the JSON `aws iam get-account-authorization-details` prints")
    details = Details(path)
    for number, page in enumerate(pages):
        where = f"[{number}]" if isinstance(data, list) else ""
        if not isinstance(page, dict) or not any(key in page for key in LISTS):
            raise DetailsError(
                f"{path}: {where or 'the document'}: an object with {', '.join(LISTS)} is required (the output of "
                "`aws iam get-account-authorization-details`)"
            )
        unknown = sorted(str(key) for key in page if key not in PAGE_KEYS)
        if unknown:
            raise DetailsError(
                f"{path}: {where}{unknown[0]}: not a key of GetAccountAuthorizationDetails' output (accepted: "
                f"{', '.join(sorted(PAGE_KEYS))})"
            )
        for key, target in zip(LISTS, (details.users, details.groups, details.roles, details.policies), strict=True):
            items = page.get(key, [])
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise DetailsError(f"{path}: {where}{key}: a list of objects is required")
            target.extend(items)
    if pages[-1].get("IsTruncated") is True:
        raise DetailsError(
            f"{path}: {'[' + str(len(pages) - 1) + ']' if isinstance(data, list) else ''}IsTruncated: the last page "
            "says more follow; accepted: every page (the AWS CLI reads them all unless --no-paginate or "
            "--max-items; --live reads them all)"
        )
    _check_names(details)
    return details


_NAMES = {
    "UserDetailList": "UserName",
    "GroupDetailList": "GroupName",
    "RoleDetailList": "RoleName",
    "Policies": "PolicyName",
}
_NAME = re.compile(r"[\w+=,.@-]{1,128}")
"""IAM's names (botocore's IAM model: userNameType, roleNameType, groupNameType, policyNameType)."""


def _check_names(details: Details) -> None:
    for listed, entries in zip(LISTS, (details.users, details.groups, details.roles, details.policies), strict=True):
        seen: dict[str, int] = {}
        for index, entry in enumerate(entries):
            for key in (_NAMES[listed], "Arn"):
                if not isinstance(entry.get(key), str) or not entry[key]:
                    raise DetailsError(f"{details.path}: {listed}[{index}].{key}: a string is required")
            if not _NAME.fullmatch(entry[_NAMES[listed]]):
                raise DetailsError(
                    f"{details.path}: {listed}[{index}].{_NAMES[listed]}: an IAM name is required "
                    "(letters, digits and +=,.@_-)"
                )
            # Principals are unique by name without case; policies by ARN (an AWS-managed policy may share a name).
            key = (entry["Arn"] if listed == "Policies" else entry[_NAMES[listed]]).lower()
            if key in seen:
                raise DetailsError(
                    f"{details.path}: {listed}[{index}]: the same as {listed}[{seen[key]}] "
                    f"({entry[_NAMES[listed]]}); each principal and policy once"
                )
            seen[key] = index


def document(value: Any, path: Path, where: str) -> Any:
    """A policy document as an object: given as one, or as JSON text (URL-encoded, as the API sends it)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        for text in (value, unquote(value)):
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(decoded, dict):
                return decoded
    raise DetailsError(f"{path}: {where}: a policy document is required (an object, or its JSON text)")


def default_document(policy: dict[str, Any], path: Path, where: str) -> Any:
    """The document of a managed policy's default version (`IsDefaultVersion`, else `DefaultVersionId`)."""
    versions = policy.get("PolicyVersionList")
    if not isinstance(versions, list) or not versions:
        raise DetailsError(f"{path}: {where}.PolicyVersionList: a list holding the default version is required")
    chosen = [v for v in versions if isinstance(v, dict) and v.get("IsDefaultVersion") is True]
    if not chosen:
        chosen = [v for v in versions if isinstance(v, dict) and v.get("VersionId") == policy.get("DefaultVersionId")]
    if len(chosen) != 1:
        raise DetailsError(f"{path}: {where}.PolicyVersionList: exactly one default version is required")
    return document(chosen[0].get("Document"), path, f"{where}.PolicyVersionList[default].Document")


def _inline(entries: Any, path: Path, where: str) -> list[dict[str, Any]]:
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("PolicyName"), str) and e["PolicyName"] for e in entries
    ):
        raise DetailsError(f"{path}: {where}: a list of {{PolicyName, PolicyDocument}} is required")
    return [
        {
            "name": entry.get("PolicyName"),
            "policy": json.dumps(document(entry.get("PolicyDocument"), path, f"{where}[{i}].PolicyDocument")),
        }
        for i, entry in enumerate(entries)
    ]


def _attached(entries: Any, path: Path, where: str) -> list[str]:
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("PolicyArn"), str) for e in entries
    ):
        raise DetailsError(f"{path}: {where}: a list of {{PolicyName, PolicyArn}} is required")
    return [entry["PolicyArn"] for entry in entries]


@dataclass
class Names:
    """What the model's names stand for in the account: each resource's label (and each statement's source)
    as IAM names it, the principal each resource belongs to, and where each statement comes from."""

    text: dict[str, str] = field(default_factory=dict)
    """A label (`aws:iam/role:Role "r"`) or a source (`... policy`, `... inlinePolicies[0] (p)`) -> IAM's words."""
    owner: dict[str, str] = field(default_factory=dict)
    """A resource's URN -> the ARN of the principal (or managed policy) it belongs to."""
    origin: dict[str, dict[str, str]] = field(default_factory=dict)
    """A statement's source -> `policy` (an inline policy's name, a managed policy's ARN), `policyType`
    (inline, managed, trust) and `holder` (the ARN of the principal an inline policy or trust is on)."""
    attached: dict[str, list[str]] = field(default_factory=dict)
    """A principal's ARN -> the managed policy ARNs attached to it."""
    groups: dict[str, list[str]] = field(default_factory=dict)
    """A user's ARN -> the ARNs of its groups."""
    boundary: dict[str, str] = field(default_factory=dict)
    """A principal's model key (`role:name`) -> its permissions boundary's ARN."""
    keys: dict[str, str] = field(default_factory=dict)
    """A principal's ARN -> its model key."""
    profiles: dict[str, list[str]] = field(default_factory=dict)
    """A role's ARN -> its instance profiles (what an EC2 instance is launched with to get the role)."""
    aws_managed: dict[str, str] = field(default_factory=dict)
    """An AWS-managed policy's name -> its ARN, as the file lists it (its path included)."""
    holder: dict[str, str] = field(default_factory=dict)
    """An attachment's label -> the ARN of the principal it attaches a policy to."""
    service_linked: set[str] = field(default_factory=set)
    """The ARNs of the service-linked roles AWS made and keeps (`service_linked`)."""


def _resource(type_: str, name: str, props: dict[str, Any], names: Names, owner: str) -> Resource:
    kind = type_.rsplit(":", maxsplit=1)[-1]
    urn = f"urn:pulumi:audit::account::{type_}::{kind}-{name}"
    names.owner[urn] = owner
    return Resource(urn, type_, name, props, True, PROVIDER)


def _principal(details: Details, kind: str, entry: dict[str, Any], where: str, names: Names) -> Iterator[Resource]:
    """A user or a group, its inline policies and its attachments."""
    title = kind.capitalize()
    name, arn = entry[f"{title}Name"], entry["Arn"]
    _named(names, f"aws:iam/{kind}:{title}", name, arn, kind, entry, where, details.path)
    yield _resource(
        f"aws:iam/{kind}:{title}", name, {"name": name, "arn": arn, "path": entry.get("Path", "/")}, names, arn
    )
    listed = f"{where}.{title}PolicyList"
    for j, inline in enumerate(_inline(entry.get(f"{title}PolicyList"), details.path, listed)):
        type_ = f"aws:iam/{kind}Policy:{title}Policy"
        names.text[f"{label(type_, f'{name}-{j}')} policy"] = f"inline policy {inline['name']} of {arn}"
        names.origin[f"{label(type_, f'{name}-{j}')} policy"] = {
            "policy": inline["name"],
            "policyType": "inline",
            "holder": arn,
        }
        yield _resource(type_, f"{name}-{j}", {kind: name, **inline}, names, arn)
    for j, policy in enumerate(names.attached[arn]):
        type_ = f"aws:iam/{kind}PolicyAttachment:{title}PolicyAttachment"
        names.text[label(type_, f"{name}-{j}")] = f"the attachment of {policy} to {arn}"
        names.holder[label(type_, f"{name}-{j}")] = arn
        yield _resource(type_, f"{name}-{j}", {kind: name, "policyArn": policy}, names, arn)


def _named(
    names: Names, type_: str, name: str, arn: str, kind: str, entry: dict[str, Any], where: str, path: Path
) -> None:
    """A principal's label, key, attachments and boundary."""
    names.text[label(type_, name)] = arn
    names.keys[arn] = f"{kind}:{name.lower()}"
    names.attached[arn] = _attached(entry.get("AttachedManagedPolicies"), path, f"{where}.AttachedManagedPolicies")
    boundary = entry.get("PermissionsBoundary")
    if boundary is not None and kind == "group":
        # IAM sets boundaries on users and roles only (botocore's GroupDetail has none): one here would cut what
        # the group's own findings show.
        raise DetailsError(f"{path}: {where}.PermissionsBoundary: a group has no permissions boundary")
    if boundary is not None:
        found = boundary.get("PermissionsBoundaryArn") if isinstance(boundary, dict) else None
        if not isinstance(found, str) or not found:
            raise DetailsError(
                f"{path}: {where}.PermissionsBoundary: an object with PermissionsBoundaryArn is required"
            )
        names.boundary[f"{kind}:{name.lower()}"] = found


def _role(details: Details, role: dict[str, Any], where: str, names: Names) -> Iterator[Resource]:
    """A role with its trust, inline policies and attachments (the pulumi_aws Role's own lists), and its instance
    profiles."""
    path, name, arn = details.path, role["RoleName"], role["Arn"]
    _named(names, "aws:iam/role:Role", name, arn, "role", role, where, path)
    inline = _inline(role.get("RolePolicyList"), path, f"{where}.RolePolicyList")
    for i, policy in enumerate(inline):
        source = f"{label('aws:iam/role:Role', name)} inlinePolicies[{i}] ({policy['name']})"
        names.text[source] = f"inline policy {policy['name']} of {arn}"
        names.origin[source] = {"policy": policy["name"], "policyType": "inline", "holder": arn}
    trust = f"{label('aws:iam/role:Role', name)} assumeRolePolicy"
    names.text[trust] = f"the trust policy of {arn}"
    names.origin[trust] = {"policy": "trust policy", "policyType": "trust", "holder": arn}
    props = {
        "name": name,
        "arn": arn,
        "path": role.get("Path", "/"),
        "assumeRolePolicy": json.dumps(
            document(role.get("AssumeRolePolicyDocument"), path, f"{where}.AssumeRolePolicyDocument")
        ),
        "inlinePolicies": inline,
        "managedPolicyArns": names.attached[arn],
    }
    if service_linked(role, names.attached[arn], json.loads(props["assumeRolePolicy"])):
        names.service_linked.add(arn)
    yield _resource("aws:iam/role:Role", name, props, names, arn)
    profiles = role.get("InstanceProfileList") or []
    if not isinstance(profiles, list):
        raise DetailsError(f"{path}: {where}.InstanceProfileList: a list of instance profiles is required")
    for profile in profiles:
        if isinstance(profile, dict) and isinstance(profile.get("InstanceProfileName"), str):
            profile_name = profile["InstanceProfileName"]
            names.profiles.setdefault(arn, []).append(profile.get("Arn") or profile_name)
            type_ = "aws:iam/instanceProfile:InstanceProfile"
            names.text[label(type_, profile_name)] = f"instance profile {profile.get('Arn') or profile_name} of {arn}"
            yield _resource(
                type_, profile_name, {"name": profile_name, "arn": profile.get("Arn"), "role": name}, names, arn
            )


_SERVICE_ROLE_POLICY = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/aws-service-role/")


def service_linked(role: dict[str, Any], attached: list[str], trust: Any) -> bool:
    """A service-linked role as AWS makes it: under `/aws-service-role/`, no inline policy, only AWS's
    service-linked policies attached, and a trust naming services only. Only its service may change it ("You
    cannot modify the trust policy for a service-linked role", IAM User Guide, id_roles_update-role-trust-policy;
    IAM's UnmodifiableEntityException) or assume it, so a finding on it is nothing its account can act on. A role
    under that path shaped any other way is judged like every other."""
    if not str(role.get("Path") or "").startswith("/aws-service-role/") or role.get("RolePolicyList"):
        return False
    if not all(_SERVICE_ROLE_POLICY.match(arn) for arn in attached):
        return False
    found = trust.get("Statement") if isinstance(trust, dict) else None
    statements: list[Any] = [found] if isinstance(found, dict) else found if isinstance(found, list) else []
    return bool(statements) and all(
        isinstance(s, dict)
        and s.get("Effect") == "Allow"
        and set(s) <= {"Sid", "Effect", "Principal", "Action"}
        and isinstance(s.get("Principal"), dict)
        and set(s["Principal"]) == {"Service"}
        for s in statements
    )


def inventory(details: Details) -> tuple[list[Resource], Names]:
    """Each principal and policy as the resource a stack would declare for it, and what their names stand for."""
    names = Names()
    return list(_resources(details, names)), names


def _resources(details: Details, names: Names) -> Iterator[Resource]:
    path = details.path
    account = details.account
    yield Resource(
        PROVIDER,
        "pulumi:providers:aws",
        "account",
        {"region": "us-east-1", **({"allowedAccountIds": [account]} if account else {})},
        True,
        "",
    )
    for i, role in enumerate(details.roles):
        yield from _role(details, role, f"RoleDetailList[{i}]", names)
    group_arns = {group["GroupName"].lower(): group["Arn"] for group in details.groups}
    for i, group in enumerate(details.groups):
        yield from _principal(details, "group", group, f"GroupDetailList[{i}]", names)
    for i, user in enumerate(details.users):
        where = f"UserDetailList[{i}]"
        name = user["UserName"]
        yield from _principal(details, "user", user, where, names)
        groups = user.get("GroupList") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise DetailsError(f"{path}: {where}.GroupList: a list of group names is required")
        names.groups[user["Arn"]] = [group_arns.get(g.lower(), g) for g in groups if isinstance(g, str)]
        if groups:
            type_ = "aws:iam/userGroupMembership:UserGroupMembership"
            names.text[label(type_, name)] = f"the group memberships of {user['Arn']}"
            yield _resource(type_, name, {"user": name, "groups": groups}, names, user["Arn"])
    for i, policy in enumerate(details.policies):
        aws_name = catalog.aws_managed_name(policy["Arn"])
        if aws_name is not None:
            names.aws_managed[aws_name] = policy["Arn"]
            continue  # read through `aws_managed` instead, as the model reads AWS-managed ARNs
        text = json.dumps(default_document(policy, path, f"Policies[{i}]"))
        type_, name, arn = "aws:iam/policy:Policy", policy["PolicyName"], policy["Arn"]
        names.text[label(type_, name)] = arn
        names.text[f"{label(type_, name)} policy"] = f"managed policy {arn}"
        names.origin[f"{label(type_, name)} policy"] = {"policy": arn, "policyType": "managed"}
        yield _resource(
            type_, name, {"name": name, "arn": arn, "path": policy.get("Path", "/"), "policy": text}, names, arn
        )


def aws_managed(details: Details) -> dict[str, Any]:
    """The AWS-managed policies the file holds, by name: each one's default version (the account's copy)."""
    found = {}
    for i, policy in enumerate(details.policies):
        name = catalog.aws_managed_name(policy["Arn"])
        if name is not None:
            found[name] = default_document(policy, details.path, f"Policies[{i}]")
    return found
