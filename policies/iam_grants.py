"""Where a Pulumi AWS program can put an identity-based grant, read from a resource's inputs (camelCase).

Documents: `RolePolicy`, `UserPolicy`, `GroupPolicy` and `Policy` (`policy`), and `Role` inline policies
(`inlinePolicies[].policy`), as JSON text, a dict, or unknown at preview (`Output.json_dumps` of values not
known yet). Attachments: `Role.managedPolicyArns`, the `*PolicyAttachment` resources (`policyArn`) and the
`*PolicyAttachmentsExclusive` resources (`policyArns`). Trust and resource policies (`assumeRolePolicy`,
bucket policies) name principals rather than grant to this stack's identities: they are not read here.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .iam_semantics import UNKNOWN

DOCUMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        "aws:iam/policy:Policy",
    }
)
ROLE = "aws:iam/role:Role"
MANAGED_POLICY = "aws:iam/policy:Policy"
SINGLE_ATTACHMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)
EXCLUSIVE_ATTACHMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
    }
)

_AWS_MANAGED_ARN = re.compile(r"^arn:[^:]+:iam::aws:policy/(?:.*/)?([^/]+)$", re.IGNORECASE)
_DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Document:
    where: str
    """The property it came from, e.g. `policy` or `inlinePolicies[0] (name)`."""
    value: Any
    """JSON text, a dict, or UNKNOWN."""


@dataclass(frozen=True)
class Attachment:
    where: str
    """The property it came from, e.g. `policyArn` or `managedPolicyArns[1]`."""
    arn: Any
    """A string, or UNKNOWN."""
    property: str
    """The input property (for property dependencies)."""


def documents(resource_type: str, props: dict[str, Any]) -> list[Document]:
    if resource_type in DOCUMENT_TYPES:
        return [Document("policy", props.get("policy"))]
    if resource_type != ROLE:
        return []
    inline = props.get("inlinePolicies")
    if inline is UNKNOWN:
        return [Document("inlinePolicies", UNKNOWN)]
    found = []
    for index, item in enumerate(inline or []):
        if item is UNKNOWN:
            found.append(Document(f"inlinePolicies[{index}]", UNKNOWN))
        elif isinstance(item, dict) and "policy" in item:
            name = item.get("name")
            where = f"inlinePolicies[{index}]" + (f" ({name})" if isinstance(name, str) else "")
            found.append(Document(where, item["policy"]))
    return found


def attachments(resource_type: str, props: dict[str, Any]) -> list[Attachment]:
    if resource_type in SINGLE_ATTACHMENT_TYPES:
        return [Attachment("policyArn", props.get("policyArn", UNKNOWN), "policyArn")]
    key = "policyArns" if resource_type in EXCLUSIVE_ATTACHMENT_TYPES else "managedPolicyArns"
    if resource_type not in EXCLUSIVE_ATTACHMENT_TYPES and resource_type != ROLE:
        return []
    arns = props.get(key)
    if arns is UNKNOWN:
        return [Attachment(key, UNKNOWN, key)]
    return [Attachment(f"{key}[{i}]", arn, key) for i, arn in enumerate(arns or [])]


def aws_managed_name(arn: Any) -> str | None:
    """`AmazonSageMakerFullAccess` for `arn:aws:iam::aws:policy/AmazonSageMakerFullAccess`, else None."""
    if not isinstance(arn, str):
        return None
    match = _AWS_MANAGED_ARN.match(arn.strip())
    return match.group(1) if match else None


@functools.cache
def _full_sagemaker_by_name() -> dict[str, str]:
    data = json.loads((_DATA / "aws_managed_full_sagemaker.json").read_text(encoding="utf-8"))
    return {name.lower(): entry["finding"] for name, entry in data["policies"].items()}


def aws_managed_full_sagemaker(name: str) -> str | None:
    """What the AWS-managed policy grants, when it is every SageMaker action on every SageMaker resource
    (from `tools/policy_data.py`, run over AWS's published documents); None otherwise."""
    return _full_sagemaker_by_name().get(name.lower())
