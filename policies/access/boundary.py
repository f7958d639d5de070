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
from collections.abc import Callable, Iterable, Sequence
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
    actions = _cut(
        (statement.actions, statement.not_actions),
        (limit.actions, limit.not_actions),
        lambda pattern, outer: _published(pattern, [outer], []),
        lambda pattern, excluded: (
            [] if any(_within(pattern, x) for x in excluded) else _published(pattern, [], excluded)
        ),
    )
    if actions is None:
        return None
    resources = _cut(
        (statement.resources, statement.not_resources),
        (limit.resources, limit.not_resources),
        lambda pattern, _: [pattern],  # two patterns that may overlap: wider than what both reach
        # IAM reads ARNs with case: an exclusion takes away only what it matches so.
        lambda pattern, excluded: [] if any(_within(pattern, x, exact=True) for x in excluded) else [pattern],
    )
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


def _cut(
    first: Elements,
    second: Elements,
    overlap: Callable[[str, str], list[str]],
    outside: Callable[[str, Sequence[str]], list[str]],
) -> Elements | None:
    """One element of two statements (Action/NotAction, or Resource/NotResource) cut to what both name, or None
    when they name nothing in common. `overlap(pattern, other)`: what two patterns that may overlap share, widened
    where it cannot be written; `outside(pattern, excluded)`: what of a pattern an exclusion leaves."""
    (listed, unlisted), (limit_listed, limit_unlisted) = first, second
    if _everything(limit_listed):
        return first
    if _everything(listed):
        return second
    if unlisted is not None and limit_unlisted is not None:
        return None, tuple(dict.fromkeys((*unlisted, *limit_unlisted)))
    if listed is None and unlisted is None:
        return first  # the element is missing: as the statement reads it
    kept: list[str] = []
    if listed is not None and limit_listed is not None:
        for pattern in listed:
            for outer in limit_listed:
                if _within(pattern, outer):
                    kept.append(pattern)
                elif _within(outer, pattern):
                    kept.append(outer)
                elif not _disjoint(pattern, outer):
                    kept += overlap(pattern, outer)
    else:
        patterns, excluded = (listed, limit_unlisted) if listed is not None else (limit_listed, unlisted)
        for pattern in patterns or ():
            kept += outside(pattern, excluded or ())
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
