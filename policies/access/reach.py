"""Questions the escalation, PassRole, reach, resource-policy and trust rules ask of statements: which
statements allow an action, where their resources reach, who a policy lets in, and what condition guards it.

Facts applied: the IAM JSON policy elements reference (Principal, Condition operators, `...IfExists`), the
global condition keys (`aws:SourceAccount`, `aws:SourceArn`, `aws:PrincipalOrgID`, `aws:PrincipalAccount`)
and the IAM condition keys (`iam:PassedToService`, `iam:PermissionsBoundary`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import catalog
from .algebra import _glob, _widened, action_mask, certain_deny, matches, probes
from .document import Statement

_DATA = Path(__file__).resolve().parent.parent / "data"
_ACCOUNT = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12}):")
POSITIVE = ("stringequals", "stringequalsignorecase", "arnequals", "arnlike", "stringlike")
"""Operators that restrict to the values listed (not their negations, and not `...IfExists`, which passes
when the key is absent)."""
GUARD_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:principalorgid", "aws:principalaccount")


@functools.cache
def escalation_methods() -> dict[str, tuple[str, ...]]:
    """Privilege-escalation methods (name -> the actions it needs), from `data/privilege_escalation.json`:
    Cloudsplaining's list (Rhino Security Labs, pathfinding.cloud) and the permissions-boundary actions."""
    data = json.loads((_DATA / "privilege_escalation.json").read_text(encoding="utf-8"))
    return {name: tuple(actions) for name, actions in {**data["methods"], **data["boundary_methods"]}.items()}


def names_action(statement: Statement, action: str) -> bool:
    """Whether the statement's Action/NotAction names a published action."""
    key = action.split(":", 1)[0].lower()
    service = catalog.service(key)
    if service is None:
        return False
    bit = 1 << service.index[action.lower()]
    if statement.actions is not None:
        return any(action_mask(p, key) & bit for p in statement.actions)
    if statement.not_actions is not None:
        if "NotAction" in statement.unknown_in:
            return True
        return not any(action_mask(p, key) & bit for p in statement.not_actions)
    return False


def allowing(statements: Sequence[Statement], action: str) -> list[Statement]:
    """The Allow statements that name the action, unless a certain Deny takes it away on every resource."""
    if any(certain_deny(s) and names_action(s, action) and "*" in (s.resources or ()) for s in statements):
        return []
    return [s for s in statements if s.allow and names_action(s, action)]


def condition_values(statement: Statement, key: str, operators: Iterable[str] = POSITIVE) -> list[str] | None:
    """The values a positive operator restricts `key` to (None when no such operator names it)."""
    if not isinstance(statement.condition, dict):
        return None
    found: list[str] | None = None
    wanted = {o.lower() for o in operators}
    for operator, block in statement.condition.items():
        if not isinstance(operator, str) or not isinstance(block, dict):
            continue
        # Only a bare operator restricts: `ForAllValues:` is true when the key is absent, and the keys read
        # here are single-valued, which the set operators are not for.
        if operator.lower() not in wanted:
            continue
        for name, values in block.items():
            if isinstance(name, str) and name.lower() == key:
                listed = values if isinstance(values, list) else [values]
                found = (found or []) + [str(v) for v in listed]
    return found


def literal(values: Iterable[str]) -> bool:
    """Values that name something: none is only wildcards, none starts with one."""
    return all(v.strip("*?") and not v.startswith(("*", "?")) for v in values)


def exact(values: Iterable[str]) -> bool:
    """Values without any wildcard."""
    return all(v and "*" not in v and "?" not in v for v in values)


@dataclass(frozen=True)
class Own:
    """What the stack itself defines: role names, and names and ARNs of its other resources."""

    roles: frozenset[str]
    names: frozenset[str]
    arns: frozenset[str]

    def holds(self, arn: str) -> bool:
        """A literal ARN of a resource the stack defines (no wildcard can stay inside the stack)."""
        if "*" in arn or "?" in arn:
            return False
        if arn.lower() in self.arns:
            return True
        last = re.split(r"[:/]", arn)[-1].lower()
        if ":iam::" in arn and ":role/" in arn:
            return last in self.roles
        return last in self.names


def outside(statement: Statement, own: Own) -> list[str]:
    """The resource patterns of a statement that can reach a resource the stack does not define."""
    if statement.not_resources is not None:
        return [f"NotResource {list(statement.not_resources)}"]
    reached = [r for r in statement.resources or () if not own.holds(r)]
    if "Resource" in statement.unknown_in:
        reached.append("a resource not known at preview")
    return reached


def concrete(pattern: str, action: str) -> str:
    """A concrete ARN the pattern matches, as a reader would type it: wildcards filled in, a bare `*` or a
    service-wide pattern made from the action's first ARN format."""
    published = catalog.action(action)
    service = catalog.service(action.split(":", 1)[0]) if published else None
    if published and service and published.resource_types and (pattern == "*" or pattern.endswith(":*")):
        arn_format = service.arn_formats.get(published.resource_types[0], "")
        filled = re.sub(
            r"\$\{([^}]*)\}",
            lambda m: {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}.get(m.group(1), "example"),
            arn_format,
        )
        if filled and matches(pattern, filled):
            return filled
    filled = pattern.replace("*", "example").replace("?", "x")
    return filled if matches(pattern, filled) else pattern


def everything_of(pattern: str, key: str, type_: str) -> bool:
    """Whether a resource pattern reaches every resource of the type (in some account): widened, it matches
    the type's probe whatever the names (both token sets)."""
    found = probes(key)
    if found is None or type_ not in found.types:
        return False
    index = found.types.index(type_)
    regex = _glob(_widened(pattern))
    return bool(regex.fullmatch(found.first[index].lower()) and regex.fullmatch(found.second[index].lower()))


_KINDS = {"aws": "AWS", "service": "Service", "federated": "Federated", "canonicaluser": "CanonicalUser"}


def principals_of(value: Any) -> list[tuple[str, str]]:
    """(kind, value) pairs a Principal element names: ("*", "*") for everyone. Kinds are read
    case-insensitively (`aws` is `AWS`): fail closed against spellings IAM or a provider may accept."""
    if value == "*":
        return [("*", "*")]
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for kind, entries in value.items():
            name = _KINDS.get(str(kind).lower(), str(kind))
            for entry in entries if isinstance(entries, list) else [entries]:
                found.append((name, str(entry)))
    elif isinstance(value, str):
        found.append(("AWS", value))
    return found


def account_of(value: str) -> str | None:
    """The account an AWS principal names: `123456789012`, `arn:aws:iam::123456789012:root`, a role ARN."""
    if _ACCOUNT.match(value):
        return value
    match = _ARN_ACCOUNT.match(value)
    return match.group(1) if match else None


def guarded(
    statement: Statement,
    allowed_accounts: Iterable[str],
    allowed_organizations: Iterable[str] = (),
    keys: Sequence[str] = GUARD_KEYS,
) -> bool:
    """A condition that keeps the grant to known callers, under a bare positive operator: aws:SourceAccount
    or aws:PrincipalAccount naming allowed accounts exactly, aws:SourceArn whose account is an allowed one,
    aws:PrincipalOrgID naming an allowed organisation exactly."""
    accounts, organizations = set(allowed_accounts), set(allowed_organizations)
    for key in keys:
        values = condition_values(statement, key)
        if not values:
            continue
        if key in ("aws:sourceaccount", "aws:principalaccount") and exact(values) and set(values) <= accounts:
            return True
        if key == "aws:sourcearn" and all((account_of(v) or "") in accounts for v in values):
            return True
        if key == "aws:principalorgid" and exact(values) and set(values) <= organizations:
            return True
    return False
