"""Hand a planned stack to policy packs as the engine does.

Followed: pulumi/pulumi `pkg/resource/deploy/step_generator.go`. For each resource, in registration order
(the root stack first, each default provider just before the first resource that uses it), every pack's
`Remediate` runs first and each remediation's properties become the inputs; then every pack's `Analyze`
runs on those final inputs ("we want analyzers to run on the final resource states"). Once every
resource is through, `AnalyzeStack` gets each resource's state (`AnalyzeResources`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_STRING  # the engine's wire form of a value not known yet

from tools.mock_runtime.program import Plan, Resource
from tools.offline_preview.analyzer import Diagnostic, PolicyPack, Remediation, StackResource


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


@dataclass
class Findings:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)


class _Graph:
    """The plan's resources as analyzer resources, read from their current inputs (remediations change
    them as the check goes)."""

    def __init__(self, plan: Plan) -> None:
        self.by_urn = {r.urn: r for r in plan.resources}

    def provider_of(self, resource: Resource) -> StackResource | None:
        if not resource.custom or resource.is_provider or not resource.provider:
            return None
        provider = self.by_urn.get(resource.provider.rsplit("::", 1)[0])
        if provider is None:
            return None
        return StackResource(provider.urn, provider.type, provider.name, provider.wire_inputs)

    def inputs(self, resource: Resource) -> StackResource:
        """What Analyze and Remediate see: the inputs about to be sent to the provider."""
        return StackResource(
            urn=resource.urn,
            type=resource.type,
            name=resource.name,
            properties=resource.wire_inputs,
            parent=resource.parent,
            provider=self.provider_of(resource),
            options=resource.options,
        )

    def state(self, resource: Resource) -> StackResource:
        """What AnalyzeStack sees: a custom resource's inputs and the outputs the provider added; a component's
        (or the root stack's) registered outputs, as the engine stores them."""
        if not resource.custom:
            properties = {key: to_wire(value) for key, value in resource.outputs.items()}
        else:
            properties = dict(resource.wire_inputs)
            for key, value in resource.outputs.items():
                if key not in resource.made_up:  # made up for the program: AWS gave no such value
                    properties.setdefault(key, to_wire(value))
        return replace(
            self.inputs(resource),
            properties=properties,
            dependencies=tuple(resource.dependencies),
            property_dependencies={k: tuple(v) for k, v in resource.property_dependencies.items()},
        )


def check(plan: Plan, packs: list[PolicyPack]) -> Findings:
    """Every resource through every pack's Remediate then Analyze, then the stack through AnalyzeStack.

    The packs are configured. Remediated inputs are written back to the plan, so that the output shows what
    would be sent to the provider."""
    graph = _Graph(plan)
    findings = Findings()
    for resource in plan.resources:
        for pack in packs:
            if not pack.remediates:
                continue  # the SDK's Remediate only runs policies at the remediate level: nothing to ask
            applied, diagnostics, resource.wire_inputs = pack.remediate(graph.inputs(resource))
            findings.remediations.extend(applied)
            findings.diagnostics.extend(diagnostics)
        for pack in packs:
            findings.diagnostics.extend(pack.analyze(graph.inputs(resource)))
    states = [graph.state(r) for r in plan.resources]
    for pack in packs:
        findings.diagnostics.extend(pack.analyze_stack(states))
    return findings
