"""Policy pack config as the Pulumi engine reads, merges and validates it.

Followed: pulumi/pulumi `pkg/resource/analyzer/config.go` (`parsePolicyPackConfig`, `extractEnforcementLevel`,
`ReconcilePolicyPackConfig`, `applyConfig`, `validatePolicyConfig`, `convertSchema`) and the message the
engine prints in `pkg/engine/update.go` (`installAndLoadPolicyPlugins`):
`validating policy config: <pack> <version>  <policy>: <error>`, every error of every policy, sorted.

The engine validates with gojsonschema; this module validates with `jsonschema` and words each error as
gojsonschema's default locale does (`locales.go`), so that the lines match the CLI's.
What the engine accepts, this accepts too: a config naming a policy the pack does not have, or a setting a
policy's schema does not declare, is passed through (its schema has no `additionalProperties`).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class ConfigError(Exception):
    """The config cannot be used; `lines` holds every error, each one line (the engine prints them all)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass
class PolicyConfig:
    """One entry of the reconciled config: what `Configure` sends for a policy."""

    enforcement_level: str = ""
    properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class PolicyInfo:
    """What the pack's GetAnalyzerInfo says of one policy."""

    name: str
    enforcement_level: str
    schema_properties: dict[str, Any] | None = None
    """None when the policy declares no config schema (the engine then validates nothing for it)."""
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    policies: tuple[PolicyInfo, ...]
    initial_config: dict[str, PolicyConfig] = field(default_factory=dict)


def _go_value(value: Any) -> str:
    """Go's `%v` of a JSON value, for the engine's parse errors."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    return str(value)


def _level_error(name: str, level: Any) -> str | None:
    """The engine's words for a level it refuses (`extractEnforcementLevel`, `parsePolicyPackConfig`)."""
    if not isinstance(level, str):
        return (
            f"parsing enforcement level for {json.dumps(name)}: {_go_value(level)} is not a valid enforcement level; "
            "must be a string"
        )
    if level not in LEVELS:  # case-sensitive, as apitype.EnforcementLevel.IsValid
        return f"parsing enforcement level for {json.dumps(name)}: {json.dumps(level)} is not a valid enforcement level"
    return None


def parse(text: str, path: Path | str) -> dict[str, PolicyConfig]:
    """A `--policy-pack-config` file: `{"all": level, "<policy>": level | {"enforcementLevel": level, ...}}`.

    Errors carry the engine's words, prefixed with the file and followed by what is accepted."""
    if not text.strip():
        return {}  # the engine accepts an empty file
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{path}: not valid JSON ({exc})"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: a JSON object of policy names to levels or settings is required"])
    result: dict[str, PolicyConfig] = {}
    for name, value in data.items():
        if isinstance(value, dict):
            properties = dict(value)
            level = properties.pop("enforcementLevel", "")
            error = _level_error(name, level) if "enforcementLevel" in value else None
        elif isinstance(value, str):
            properties, level, error = {}, value, _level_error(name, value)
        else:
            raise ConfigError(
                [
                    f"{path}: parsing {json.dumps(name)}: {_go_value(value)} is not a valid value; must be a string "
                    "or object"
                ]
            )
        if error:
            raise ConfigError([f"{path}: {error} (accepted: {', '.join(LEVELS)})"])
        if level or properties:  # the engine drops empty entries
            result[name] = PolicyConfig(level, properties or None)
    return result


def load(path: Path) -> dict[str, PolicyConfig]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such policy pack config file"]) from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read as a policy pack config file ({exc})"]) from None
    return parse(text, path)


def _apply(result: dict[str, PolicyConfig], given: Mapping[str, PolicyConfig]) -> None:
    everything = given.get("all")
    if everything is not None and everything.enforcement_level in LEVELS:
        for entry in result.values():
            entry.enforcement_level = everything.enforcement_level
    # Like the engine, "all" itself also lands in the result (and is sent to the pack, which ignores it).
    for name, config in given.items():
        current = result.get(name) or PolicyConfig()
        level = config.enforcement_level if config.enforcement_level in LEVELS else current.enforcement_level
        properties = current.properties
        if config.properties:
            properties = {**(properties or {}), **config.properties}
        result[name] = PolicyConfig(level, properties)


def reconcile(info: PackInfo, configs: Iterable[Mapping[str, PolicyConfig]]) -> dict[str, PolicyConfig]:
    """Schema defaults, then the pack's initial config, then each config given; validated as a whole."""
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        defaults = {
            key: schema["default"]
            for key, schema in (policy.schema_properties or {}).items()
            if isinstance(schema, dict) and "default" in schema
        }
        result[policy.name] = PolicyConfig(policy.enforcement_level, defaults or None)
    if info.initial_config:
        _apply(result, info.initial_config)
    for config in configs:
        _apply(result, config)
    errors = [
        f"validating policy config: {info.name} {info.version}  {policy.name}: {message}"
        for policy in info.policies
        if policy.schema_properties is not None
        for message in validate(policy, (result[policy.name].properties or {}))
    ]
    if errors:
        raise ConfigError(sorted(errors))
    return result


def validate(policy: PolicyInfo, properties: Mapping[str, Any]) -> list[str]:
    """gojsonschema's messages for `properties` against the schema the engine builds (`convertSchema`)."""
    schema: dict[str, Any] = {"type": "object"}
    if policy.schema_properties:
        schema["properties"] = policy.schema_properties
    if policy.required:
        schema["required"] = list(policy.required)
    # gojsonschema checks `format` by default: so does this.
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [_gojsonschema_message(error) for error in validator.iter_errors(dict(properties))]


def integral(value: Any) -> Any:
    """Numbers as JSON wrote them: a protobuf Struct carries every number as a float (3 arrives as 3.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _gojsonschema_message(error: jsonschema.ValidationError) -> str:
    """`<field>: <description>` as gojsonschema's ErrorFormat, with the engine's "(root): " trimmed."""
    path = ".".join(str(part) for part in error.absolute_path)
    field = path or "(root)"
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = ast.literal_eval(error.message.rsplit(" is a required property", 1)[0])
        description = f"{missing} is required"
    elif kind == "type":
        wanted = expected if isinstance(expected, str) else ", ".join(expected)
        description = f"Invalid type. Expected: {wanted}, given: {_type_name(value)}"
    elif kind == "enum":
        description = f"{field} must be one of the following: {', '.join(json.dumps(v) for v in expected)}"
    elif kind == "const":
        description = f"{field} does not match: {json.dumps(expected)}"
    else:
        description = {
            "minLength": f"String length must be greater than or equal to {expected}",
            "maxLength": f"String length must be less than or equal to {expected}",
            "pattern": f"Does not match pattern '{expected}'",
            "format": f"Does not match format '{expected}'",
            "minimum": f"Must be greater than or equal to {_number(expected)}",
            "maximum": f"Must be less than or equal to {_number(expected)}",
            "exclusiveMinimum": f"Must be greater than {_number(expected)}",
            "exclusiveMaximum": f"Must be less than {_number(expected)}",
            "multipleOf": f"Must be a multiple of {_number(expected)}",
            "minItems": f"Array must have at least {expected} items",
            "maxItems": f"Array must have at most {expected} items",
            "uniqueItems": "array items must be unique",
            "minProperties": f"Must have at least {expected} properties",
            "maxProperties": f"Must have at most {expected} properties",
            "anyOf": "Must validate at least one schema (anyOf)",
            "oneOf": "Must validate one and only one schema (oneOf)",
            "allOf": "Must validate all the schemas (allOf)",
            "not": "Must not validate the schema (not)",
        }.get(str(kind), error.message)
        if kind == "additionalProperties":
            extra = sorted(set(value) - set(error.schema.get("properties", {})))
            description = f"Additional property {extra[0] if extra else '?'} is not allowed"
    return f"{field}: {description}" if field != "(root)" else description
