"""Least privilege, statement by statement, decided from IAM's own data (policy_sentry's IAM database).

- No `Allow` of every action (`*`, `*:*`, a wildcard in the service prefix) or every action of a service
  (`s3:*`), and no `Allow` with `NotAction` or `NotResource` (they grant all that is not listed).
- No resource pattern spanning every resource of a service (`*`, `arn:*`, `arn:aws:s3:::*`,
  `arn:aws:sagemaker:eu-west-1:123456789012:*`) for an action that supports resource-level permissions.
  Actions whose only resource is `*` in the database (`sagemaker:ListEndpoints`, `xray:PutTraceSegments`,
  `logs:CreateLogDelivery`) are allowed on `*`: nothing narrower exists.
- `iam:PassRole` only on named roles (`arn:<partition>:iam::<account>:role/<name>`, no wildcard) and only
  with an `iam:PassedToService` condition.
- Values not known yet where they matter (an action, or a resource beside resource-level actions) are
  findings: prod documents are built from names so that they are known at preview.
"""

from __future__ import annotations

import functools
import re

from .iam_semantics import Statement, matches

_RESOURCE_ROLE = re.compile(r"^arn:[a-z-]+:iam::\d{12}:role/[\w+=,.@/-]+$", re.IGNORECASE)
_SHOWN = 5


@functools.cache
def _service_actions(service: str) -> tuple[str, ...]:
    from policy_sentry.querying.actions import get_actions_for_service

    return tuple(get_actions_for_service(service))


@functools.cache
def _arn_formats(action: str) -> tuple[str, ...]:
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":", 1)
    rows = get_action_data(service, name).get(service, [])
    return tuple(row["resource_arn_format"] for row in rows)


def _expand(pattern: str) -> tuple[str, ...]:
    """The actions in IAM's database a pattern names (`sagemaker:Create*` -> the Create actions)."""
    service = pattern.split(":", 1)[0].lower()
    return tuple(a for a in _service_actions(service) if matches(pattern, a))


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
    """A resource pattern naming every resource of a service (in some region and account)."""
    fields = pattern.split(":", 5)
    if len(fields) < 6:
        return set(fields[-1]) <= {"*", "?"} or fields[-1].endswith("*")
    return set(fields[5]) <= {"*", "?"}


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
    unknown_names: list[str] = []
    for pattern in statement.actions or ():
        wide = _wide_action(pattern)
        if wide:
            found.append(f"{where}: {wide}")
            continue
        expanded = _expand(pattern)
        if not expanded:
            unknown_names.append(pattern)
        actions.extend(expanded)
    if unknown_names:
        found.append(f"{where}: {_listing(unknown_names)} not in IAM's action list (a typo grants nothing)")

    scoped = [a for a in dict.fromkeys(actions) if any(f != "*" for f in _arn_formats(a))]
    resources = statement.resources or ()
    unscoped = [r for r in resources if spans_service(r)]
    if scoped and unscoped:
        found.append(
            f"{where} allows {_listing(scoped)} on {_listing([repr(r) for r in unscoped])}, but IAM scopes "
            f"{'that action' if len(scoped) == 1 else 'these actions'} to resource ARNs"
        )
    if scoped and "Resource" in statement.unknown_in:
        found.append(f"{where} allows {_listing(scoped)} on a resource not known at preview")

    if any(a.lower() == "iam:passrole" for a in actions):
        loose = [r for r in resources if not _RESOURCE_ROLE.match(r) or "*" in r or "?" in r]
        if loose or statement.not_resources is not None or "Resource" in statement.unknown_in:
            found.append(f"{where} allows iam:PassRole on roles it does not name one by one")
        if "iam:passedtoservice" not in statement.condition_keys:
            found.append(f"{where} allows iam:PassRole without an iam:PassedToService condition")
    return found
