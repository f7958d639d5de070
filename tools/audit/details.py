"""An account's IAM as `aws iam get-account-authorization-details` prints it, read into the pack's grant model.

The shape is the API's (botocore's IAM model, operation GetAccountAuthorizationDetails): `UserDetailList`,
`GroupDetailList`, `RoleDetailList` and `Policies`, each a list; a file may hold one response, or a list of
responses (pages), merged in order. Policy documents are objects (the AWS CLI's and boto3's output: botocore
decodes them, `handlers.json_decode_policies`) or the API's URL-encoded JSON text.

Each principal and policy becomes the resource a stack would declare for it (`aws:iam/role:Role` with its inline
policies and attached ARNs, `aws:iam/policy:Policy` with its default version, group memberships, instance
profiles), so that `policies.access.principals.collect` builds the model the pack's rules read; AWS-managed
policies are read from the file's own documents, not the pack's snapshot.

Bad input is one line: the file, the key, what is accepted (`DetailsError`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from policies.access import catalog
from policies.access.principals import Model, Resource, collect

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

    @property
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
        raise DetailsError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}); accepted: the JSON `aws iam "
                           "get-account-authorization-details` prints") from None  # fmt: skip
    pages = data if isinstance(data, list) else [data]
    details = Details(path)
    for number, page in enumerate(pages):
        where = f"[{number}]" if isinstance(data, list) else ""
        if not isinstance(page, dict) or not any(key in page for key in LISTS):
            raise DetailsError(
                f"{path}: {where or 'the document'}: an object with {', '.join(LISTS)} is required (the output of "
                "`aws iam get-account-authorization-details`)"
            )
        for key, target in zip(LISTS, (details.users, details.groups, details.roles, details.policies), strict=True):
            items = page.get(key, [])
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise DetailsError(f"{path}: {where}{key}: a list of objects is required")
            target.extend(items)
    _check_names(details)
    return details


_NAMES = {"UserDetailList": "UserName", "GroupDetailList": "GroupName", "RoleDetailList": "RoleName",
          "Policies": "PolicyName"}  # fmt: skip


def _check_names(details: Details) -> None:
    for listed, entries in zip(LISTS, (details.users, details.groups, details.roles, details.policies), strict=True):
        for index, entry in enumerate(entries):
            for key in (_NAMES[listed], "Arn"):
                if not isinstance(entry.get(key), str) or not entry[key]:
                    raise DetailsError(f"{details.path}: {listed}[{index}].{key}: a string is required")


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
    if not isinstance(entries, list):
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
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("PolicyArn"), str)
                                                for e in entries):  # fmt: skip
        raise DetailsError(f"{path}: {where}: a list of {{PolicyName, PolicyArn}} is required")
    return [entry["PolicyArn"] for entry in entries]


def _resource(type_: str, name: str, props: dict[str, Any]) -> Resource:
    kind = type_.rsplit(":", maxsplit=1)[-1]
    return Resource(f"urn:pulumi:audit::account::{type_}::{kind}-{name}", type_, name, props, True, PROVIDER)


def _principal(details: Details, kind: str, entry: dict[str, Any], where: str) -> Iterator[Resource]:
    """A user or a group, its inline policies and its attachments."""
    title = kind.capitalize()
    name = entry[f"{title}Name"]
    yield _resource(
        f"aws:iam/{kind}:{title}", name, {"name": name, "arn": entry["Arn"], "path": entry.get("Path", "/")}
    )
    listed = f"{where}.{title}PolicyList"
    for j, inline in enumerate(_inline(entry.get(f"{title}PolicyList"), details.path, listed)):
        yield _resource(f"aws:iam/{kind}Policy:{title}Policy", f"{name}-{j}", {kind: name, **inline})
    attached = _attached(entry.get("AttachedManagedPolicies"), details.path, f"{where}.AttachedManagedPolicies")
    for j, arn in enumerate(attached):
        yield _resource(f"aws:iam/{kind}PolicyAttachment:{title}PolicyAttachment", f"{name}-{j}",
                        {kind: name, "policyArn": arn})  # fmt: skip


def resources(details: Details) -> Iterator[Resource]:
    """Each principal and policy as the resource a stack would declare for it."""
    path = details.path
    region = {"region": "us-east-1"}
    account = details.account
    yield Resource(PROVIDER, "pulumi:providers:aws", "account",
                   {**region, **({"allowedAccountIds": [account]} if account else {})}, True, "")  # fmt: skip
    for i, role in enumerate(details.roles):
        where = f"RoleDetailList[{i}]"
        props = {
            "name": role["RoleName"],
            "arn": role["Arn"],
            "path": role.get("Path", "/"),
            "assumeRolePolicy": json.dumps(
                document(role.get("AssumeRolePolicyDocument"), path, f"{where}.AssumeRolePolicyDocument")
            ),
            "inlinePolicies": _inline(role.get("RolePolicyList"), path, f"{where}.RolePolicyList"),
            "managedPolicyArns": _attached(
                role.get("AttachedManagedPolicies"), path, f"{where}.AttachedManagedPolicies"
            ),
        }
        yield _resource("aws:iam/role:Role", role["RoleName"], props)
        for profile in role.get("InstanceProfileList") or []:
            if isinstance(profile, dict) and isinstance(profile.get("InstanceProfileName"), str):
                name = profile["InstanceProfileName"]
                yield _resource("aws:iam/instanceProfile:InstanceProfile", name,
                                {"name": name, "arn": profile.get("Arn"), "role": role["RoleName"]})  # fmt: skip
    for i, group in enumerate(details.groups):
        yield from _principal(details, "group", group, f"GroupDetailList[{i}]")
    for i, user in enumerate(details.users):
        where = f"UserDetailList[{i}]"
        name = user["UserName"]
        yield from _principal(details, "user", user, where)
        groups = user.get("GroupList") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise DetailsError(f"{path}: {where}.GroupList: a list of group names is required")
        if groups:
            yield _resource("aws:iam/userGroupMembership:UserGroupMembership", name, {"user": name, "groups": groups})
    for i, policy in enumerate(details.policies):
        if catalog.aws_managed_name(policy["Arn"]) is not None:
            continue  # read through `aws_managed` instead, as the model reads AWS-managed ARNs
        text = json.dumps(default_document(policy, path, f"Policies[{i}]"))
        yield _resource("aws:iam/policy:Policy", policy["PolicyName"],
                        {"name": policy["PolicyName"], "arn": policy["Arn"], "path": policy.get("Path", "/"),
                         "policy": text})  # fmt: skip


def aws_managed(details: Details) -> dict[str, Any]:
    """The AWS-managed policies the file holds, by name: each one's default version (the account's copy)."""
    found = {}
    for i, policy in enumerate(details.policies):
        name = catalog.aws_managed_name(policy["Arn"])
        if name is not None:
            found[name] = default_document(policy, details.path, f"Policies[{i}]")
    return found


def model(details: Details) -> Model:
    """The grant model of the account's principals."""
    return collect(list(resources(details)), (), aws_managed(details))
