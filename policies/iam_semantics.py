"""What an IAM policy document grants, judged as IAM reads it rather than as it is spelt.

Facts applied (AWS IAM policy reference; ../shared/reference/iam-semantics.md):
- `Statement` is one object or a list; `Action`/`NotAction`/`Resource`/`NotResource` a string or a list;
  JSON escapes decode before IAM reads them (json.loads does that).
- Actions match case-insensitively with `*` (any run, colons included) and `?` (one character).
- `Allow` + `NotAction` grants every action not listed; `Allow` + `NotResource` every resource not listed.
- A Condition narrows when a statement applies, never which resources it names: ignored here (fail closed).
- A Deny does not take back an Allow on `*` for our purposes: Denies are ignored (fail closed).

Values not known yet (a preview's unknowns) are the `UNKNOWN` sentinel. In `Action`/`Resource` an unknown
element can only add to the grant, so what is known is judged as is; in `NotAction`/`NotResource` an unknown
element could exclude anything, so it is taken to exclude nothing (fail closed).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""A value the engine does not know yet (preview)."""

# A character no action name or ARN contains: a name made of it can only be matched by wildcards, so it
# stands for the actions and resource names AWS has not published yet (see sagemaker_actions/_resources).
_FRESH = "\x01"


class DocumentError(ValueError):
    """The value is not a policy document IAM would accept; the message says why."""


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    allow: bool
    actions: tuple[str, ...] | None
    """Known patterns of `Action` (None when the statement uses NotAction)."""
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    has_condition: bool
    condition_keys: frozenset[str]
    """Condition keys, lower-cased, across operators (`iam:passedtoservice`)."""
    unknown_in: frozenset[str]
    """Elements holding a value not known yet: `Action`, `Resource`, `Condition`..."""

    @property
    def has_unknowns(self) -> bool:
        return bool(self.unknown_in)

    @property
    def label(self) -> str:
        return f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")


def field(statement: dict[str, Any], name: str) -> Any:
    """Element names matched case-insensitively (fail closed against `action` vs `Action` tricks)."""
    for key, value in statement.items():
        if isinstance(key, str) and key.lower() == name.lower():
            return value
    return None


def _strings(value: Any, where: str) -> tuple[tuple[str, ...], bool]:
    """Known strings of a string-or-list element, and whether any element was unknown."""
    if value is UNKNOWN:
        return (), True
    items = value if isinstance(value, list) else [value]
    known: list[str] = []
    unknown = False
    for item in items:
        if item is UNKNOWN:
            unknown = True
        elif isinstance(item, str):
            known.append(item)
        else:
            raise DocumentError(f"{where}: {item!r} is not a string")
    return tuple(known), unknown


def parse_document(value: Any) -> list[Statement]:
    """The statements of a document given as JSON text or as a dict (as pulumi_aws accepts both)."""
    if value is UNKNOWN:
        raise DocumentError("the document is not known yet (it is computed from resources still being created)")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise DocumentError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise DocumentError(f"a policy document is a JSON object, not {type(value).__name__}")
    raw = field(value, "Statement")
    if raw is UNKNOWN:
        raise DocumentError("its Statement is not known yet")
    if raw is None:
        raise DocumentError("it has no Statement")
    items = raw if isinstance(raw, list) else [raw]
    statements: list[Statement] = []
    for index, item in enumerate(items):
        if item is UNKNOWN:
            raise DocumentError(f"statement {index} is not known yet")
        if not isinstance(item, dict):
            raise DocumentError(f"statement {index} is not a JSON object")
        effect = field(item, "Effect")
        # An unknown or odd Effect is read as Allow: a Deny cannot excuse anything here anyway.
        allow = not (isinstance(effect, str) and effect.lower() == "deny")
        unknown_in: set[str] = set()
        parsed: dict[str, tuple[str, ...] | None] = {}
        for name in ("Action", "NotAction", "Resource", "NotResource"):
            element = field(item, name)
            if element is None:
                parsed[name] = None
                continue
            known, element_unknown = _strings(element, f"statement {index}: {name}")
            parsed[name] = known
            if element_unknown:
                unknown_in.add(name)
        condition = field(item, "Condition")
        condition_keys: set[str] = set()
        if condition is UNKNOWN:
            unknown_in.add("Condition")
        elif isinstance(condition, dict):
            for operator in condition.values():
                if operator is UNKNOWN:
                    unknown_in.add("Condition")
                elif isinstance(operator, dict):
                    condition_keys.update(k.lower() for k in operator if isinstance(k, str))
        sid = field(item, "Sid")
        statements.append(
            Statement(
                index=index,
                sid=sid if isinstance(sid, str) else None,
                allow=allow,
                actions=parsed["Action"],
                not_actions=parsed["NotAction"],
                resources=parsed["Resource"],
                not_resources=parsed["NotResource"],
                has_condition=condition is not None,
                condition_keys=frozenset(condition_keys),
                unknown_in=frozenset(unknown_in),
            )
        )
    return statements


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern.lower())
    return re.compile("".join(parts), re.DOTALL)


def matches(pattern: str, value: str) -> bool:
    """IAM wildcard matching, case-insensitive (exact for actions; fail-closed for ARNs)."""
    return _glob(pattern).fullmatch(value.lower()) is not None


def _names(listed: tuple[str, ...] | None, excluded: tuple[str, ...] | None, value: str) -> bool:
    """`Action`/`Resource` grant what they list; `NotAction`/`NotResource` grant all they do not list."""
    if listed is not None:
        return any(matches(p, value) for p in listed)
    if excluded is not None:
        return not any(matches(p, value) for p in excluded)
    return False


def _allows_action(statement: Statement, action: str) -> bool:
    return statement.allow and _names(statement.actions, statement.not_actions, action)


def _grants(statement: Statement, action: str, resource: str) -> bool:
    return _allows_action(statement, action) and _names(statement.resources, statement.not_resources, resource)


@functools.cache
def sagemaker_actions() -> tuple[str, ...]:
    """Every SageMaker action in the IAM database, plus one no database knows yet (a future action)."""
    from policy_sentry.querying.actions import get_actions_for_service

    return (*sorted(get_actions_for_service("sagemaker")), f"sagemaker:{_FRESH * 3}")


@functools.cache
def _sagemaker_resource_templates() -> tuple[str, ...]:
    from policy_sentry.querying.arns import get_raw_arns_for_service

    return tuple(sorted(set(get_raw_arns_for_service("sagemaker"))))


def _literal(fields: list[str], index: int, fresh: str) -> str:
    """An ARN field as written when it has no wildcard, else a value no pattern names."""
    field = fields[index] if len(fields) > index else "*"
    return fresh if ("*" in field or "?" in field) else field


def _scopes(statements: list[Statement]) -> set[tuple[str, str, str]]:
    """(partition, region, account) to test: each field a pattern names literally, a fresh value otherwise,
    so that `arn:aws-cn:sagemaker:*` or `arn:aws:sagemaker:eu-west-1:*:*` are judged in their own scope."""
    scopes = {("aws", f"r{_FRESH}", f"a{_FRESH}")}
    for statement in statements:
        for pattern in (statement.resources or ()) + (statement.not_resources or ()):
            fields = pattern.split(":", 5)
            if len(fields) < 3 or not matches(fields[2], "sagemaker"):
                continue

            scopes.add(
                (_literal(fields, 1, "aws"), _literal(fields, 3, f"r{_FRESH}"), _literal(fields, 4, f"a{_FRESH}"))
            )
    return scopes


def sagemaker_resources(partition: str, region: str, account: str) -> tuple[str, ...]:
    """One ARN per SageMaker resource type (names no pattern can name), and one of a type yet to come."""
    arns = [
        re.sub(r"\$\{[^}]*\}", _FRESH * 5, t)
        .replace(f"arn:{_FRESH * 5}:", f"arn:{partition}:", 1)
        .replace(f":sagemaker:{_FRESH * 5}:{_FRESH * 5}:", f":sagemaker:{region}:{account}:", 1)
        for t in _sagemaker_resource_templates()
    ]
    return (*arns, f"arn:{partition}:sagemaker:{region}:{account}:{_FRESH * 4}/{_FRESH * 4}")


def resource_type(template: str) -> str:
    """`domain` for `arn:${Partition}:sagemaker:${Region}:${Account}:domain/${DomainId}`."""
    return re.split(r"[/:]", template.split(":", 5)[5], maxsplit=1)[0]


@dataclass(frozen=True)
class FullAccessGrant:
    statements: tuple[Statement, ...]
    scope: tuple[str, str, str]
    spared_types: tuple[str, ...]
    """Resource types AWS has published that the grant leaves out (AmazonSageMakerFullAccess spares a few
    Studio types through NotResource): named in the finding, never an excuse."""

    def describe(self) -> str:
        labels = ", ".join(s.label for s in self.statements)
        partition, region, account = self.scope
        where = "every region and account" if _FRESH in region else f"{partition}/{region}/{account}"
        but = f" but {', '.join(self.spared_types)}" if self.spared_types else ""
        verb = "grants" if len(self.statements) == 1 else "together grant"
        return f"{labels} {verb} every SageMaker action on every SageMaker resource{but} ({where})"


def sagemaker_full_access(statements: list[Statement]) -> FullAccessGrant | None:
    """Whether the Allow statements together grant every SageMaker action, those AWS has not published
    included, on every SageMaker resource they do not single out: a resource of a type no pattern names,
    in some region and account. Only an open-ended grant reaches such a resource (a `*` pattern spanning
    the service, or NotResource), so `sagemaker:*` on `*` and AmazonSageMakerFullAccess, which spares a
    handful of Studio types through NotResource, are both caught, while a grant on named resource types is
    not. Returns the statements involved and the published types the grant leaves out."""
    actions = sagemaker_actions()
    candidates = [s for s in statements if any(_allows_action(s, a) for a in actions)]
    if not candidates:
        return None
    for scope in sorted(_scopes(candidates)):
        *published, unnamed = sagemaker_resources(*scope)
        involved: set[int] = set()
        for action in actions:
            granting = next((s for s in candidates if _grants(s, action, unnamed)), None)
            if granting is None:
                break
            involved.add(granting.index)
        else:
            templates = _sagemaker_resource_templates()
            spared = sorted(
                {
                    resource_type(template)
                    for template, arn in zip(templates, published, strict=True)
                    if not all(any(_grants(s, a, arn) for s in candidates) for a in actions)
                }
            )
            return FullAccessGrant(tuple(s for s in candidates if s.index in involved), scope, tuple(spared))
    return None


def undecided(statements: list[Statement]) -> list[Statement]:
    """Allow statements whose unknown values could complete a full SageMaker grant: an unknown action (it
    could be `sagemaker:*`), or unknown resources beside actions that already cover every SageMaker action
    (only a wildcard does, as it must cover actions AWS has not published)."""
    future_action = sagemaker_actions()[-1]
    return [
        s
        for s in statements
        if s.allow and ("Action" in s.unknown_in or ("Resource" in s.unknown_in and _allows_action(s, future_action)))
    ]
