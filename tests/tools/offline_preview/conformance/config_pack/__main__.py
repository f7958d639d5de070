"""Policies whose config schemas use the JSON Schema keywords pulumi-policy's own config tests exercise."""

import json

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, StackValidationPolicy


def reports_config(args, report):
    report(json.dumps(args.get_config(), sort_keys=True))


def policy(name, properties, required=None, level=EnforcementLevel.ADVISORY):
    return StackValidationPolicy(
        name=name,
        description=f"Reports its config ({name}).",
        validate=reports_config,
        enforcement_level=level,
        config_schema=PolicyConfigSchema(properties=properties, required=required),
    )


PolicyPack(
    name="config-policy",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        policy("required-string", {"foo": {"type": "string"}}, required=["foo"]),
        policy("bounded", {"foo": {"type": "string", "minLength": 2, "maxLength": 3}, "bar": {"type": "integer"}}),
        policy("choices", {"foo": {"type": "string", "enum": ["bar", "baz"]}, "qux": {"const": "bar"}}),
        policy("defaults", {"count": {"type": "integer", "minimum": 1, "default": 2}, "name": {"type": "string"}}),
        policy("disabled-by-default", {}, level=EnforcementLevel.DISABLED),
        policy("from-initial-config", {"mode": {"type": "string"}}),
    ],
    initial_config={"from-initial-config": {"mode": "initial"}},
)
