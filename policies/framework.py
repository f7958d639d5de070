"""The pack's framework: enforcement levels per environment, the policy classes, values as the engine sent them.

Levels fail closed: every policy of this pack is mandatory unless the policy-pack config says otherwise. The
config CI passes per environment (`policies/config/<env>.json`, with `--policy-pack-config`) makes dev and
staging advisory (`"all": "advisory"`); any stack run without a config, or with prod's, whatever its name
(`prod`, `live`, `prd`, `production-eu`), gets prod's levels. Stack names are never read.

A policy never crashes and never lets the SDK downgrade it: whatever its code raises (an unknown value it
touched, a document too deep to read), the policy reports a violation saying so, and the other policies of
the pack still run.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""A value the engine does not know yet (preview): what `plain()` puts where the engine sent an unknown."""


@dataclass(frozen=True)
class Finding:
    """A stack policy's verdict on one principal: the message the pack reports, and what it rests on as data
    (`ml-pipelines audit-account` prints the witness; the pack prints the message)."""

    urn: str | None
    message: str
    witness: Mapping[str, Any] = field(default_factory=dict)
    """`action`, `resource` and `statements` (the Statements that grant it) where the rule has them; the
    rule's own facts besides (an escalation's method, PassRole's problems, a trust's statement)."""


def report_all(found: Any, report: Report) -> None:
    """Report each finding as the pack does: its message, on its resource."""
    for finding in found:
        report(finding.message, finding.urn)


class Report(Protocol):
    """The SDK's report_violation: a message, and the URN when a stack policy reports on one resource."""

    def __call__(self, message: str, urn: str | None = None, /) -> None: ...


def default_level() -> EnforcementLevel:
    """Mandatory: a stack is held to prod's levels unless its config relaxes them (fail closed)."""
    return EnforcementLevel.MANDATORY


class _EnvironmentLevel:
    """`enforcement_level` defaults to the environment's level; an explicit level (constructor or config)
    wins, as the SDK reads config levels before this attribute."""

    _explicit_level: EnforcementLevel | None = None

    @property
    def enforcement_level(self) -> EnforcementLevel:
        return self._explicit_level if self._explicit_level is not None else default_level()

    @enforcement_level.setter
    def enforcement_level(self, value: EnforcementLevel | None) -> None:
        self._explicit_level = value


def _schema(
    defaults: Mapping[str, Any], schemas: Mapping[str, dict[str, Any]] | None = None
) -> PolicyConfigSchema | None:
    """Each setting's JSON Schema, from its default's type unless `schemas` says more (the engine validates
    the merged config with it and prints every error)."""
    if not defaults:
        return None
    properties: dict[str, dict[str, Any]] = {}
    for key, value in defaults.items():
        if isinstance(value, list):
            properties[key] = {"type": "array", "items": {"type": "string"}, "default": value}
        elif isinstance(value, bool):
            properties[key] = {"type": "boolean", "default": value}
        elif isinstance(value, int):
            properties[key] = {"type": "integer", "minimum": 1, "default": value}
        else:
            properties[key] = {"type": "string", "default": value}
    for key, schema in (schemas or {}).items():
        properties[key] = {**schema, "default": defaults[key]}
    return PolicyConfigSchema(properties=properties)


class _EnvironmentPolicy(_EnvironmentLevel):
    """A policy of this pack: its validation guarded (`_guarded`), its settings' defaults kept (`setting()`) and
    turned into the config schema the engine validates."""

    def __init__(
        self,
        name: str,
        description: str,
        validate: Callable[[Any, Report], None],
        config: Mapping[str, Any] | None = None,
        schemas: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self.defaults = dict(config or {})
        guarded = _guarded(name, validate)
        super().__init__(name, description, guarded, config_schema=_schema(self.defaults, schemas))  # type: ignore[call-arg]


class EnvironmentResourcePolicy(_EnvironmentPolicy, ResourceValidationPolicy):  # type: ignore[misc]
    """Validates each resource (`validate(args: ResourceValidationArgs, report)`), and notes which properties the
    program set on it (`program_set`)."""

    def __init__(
        self, name: str, description: str, validate: Callable[[Any, Report], None], *settings: Any, **named: Any
    ) -> None:
        def noting(args: Any, report: Report) -> None:
            _PROGRAM_SET[args.urn] = frozenset(args.props.keys())
            validate(args, report)

        super().__init__(name, description, noting, *settings, **named)


_PROGRAM_SET: dict[str, frozenset[str]] = {}
"""URN -> the properties the program set: the engine's `Analyze` carries a resource's inputs, before its stack
policies get its outputs (`AnalyzeResources`, after every resource)."""


_PLAIN: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_ABSENT = object()


def stack_plain(resource: Any) -> Any:
    """A stack resource's properties (`plain`), without those the provider computes that are not known yet: an
    output unknown at a preview that the program did not set is the provider's to fill (pulumi_aws's Optional and
    Computed attributes: a topic's or a queue's `policy`, a role's `inlinePolicies`), which another resource of the
    stack sets or AWS already holds, not a grant of the program's. Where no resource policy of the pack saw the
    resource (all of them disabled), every unknown stays one (fail closed).

    Read once per resource object: the pack's servicer hands every stack policy the same objects
    (`policies/servicer.py`), and no policy changes what it reads."""
    props = _PLAIN.get(resource, _ABSENT)
    if props is _ABSENT:
        props = _PLAIN[resource] = plain(resource.props)
    program_set = _PROGRAM_SET.get(resource.urn)
    if program_set is None or not isinstance(props, dict):
        return props
    return {key: value for key, value in props.items() if value is not UNKNOWN or key in program_set}


class EnvironmentStackPolicy(_EnvironmentPolicy, StackValidationPolicy):  # type: ignore[misc]
    """Validates the whole stack (`validate(args: StackValidationArgs, report)`)."""


def _guarded(name: str, validate: Callable[[Any, Report], None]) -> Callable[[Any, Report], None]:
    """The policy's validation, its failures reported as violations: fail closed, and the SDK never turns an
    unknown value into an advisory "can't run policy" line."""

    def run(args: Any, report: Report) -> None:
        try:
            validate(args, report)
        except UnknownValueError as exc:
            report(f"{name} could not decide: {exc.message}; a value it needs must be known at preview")
        except RecursionError:
            report(f"{name} could not read a value nested deeper than it follows; such a value is not allowed")
        except Exception as exc:
            report(
                f"{name} failed while judging ({type(exc).__name__}: {str(exc)[:200]}); nothing it could not "
                "judge is allowed"
            )

    return run


def setting(args: ResourceValidationArgs | StackValidationArgs, defaults: Mapping[str, Any], key: str) -> Any:
    """A policy's config value: the pack config's, else the schema default (the SDK passes no defaults when
    it is driven without the CLI's config reconciliation)."""
    config = args.get_config() or {}
    return config.get(key, defaults[key])


def plain(value: Any) -> Any:
    """The SDK's unknown-checking proxies as plain dicts and lists, with `UNKNOWN` where the engine sent an
    unknown: the policies decide about unknowns themselves instead of the SDK downgrading them to advisory."""
    if isinstance(value, Mapping):
        result: dict[Any, Any] = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def json_or_value(value: Any) -> Any:
    """Provider inputs arrive JSON-encoded (`defaultTags` is a string): decode when it is JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def label(resource_type: str, name: str) -> str:
    return f'{resource_type} "{name}"'
