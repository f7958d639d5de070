"""What the grant readers (`sources`, `templates`) read a resource into: typed `Item`s naming principals by
`Ref`. `principals.py` joins them per principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..framework import UNKNOWN

ROLE, USER, GROUP, PERMISSION_SET = "role", "user", "group", "permission set"
MANAGED_POLICY = "aws:iam/policy:Policy"
IDENTITY_TYPES = ("aws:iam/", "aws-native:iam:", "aws:ssoadmin/", "aws-native:sso:")
"""Type prefixes of the identity resources, read as grants (never as resource policies or compute)."""


class What(Enum):
    """What an item is."""

    PRINCIPAL = "principal"
    """A principal the resource declares (a role, user, group or permission set)."""
    DOCUMENT = "document"
    """A policy document granted to `principal` (or, without one, a managed policy's own document)."""
    TRUST = "trust"
    """A role's trust policy: who may assume it."""
    ATTACHMENT = "attachment"
    """A managed policy (`policy_arn`) attached to `principal`."""
    MEMBERSHIP = "membership"
    """A user's membership of `groups`."""
    EXCLUSIVE = "exclusive"
    """A resource that removes from `principal` the policies it does not list."""
    HELD = "held"
    """A role's own list of what it holds (`covers`: its inline policy `names`, or its managed policy ARNs), known:
    what another resource puts on it but the list leaves out may not stay."""
    ASSIGNMENT = "assignment"
    """A permission set handed out to accounts."""
    CREDENTIAL = "credential"
    """A credential of a user (`principal`): an access key, a console password, an SSH key, a service-specific
    credential or a signing certificate. Whoever holds it acts as the user, with every grant the user has."""
    GAP = "gap"
    """What cannot be read (`reason` says why): never a silent pass."""


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
    what: What
    where: str
    principal: Ref | None = None
    document: Any = None
    policy_arn: Any = None
    name: str | None = None
    """A principal's or managed policy's own name (for `principal` and managed-policy `document` items)."""
    groups: list[Ref] = field(default_factory=list)
    reason: str = ""
    overwrites: bool = False
    """An inline policy written under a name not known at preview: it may replace any inline policy of its
    principal (a Deny among them too)."""
    covers: str = ""
    """What an `EXCLUSIVE` resource removes when it does not list it: `INLINE` or `ATTACHED` policies (a
    permission set's `ATTACHED` AWS-managed, `CUSTOMER` customer-managed ones)."""
    names: Any = None
    """An `INLINE` exclusive resource's list of the inline policy names it keeps (UNKNOWN where not known); a
    `HELD` item's names or ARNs."""
    held: bool = False
    """A document or attachment read from the role's own list of what it holds (an output once read): the same
    policy as a resource of the stack may declare, not a second one."""


INLINE, ATTACHED, CUSTOMER = "inline policies", "managed policy attachments", "customer-managed policy references"
"""What an exclusive resource keeps to its list (`Item.covers`)."""


SELF = "self:"
"""The key of a principal whose name is not known yet, in the resource that declares it: its URN stands in."""


def inline_name(value: Any) -> tuple[str | None, bool]:
    """An inline policy's name as `(name, overwrites)`: the name when written out; otherwise, when something
    stands in its place (a value not known at preview, a template's function), it may be any name, and so
    replace any inline policy of its principal."""
    return (value, False) if isinstance(value, str) else (None, value is not None)


def own_name(value: Any) -> str:
    return value if isinstance(value, str) else SELF


def listed(value: Any) -> list[Any]:
    """A property as a list: UNKNOWN as one unknown item, None as none, a single value as one."""
    if value is UNKNOWN:
        return [UNKNOWN]
    return value if isinstance(value, list) else ([] if value is None else [value])
