"""Which environment a stack is, the enforcement level that follows, and values as the engine sent them.

A stack is prod when its name matches `PROD_STACK_PATTERNS`. The name is the one the engine reports: the
CLI starts the pack with PULUMI_STACK set (what `pulumi.get_stack()` returns in the pack). Tags or config
a program sets are never consulted: the program is what is being judged.

Levels: every policy of this pack is mandatory in prod and advisory elsewhere, unless the policy-pack config
(`policies/config/<env>.json`, passed with `--policy-pack-config`) says otherwise. The default level is what
the pack reports to the CLI (GetAnalyzerInfo), decided from the stack the pack was started for; a pack
started without a stack (no PULUMI_STACK) cannot tell and treats the stack as prod (fail closed).
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Callable, Mapping, Sequence
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

from .iam_semantics import UNKNOWN

PROD_STACK_PATTERNS = ("prod", "prod-*", "production")
"""Stack names (shell-style patterns, case-insensitive) that are prod. Edit here for another convention."""


class Report(Protocol):
    """The SDK's report_violation: a message, and the URN when a stack policy reports on one resource."""

    def __call__(self, message: str, urn: str | None = None, /) -> None: ...


def is_prod(stack: str | None) -> bool:
    """Unknown stack names are prod: fail closed."""
    if stack is None:
        return True
    return any(fnmatch.fnmatchcase(stack.lower(), pattern) for pattern in PROD_STACK_PATTERNS)


def reported_stack() -> str | None:
    """The stack the engine started the pack for, or None when it did not say.

    Read from PULUMI_STACK, the variable the CLI sets and `pulumi.get_stack()` is configured from: the SDK
    configures it per request thread for Analyze, but not for GetAnalyzerInfo, where the default level is
    decided (there `pulumi.get_stack()` still answers its placeholder, "stack")."""
    return os.environ.get("PULUMI_STACK") or None


def default_level() -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if is_prod(reported_stack()) else EnforcementLevel.ADVISORY


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


def _schema(defaults: Mapping[str, Any]) -> PolicyConfigSchema | None:
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
    return PolicyConfigSchema(properties=properties)


class EnvironmentResourcePolicy(_EnvironmentLevel, ResourceValidationPolicy):  # type: ignore[misc]
    def __init__(
        self,
        name: str,
        description: str,
        validate: Callable[[ResourceValidationArgs, Report], None],
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.defaults = dict(config or {})
        super().__init__(name, description, validate, config_schema=_schema(self.defaults))  # type: ignore[arg-type]


class EnvironmentStackPolicy(_EnvironmentLevel, StackValidationPolicy):  # type: ignore[misc]
    def __init__(
        self,
        name: str,
        description: str,
        validate: Callable[[StackValidationArgs, Report], None],
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.defaults = dict(config or {})
        super().__init__(name, description, validate, config_schema=_schema(self.defaults))  # type: ignore[arg-type]


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
