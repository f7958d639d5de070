"""Hand a planned stack to policy packs as the engine does.

Followed: pulumi/pulumi `pkg/resource/deploy/step_generator.go`. For each resource, in registration order
(the root stack first, each default provider just before the first resource that uses it), every pack's
`Remediate` runs first and each remediation's properties become the inputs; then every pack's `Analyze`
runs on those final inputs ("we want analyzers to run on the final resource states"). Once every
resource is through, `AnalyzeStack` gets each resource's state (`AnalyzeResources`).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_STRING  # the engine's wire form of a value not known yet

from tools.mock_runtime.program import Plan, Resource
from tools.mock_runtime.schema import output_names
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


def _provider_of(resource: Resource, by_urn: dict[str, Resource]) -> StackResource | None:
    if not resource.custom or resource.is_provider or not resource.provider:
        return None
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
    if provider is None:
        return None
    return StackResource(provider.urn, provider.type, provider.name, provider.wire_inputs)


def _inputs(resource: Resource, by_urn: dict[str, Resource]) -> StackResource:
    """What Analyze and Remediate see: the inputs about to be sent to the provider."""
    return StackResource(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        properties=resource.wire_inputs,
        parent=resource.parent,
        provider=_provider_of(resource, by_urn),
        options=resource.options,
    )


class _Graph:
    """The plan's resources as analyzer resources, read from their current inputs (remediations change
    them as the check goes)."""

    def __init__(self, plan: Plan) -> None:
        self.by_urn = {r.urn: r for r in plan.resources}
        self.preview = plan.preview
        self.held = _held_by_roles(plan)

    def inputs(self, resource: Resource) -> StackResource:
        return _inputs(resource, self.by_urn)

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
            if self.preview and not resource.is_provider:
                # The worst a planned resource's state can be: every output the program does not set unknown
                # (the engine's is that for each Optional and Computed one; a pack passing this passes that).
                for key in output_names(resource.type):
                    properties.setdefault(key, UNKNOWN_STRING)
            if resource.type == ROLE and not self.preview:
                for key in ROLE_COMPUTED:
                    if key not in resource.inputs:
                        # Optional and Computed: once read, what the role holds (unknown while planned, above).
                        properties[key] = self.held[resource.urn][key]
        return replace(
            self.inputs(resource),
            properties=properties,
            dependencies=tuple(resource.dependencies),
            property_dependencies={k: tuple(v) for k, v in resource.property_dependencies.items()},
        )


ROLE = "aws:iam/role:Role"
ROLE_COMPUTED = ("inlinePolicies", "managedPolicyArns")
"""pulumi_aws's Optional and Computed lists of a role (terraform-provider-aws `internal/service/iam/role.go`:
`inline_policy` and `managed_policy_arns`, `Optional: true, Computed: true`): a planned role the program does not
set them on has them unknown, and the role's read sets them to every inline policy and managed policy it holds
(`readRoleInlinePolicies`, `readRolePolicyAttachments`). AnalyzeStack gets them as outputs."""


def _held_by_roles(plan: Plan) -> dict[str, dict[str, list[Any]]]:
    """What each role of the plan holds once applied, as the provider reads it back: its own lists, the inline
    policies and attachments of the plan's resources naming it (by name, or by ARN for an attachment's role)."""
    roles = {str(r.inputs.get("name")): r.urn for r in plan.resources if r.type == ROLE}
    held: dict[str, dict[str, list[Any]]] = {
        r.urn: {
            "inlinePolicies": [to_wire(e) for e in r.inputs.get("inlinePolicies") or []],
            "managedPolicyArns": [to_wire(a) for a in r.inputs.get("managedPolicyArns") or []],
        }
        for r in plan.resources
        if r.type == ROLE
    }

    def role_of(value: Any) -> str | None:
        return roles.get(str(value).rsplit("/", 1)[-1]) if isinstance(value, str) else None

    for resource in plan.resources:
        inputs = resource.inputs
        if resource.type == "aws:iam/rolePolicy:RolePolicy" and (urn := role_of(inputs.get("role"))):
            name = inputs.get("name") or resource.outputs.get("name")
            held[urn]["inlinePolicies"].append({"name": to_wire(name), "policy": to_wire(inputs.get("policy"))})
        elif resource.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and (
            urn := role_of(inputs.get("role"))
        ):
            held[urn]["managedPolicyArns"].append(to_wire(inputs.get("policyArn")))
        elif resource.type == "aws:iam/policyAttachment:PolicyAttachment":
            for role in inputs.get("roles") or []:
                if urn := role_of(role):
                    held[urn]["managedPolicyArns"].append(to_wire(inputs.get("policyArn")))
    for lists in held.values():  # in a stable order: the plan's follows the program's concurrency
        lists["inlinePolicies"].sort(key=lambda e: json.dumps(e, sort_keys=True))
        lists["managedPolicyArns"] = sorted(set(lists["managedPolicyArns"]), key=str)
    return held


def _analyze(resource: Resource, by_urn: dict[str, Resource], packs: list[PolicyPack], findings: Findings) -> None:
    """One resource through every pack's Remediate, then every pack's Analyze on the final inputs."""
    for pack in packs:
        if not pack.remediates:
            continue  # the SDK's Remediate only runs policies at the remediate level: nothing to ask
        applied, diagnostics, resource.wire_inputs = pack.remediate(_inputs(resource, by_urn))
        findings.remediations.extend(applied)
        findings.diagnostics.extend(diagnostics)
    for pack in packs:
        findings.diagnostics.extend(pack.analyze(_inputs(resource, by_urn)))


def _analyze_stack(plan: Plan, packs: list[PolicyPack], findings: Findings) -> None:
    graph = _Graph(plan)
    states = [graph.state(r) for r in plan.resources]
    for pack in packs:
        findings.diagnostics.extend(pack.analyze_stack(states))


def check(plan: Plan, packs: list[PolicyPack]) -> Findings:
    """Every resource through every pack's Remediate then Analyze, then the stack through AnalyzeStack.

    The packs are configured. Remediated inputs are written back to the plan, so that the output shows what
    would be sent to the provider."""
    by_urn = {r.urn: r for r in plan.resources}
    findings = Findings()
    for resource in plan.resources:
        _analyze(resource, by_urn, packs, findings)
    _analyze_stack(plan, packs, findings)
    return findings


_BATCH = 256
"""At most this many Analyze requests in flight at once."""


@dataclass
class _Done:
    plan: Plan | None


class Stream:
    """`check`, as the program runs: each resource goes to the packs as soon as it is registered (the engine's
    step generator analyzes each resource as its registration arrives), on a thread of its own, so that the
    packs' work overlaps the program's; the stack goes to AnalyzeStack once the plan is complete.

    `add` is given each resource in the plan's order (`run_program(on_resource=...)`); then `finish(plan)`, or
    `abandon()` when the program failed. `result()` waits for the findings, and raises what the check raised (a
    PackError names the pack's failure; anything else is a bug, raised, never a silent pass)."""

    def __init__(self, packs: list[PolicyPack], configure: Callable[[], None]) -> None:
        self.packs, self.configure = packs, configure
        self.findings = Findings()
        self.error: BaseException | None = None
        self._queue: queue.SimpleQueue[Resource | _Done] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="offline-preview-check", daemon=True)
        self._thread.start()

    def add(self, resource: Resource) -> None:
        self._queue.put(resource)

    def finish(self, plan: Plan) -> None:
        self._queue.put(_Done(plan))

    def abandon(self) -> None:
        """The program failed: what was sent is dropped, once the thread is done with it."""
        self._queue.put(_Done(None))
        self._thread.join()

    def result(self) -> Findings:
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.findings

    def _analyze(self, resources: list[Resource], by_urn: dict[str, Resource]) -> None:
        """The resources registered since the last batch: one by one where a pack remediates (its remediation
        decides what Analyze sees); else every Analyze request sent before the first answer is awaited (the
        answers do not depend on each other), the diagnostics kept in the plan's order."""
        if any(pack.remediates for pack in self.packs):
            for resource in resources:
                by_urn[resource.urn] = resource
                _analyze(resource, by_urn, self.packs, self.findings)
            return
        for resource in resources:
            by_urn[resource.urn] = resource
        inputs = [_inputs(resource, by_urn) for resource in resources]
        answers = [pack.analyze_all(inputs) for pack in self.packs]
        for index in range(len(resources)):
            for found in answers:
                self.findings.diagnostics.extend(found[index])

    def _run(self) -> None:
        by_urn: dict[str, Resource] = {}
        try:
            self.configure()
        except BaseException as exc:
            self.error = exc
        done: _Done | None = None
        while done is None:
            batch = [self._queue.get()]
            while not self._queue.empty() and len(batch) < _BATCH:
                batch.append(self._queue.get())
            last = batch[-1]
            if isinstance(last, _Done):
                done = last  # nothing follows it
            resources = [item for item in batch if isinstance(item, Resource)]
            if self.error is None and resources:
                try:
                    self._analyze(resources, by_urn)
                except BaseException as exc:
                    self.error = exc
        item = done
        if item.plan is not None and self.error is None:
            try:
                _analyze_stack(item.plan, self.packs, self.findings)
            except BaseException as exc:
                self.error = exc
