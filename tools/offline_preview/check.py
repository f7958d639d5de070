"""Hand a planned stack to policy packs as the engine does: Analyze per resource, AnalyzeStack for the graph."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_STRING  # the engine's wire form of a value not known yet

from tools.offline_preview.analyzer import Diagnostic, PolicyPack, StackResource
from tools.offline_preview.program import Plan, Resource


def to_wire(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN_STRING
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _provider_urn(reference: str) -> str:
    return reference.rsplit("::", 1)[0] if reference else ""


def _default_provider(plan: Plan, package: str) -> StackResource:
    """The engine's default provider for a package: configured from the stack's `<package>:*` keys."""
    properties = {k.split(":", 1)[1]: v for k, v in plan.config.items() if k.startswith(f"{package}:")}
    return StackResource(
        urn=f"urn:pulumi:{plan.stack}::{plan.project}::pulumi:providers:{package}::default",
        type=f"pulumi:providers:{package}",
        name="default",
        properties=properties,
    )


def analyzer_resources(plan: Plan) -> list[StackResource]:
    """Every registered resource, with its provider, parent and dependencies, in registration order."""
    providers = {
        r.urn: StackResource(r.urn, r.type, r.name, r.wire_inputs)
        for r in plan.resources
        if r.type.startswith("pulumi:providers:")
    }
    defaults: dict[str, StackResource] = {}

    def provider_of(resource: Resource) -> StackResource | None:
        if not resource.custom or resource.type.startswith("pulumi:providers:"):
            return None
        urn = _provider_urn(resource.provider)
        if urn in providers:
            return providers[urn]
        package = resource.type.split(":", 1)[0]
        return defaults.setdefault(package, _default_provider(plan, package))

    result = []
    for r in plan.resources:
        state = dict(r.wire_inputs)
        for key, value in r.outputs.items():
            state.setdefault(key, to_wire(value))
        result.append(
            StackResource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                properties=state,
                parent=r.parent,
                provider=provider_of(r),
                dependencies=tuple(r.dependencies),
                property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
                options=r.options,
            )
        )
    return result


def check(plan: Plan, pack: PolicyPack) -> list[Diagnostic]:
    """Every resource through Analyze, then the whole stack through AnalyzeStack (the pack is configured)."""
    resources = analyzer_resources(plan)
    inputs = {r.urn: r.wire_inputs for r in plan.resources}
    found: list[Diagnostic] = []
    for resource in resources:
        # Analyze sees the inputs a resource is about to be created or updated with; AnalyzeStack its state.
        diagnostics = pack.analyze(replace(resource, properties=inputs[resource.urn]))
        # The engine attributes a resource policy's violation to the resource analyzed.
        found.extend(replace(d, resource_urn=d.resource_urn or resource.urn) for d in diagnostics)
    found.extend(pack.analyze_stack(resources))
    return found
