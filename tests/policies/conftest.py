"""Drive single policies the way the SDK does: wire-form properties, deserialized and wrapped in the SDK's
unknown-checking proxy, then `validate(args, report_violation)`."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyProviderResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

UNKNOWN = UNKNOWN_STRING_VALUE
"""How the engine sends a value not known yet."""


def props(values: dict[str, Any]) -> Any:
    return unknown_checking_proxy(deserialize_properties(json.loads(json.dumps(values))))


def urn(type_: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::ml-pipelines::{type_}::{name}"


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource_args(
    type_: str,
    values: dict[str, Any],
    *,
    name: str = "subject",
    stack: str = "prod",
    provider: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> ResourceValidationArgs:
    provider_resource = (
        PolicyProviderResource("pulumi:providers:aws", props(provider), urn("pulumi:providers:aws", "aws"), "aws")
        if provider is not None
        else None
    )
    return ResourceValidationArgs(
        type_, props(values), urn(type_, name, stack), name, _opts(), provider_resource, config
    )


def violations(policy: Any, args: ResourceValidationArgs | StackValidationArgs) -> list[str]:
    """The messages a policy reports (what follows the SDK's description line)."""
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


class Stack:
    """A stack for stack policies: resources with property dependencies by name."""

    def __init__(self, stack: str = "prod") -> None:
        self.stack = stack
        self.resources: dict[str, PolicyResource] = {}

    def add(self, type_: str, name: str, values: dict[str, Any], *, custom: bool = False, **depends: str) -> Stack:
        """`custom`: with the default provider, as the engine registers every custom resource."""
        provider = (
            PolicyProviderResource("pulumi:providers:aws", {}, urn("pulumi:providers:aws", "default"), "default")
            if custom
            else None
        )
        resource = PolicyResource(
            type_, props(values), urn(type_, name, self.stack), name, _opts(), provider, None, [], {}
        )
        for prop, target in depends.items():
            resource.property_dependencies[prop] = [self.resources[target]]
        self.resources[name] = resource
        return self

    def via(self, resource: str, provider: str) -> Stack:
        """Deploy `resource` through the explicit provider `provider` (a `pulumi:providers:aws` resource added
        before, whose properties the model reads)."""
        found = self.resources[provider]
        self.resources[resource].provider = PolicyProviderResource(
            found.resource_type, found.props, found.urn, found.name
        )
        return self

    def args(self, config: dict[str, Any] | None = None) -> StackValidationArgs:
        return StackValidationArgs(list(self.resources.values()), config)
