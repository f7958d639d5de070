"""A permissions boundary as IAM applies it: a principal gets what its identity policies allow *and* its boundary
allows, and nothing either denies.

AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html ("the effective
permissions are the intersection of both policy types"; "an explicit deny in either of these policies overrides
the allow") and the evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).

Each Allow is intersected with each Allow of the boundary, statement by statement. Where the intersection cannot
be written as a statement (two overlapping wildcards, two conditions on one key), it is widened, never narrowed:
the principal is judged on at least what IAM gives it (fail closed). Actions two wildcards share are the actions
IAM publishes (the pack's IAM data), as every rule of the pack counts them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from . import catalog
from .algebra import action_mask, matches, matches_exactly
from .document import Statement


def bounded(statements: Sequence[Statement], boundary: Sequence[Statement]) -> list[Statement]:
    """What the statements grant within the boundary: each Allow cut to each of the boundary's Allows, every Deny
    of both kept."""
    limits = [b for b in boundary if b.allow]
    result: list[Statement] = []
    for statement in statements:
        if not statement.allow:
            result.append(statement)
            continue
        for limit in limits:
            cut = intersection(statement, limit)
            if cut is not None:
                result.append(cut)
    return result + [b for b in boundary if not b.allow]


def intersection(statement: Statement, limit: Statement) -> Statement | None:
    """An Allow cut to another (the boundary's), or None when they share no request. The result keeps the first
    one's source, so that a witness names the identity policy that grants."""
    actions = _actions(statement, limit)
    if actions is None:
        return None
    resources = _resources(statement, limit)
    if resources is None:
        return None
    return dataclasses.replace(
        statement,
        actions=actions[0],
        not_actions=actions[1],
        resources=resources[0],
        not_resources=resources[1],
        condition=_conditions(statement.condition, limit.condition),
        unknown_in=statement.unknown_in | limit.unknown_in,
    )


Elements = tuple[tuple[str, ...] | None, tuple[str, ...] | None]
"""(the listed patterns, the excluded patterns): `Action`/`NotAction`, or `Resource`/`NotResource`."""


def _literal(pattern: str) -> bool:
    return "*" not in pattern and "?" not in pattern and "${" not in pattern


def _within(inner: str, outer: str, exact: bool = False) -> bool:
    """Whether every value `inner` matches, `outer` matches too, as far as it can be shown: without case (the
    wider reading, where the answer keeps a grant), or with it (`exact`: IAM reads ARNs with case, where the answer
    takes a grant away, as an exclusion does). A policy variable (`${aws:username}`) is what the request makes it:
    nothing is shown of it but equality and `*`."""
    if outer in ("*", inner):
        return True
    if "${" in inner or "${" in outer:
        return False
    if not exact and inner.lower() == outer.lower():
        return True
    if _literal(inner):
        return (matches_exactly if exact else matches)(outer, inner)
    head = outer[:-1]
    if not (outer.endswith("*") and _literal(head)):
        return False
    return inner.startswith(head) if exact else inner.lower().startswith(head.lower())


def _disjoint(first: str, second: str) -> bool:
    """Whether no value matches both, as far as it can be shown: a literal outside the other, neither holding a
    policy variable."""
    if "${" in first or "${" in second:
        return False
    return (_literal(first) and not _within(first, second)) or (_literal(second) and not _within(second, first))


def _everything(listed: tuple[str, ...] | None) -> bool:
    return listed is not None and "*" in listed


def _actions(statement: Statement, limit: Statement) -> Elements | None:
    if _everything(limit.actions):
        return statement.actions, statement.not_actions
    if _everything(statement.actions):
        return limit.actions, limit.not_actions
    if statement.not_actions is not None and limit.not_actions is not None:
        return None, tuple(dict.fromkeys((*statement.not_actions, *limit.not_actions)))
    listed, other = (statement, limit) if statement.actions is not None else (limit, statement)
    if listed.actions is None:
        return None  # neither Action nor NotAction: names no action
    kept: list[str] = []
    for pattern in listed.actions:
        if other.actions is not None:
            for outer in other.actions:
                if _within(pattern, outer):
                    kept.append(pattern)
                elif _within(outer, pattern):
                    kept.append(outer)
                elif not _disjoint(pattern, outer):
                    kept += _published(pattern, [outer], [])
        elif other.not_actions is not None and not any(_within(pattern, x) for x in other.not_actions):
            kept += _published(pattern, [], other.not_actions)
    kept = list(dict.fromkeys(kept))
    return (tuple(kept), None) if kept else None


def _published(pattern: str, within: Sequence[str], without: Sequence[str]) -> list[str]:
    """The published actions the pattern names that every `within` pattern names and no `without` pattern does;
    the pattern itself when nothing is taken away."""
    found: list[str] = []
    whole = not within
    for key in _services(pattern):
        service = catalog.service(key)
        if service is None:
            continue
        named = action_mask(pattern, key)
        mask = named
        for outer in within:
            mask &= action_mask(outer, key)
        for excluded in without:
            mask &= ~action_mask(excluded, key)
        whole = whole and mask == named
        found += [action.name for index, action in enumerate(service.actions) if mask >> index & 1]
    return [pattern] if whole else found  # nothing taken away: as written (actions IAM adds later too)


def _services(pattern: str) -> Iterable[str]:
    prefix, colon, _ = pattern.lower().partition(":")
    if colon and _literal(prefix):
        return (prefix,)
    return [key for key in catalog.service_keys() if matches(prefix if colon else "*", key)]


def _resources(statement: Statement, limit: Statement) -> Elements | None:
    if _everything(limit.resources):
        return statement.resources, statement.not_resources
    if _everything(statement.resources):
        return limit.resources, limit.not_resources
    if statement.not_resources is not None and limit.not_resources is not None:
        return None, tuple(dict.fromkeys((*statement.not_resources, *limit.not_resources)))
    if statement.resources is not None and limit.resources is not None:
        kept: list[str] = []
        for pattern in statement.resources:
            for outer in limit.resources:
                if _within(pattern, outer):
                    kept.append(pattern)
                elif _within(outer, pattern):
                    kept.append(outer)
                elif not _disjoint(pattern, outer):
                    kept.append(pattern)  # two patterns that may overlap: wider than what both reach
        kept = list(dict.fromkeys(kept))
        return (tuple(kept), None) if kept else None
    listed, excluded = (
        (statement.resources, limit.not_resources)
        if statement.resources is not None
        else (limit.resources, statement.not_resources)
    )
    if listed is None:
        return statement.resources, statement.not_resources  # no Resource element: as the statement reads it
    kept = [p for p in listed if not any(_within(p, x, exact=True) for x in excluded or ())]
    return (tuple(kept), None) if kept else None


def _conditions(first: Any, second: Any) -> Any:
    """Both statements' conditions (IAM requires every block); where both test one key with one operator, the
    first's values only (a request may need to meet both: keeping one is wider)."""
    if not isinstance(second, dict) or not second:
        return first
    if not isinstance(first, dict) or not first:
        return second
    merged: dict[str, Any] = {op: dict(block) if isinstance(block, dict) else block for op, block in first.items()}
    for op, block in second.items():
        mine = merged.get(op)
        if mine is None:
            merged[op] = block
        elif isinstance(mine, dict) and isinstance(block, dict):
            for key, values in block.items():
                mine.setdefault(key, values)
    return merged
