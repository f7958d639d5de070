"""The SDK's analyzer servicer, with each resource the engine sends parsed once per request, not once per policy.

pulumi-policy's `_PolicyAnalyzerServicer` (pulumi_policy/policy.py) turns a request's properties into a
`PolicyResource` inside its loop over the policies: for `Analyze`, the resource once per resource policy; for
`AnalyzeStack`, every resource of the stack once per stack policy, with `json_format.MessageToDict`,
`deserialize_properties`, the unknown-checking proxy, the options and the provider each time. With 14 stack
policies that parse dominated the pack's time on a large stack (bench/README.md). Here the same work runs once
per request and every policy gets the same objects, so what the policies derive from a resource (`plain`, the
grant model) is derived once too (`framework.stack_plain`, `access.model`).

What each policy is told, and how its outcome is reported, is the SDK's own code path: the methods below follow
`Analyze` and `AnalyzeStack` of the pinned version line for line but for where the parse happens, and
`install()` uses it only with that version (another keeps the SDK's servicer), and
`tests/policies/test_servicer.py` fails when the locked version is another, so that a new version is read before
this copy runs with it.
"""

from __future__ import annotations

import asyncio
import os
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import policy as sdk
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
from pulumi_policy.version import VERSION

_RUNTIME_ENVIRONMENT = ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION")
"""What `_PolicyAnalyzerServicer._configure_runtime_settings` reads (pulumi_policy/policy.py)."""

ADAPTED_FROM = "1.21.0"
"""The pulumi-policy version whose `Analyze` and `AnalyzeStack` these follow."""


def _run(validate: Any, args: Any, report: Any) -> None:
    result = validate(args, report)
    if isawaitable(result):
        loop = asyncio.new_event_loop()
        task: asyncio.Task[Any] = asyncio.Task(result, loop=loop)  # type: ignore[arg-type]  # the SDK's own call
        loop.run_until_complete(task)
        loop.close()


class ParsedOnceServicer(sdk._PolicyAnalyzerServicer):
    """`_PolicyAnalyzerServicer` with the request parsed before the loop over the policies."""

    _configured_from: tuple[str | None, ...] | None = None

    def _configure_runtime_settings(self) -> None:
        """The SDK's, which every request starts with: the stack's config parsed from PULUMI_CONFIG (a stack file
        in JSON, as long as the stack's config: a hundred pipelines make 90 KB) and the runtime configured from
        the environment. Only again when the environment it reads is not the one it last read."""
        read = tuple(os.environ.get(key) for key in _RUNTIME_ENVIRONMENT)
        if read != self._configured_from:
            super()._configure_runtime_settings()
            self._configured_from = read

    def _pack(self, name: str) -> Any:
        return getattr(self, f"_PolicyAnalyzerServicer__{name}")

    def _unknown(self, response: Any, policy: Any, error: UnknownValueError) -> None:
        name, version = self._pack("policy_pack_name"), self._pack("policy_pack_version")
        response.diagnostics.append(
            proto.AnalyzeDiagnostic(
                policyName=policy.name,
                policyPackName=name,
                policyPackVersion=version,
                message=(
                    f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: "
                    f"{error.message}"
                ),
                urn="",
                description=policy.description,
                enforcementLevel=self._map_enforcement_level(sdk.EnforcementLevel.ADVISORY),
            )
        )

    def _validate(self, response: Any, policy: Any, args: Any, level: Any) -> None:
        report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
        try:
            _run(policy.validate, args, report)
        except UnknownValueError as e:
            self._unknown(response, policy, e)
        except sdk._NotApplicableError as e:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))

    def Analyze(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        parsed: tuple[Any, Any, Any] | None = None
        for policy in self._pack("policies"):
            level = self._get_enforcement_level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                response.not_applicable.append(
                    proto.PolicyNotApplicable(policy_name=policy.name, reason="Policy does not implement validate")
                )
                continue
            if level == sdk.EnforcementLevel.REMEDIATE:
                level = sdk.EnforcementLevel.MANDATORY
            if parsed is None:
                parsed = (
                    unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(request.properties))),
                    self._get_resource_options(request),
                    self._get_provider_resource(request),
                )
            props, opts, provider = parsed
            args = sdk.ResourceValidationArgs(
                request.type, props, request.urn, request.name, opts, provider,
                self._get_policy_config(policy.name), self._pack("stack_tags"),
            )  # fmt: skip
            self._validate(response, policy, args, level)
        return response

    def _stack_resources(self, request: Any) -> list[Any]:
        """The request's resources, each parsed once, parents and dependencies linked (as the SDK links them)."""
        by_urn: dict[str, Any] = {}
        links = []
        for r in request.resources:
            props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(r.properties)))
            resource = sdk.PolicyResource(
                r.type, props, r.urn, r.name, self._get_resource_options(r), self._get_provider_resource(r),
                None, [], {},
            )  # fmt: skip
            by_urn[r.urn] = resource
            links.append(
                (resource, r.parent, list(r.dependencies), {k: list(v.urns) for k, v in r.propertyDependencies.items()})
            )
        for resource, parent, dependencies, property_dependencies in links:
            if parent is not None and parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for key, urns in property_dependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
        return [resource for resource, *_ in links]

    def AnalyzeStack(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: list[Any] | None = None
        for policy in self._pack("policies"):
            level = self._get_enforcement_level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.StackValidationPolicy):
                continue
            if level == sdk.EnforcementLevel.REMEDIATE:
                level = sdk.EnforcementLevel.MANDATORY  # stack policies cannot be remediated
            if resources is None:
                resources = self._stack_resources(request)
            args = sdk.StackValidationArgs(resources, self._get_policy_config(policy.name), self._pack("stack_tags"))
            self._validate(response, policy, args, level)
        return response


def install() -> bool:
    """Make `pulumi_policy.PolicyPack` serve with `ParsedOnceServicer` (it builds the module's servicer class),
    when the installed SDK is the version adapted; another version keeps its own servicer (slower, the same
    verdicts). Returns whether it was installed."""
    if VERSION != ADAPTED_FROM:
        return False
    sdk._PolicyAnalyzerServicer = ParsedOnceServicer  # type: ignore[misc]
    return True
