"""Run a policy pack as the Pulumi CLI does, and speak its Analyzer gRPC protocol.

The CLI starts `python -m pulumi.policy <engine address> <pack dir>` in the pack's directory with the
stack named in the environment (PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN, PULUMI_CONFIG), reads the
port the pack prints, asks for the pack's policies (GetAnalyzerInfo), reconciles their defaults with the
`--policy-pack-config` files (schema defaults, then the pack's initial config, then `all`, then each policy)
and sends the result (Configure), then ConfigureStack, Analyze per resource and AnalyzeStack for the whole
graph. This module does the same; it never imports the pack's policies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PackError(Exception):
    """The pack would not start, answer or be configured; the message is one line naming the cause."""


@dataclass(frozen=True)
class Diagnostic:
    policy_pack_name: str
    policy_name: str
    enforcement_level: str
    resource_urn: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {
            "policyPackName": self.policy_pack_name,
            "policyName": self.policy_name,
            "enforcementLevel": self.enforcement_level,
            "resourceUrn": self.resource_urn,
            "message": self.message,
        }


@dataclass(frozen=True)
class StackResource:
    """A resource as the engine hands it to an analyzer: properties in wire form (unknowns as the engine's
    sentinel strings, secrets as signature objects), camelCase."""

    urn: str
    type: str
    name: str
    properties: dict[str, Any]
    parent: str = ""
    provider: StackResource | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] | None = None
    options: Mapping[str, Any] | None = None


def _pack_python(pack: Path) -> str:
    """The interpreter the CLI would use: PulumiPolicy.yaml's runtime.options.virtualenv, else this one."""
    path = pack / "PulumiPolicy.yaml"
    if not path.is_file():
        raise PackError(f"{path}: no PulumiPolicy.yaml (is {pack} a policy pack?)")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    runtime = data.get("runtime") if isinstance(data, dict) else None
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PackError(f"{path}: runtime: {name!r} is not supported; accepted: python")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    if venv:
        # Not resolved: the venv's python is a symlink to the base interpreter, which lacks the venv's packages.
        python = os.path.abspath(pack / venv / "bin" / "python")
        if os.path.exists(python):
            return python
    return sys.executable


def _level_name(value: int) -> str:
    from pulumi.runtime.proto import analyzer_pb2

    return str(analyzer_pb2.EnforcementLevel.Name(value)).lower()


def _level_value(name: str) -> Any:
    from pulumi.runtime.proto import analyzer_pb2

    return analyzer_pb2.EnforcementLevel.Value(name.upper())


def load_config_file(path: Path) -> dict[str, Any]:
    """A `--policy-pack-config` file: `{"all": level, "<policy>": level | {"enforcementLevel": level, ...}}`."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise PackError(f"{path}: no such policy pack config file") from None
    except json.JSONDecodeError as exc:
        raise PackError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PackError(f"{path}: a JSON object of policy names to levels or settings is required")
    return data


class PolicyPack:
    """One running pack for one stack (the CLI starts one per operation)."""

    def __init__(
        self,
        directory: Path,
        *,
        project: str,
        stack: str,
        dry_run: bool,
        stack_config: Mapping[str, str] | None = None,
        organization: str = "organization",
    ) -> None:
        self.directory = directory.resolve()
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.organization = organization
        self.stack_config = dict(stack_config or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Any = None
        self._stub: Any = None
        self.name = self.directory.name
        self.policies: dict[str, Any] = {}

    # -- process -------------------------------------------------------------------------------------------
    def start(self) -> PolicyPack:
        """Start the pack's program; returns at once (the port is read when first needed)."""
        if not self.directory.is_dir():
            raise PackError(f"{self.directory}: no such policy pack directory")
        python = _pack_python(self.directory)
        env = {
            **os.environ,
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
            "PULUMI_ORGANIZATION": self.organization,
            "PULUMI_CONFIG": json.dumps(self.stack_config),
        }
        self._process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
            cwd=self.directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        return self

    def _connect(self) -> Any:
        if self._stub is not None:
            return self._stub
        if self._process is None:
            self.start()
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline().decode().strip()
        if not line.isdigit():
            self._process.wait(timeout=30)
            raise PackError(f"{self.directory}: the policy pack failed to start: {self._last_error()}")
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{line}", options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)]
        )
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self._stub

    def _last_error(self) -> str:
        assert self._process is not None
        stream: IO[bytes] | None = self._process.stderr
        text = stream.read().decode(errors="replace") if stream else ""
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(" ")]
        return lines[-1] if lines else f"exit code {self._process.returncode}"

    def _call(self, method: str, request: Any) -> Any:
        import grpc

        stub = self._connect()
        try:
            return getattr(stub, method)(request)
        except grpc.RpcError as exc:
            detail = exc.details() if hasattr(exc, "details") else str(exc)
            if self._process is not None and self._process.poll() is not None:
                detail = self._last_error()
            first = (detail or "").strip().splitlines()[-1:] or ["no detail"]
            raise PackError(f"{self.directory}: the policy pack failed in {method}: {first[0]}") from None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            for stream in (self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> PolicyPack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol ------------------------------------------------------------------------------------------
    def configure(self, config_files: list[Path]) -> None:
        """GetAnalyzerInfo, reconcile with the config files as the CLI does, Configure, ConfigureStack."""
        from google.protobuf import empty_pb2, json_format, struct_pb2
        from pulumi.runtime.proto import analyzer_pb2

        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.name = info.name
        reconciled: dict[str, dict[str, Any]] = {}
        schemas: dict[str, dict[str, Any]] = {}
        for policy in info.policies:
            properties = json_format.MessageToDict(policy.configSchema.properties)
            schemas[policy.name] = properties
            reconciled[policy.name] = {
                "enforcementLevel": _level_name(policy.enforcementLevel),
                **{k: v["default"] for k, v in properties.items() if isinstance(v, dict) and "default" in v},
            }
        for name, initial in info.initialConfig.items():
            if name in reconciled:
                reconciled[name]["enforcementLevel"] = _level_name(initial.enforcementLevel)
                reconciled[name].update(json_format.MessageToDict(initial.properties))
        for path in config_files:
            self._apply(path, load_config_file(path), reconciled, schemas)
        self.policies = reconciled
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, values in reconciled.items():
            properties = struct_pb2.Struct()
            properties.update({k: v for k, v in values.items() if k != "enforcementLevel"})
            request.policyConfig[name].CopyFrom(
                analyzer_pb2.PolicyConfig(
                    enforcementLevel=_level_value(values["enforcementLevel"]),
                    properties=properties,
                )
            )
        self._call("Configure", request)
        stack_request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization=self.organization, dry_run=self.dry_run
        )
        stack_request.config.update(self.stack_config)
        self._call("ConfigureStack", stack_request)

    @staticmethod
    def _apply(
        path: Path,
        data: dict[str, Any],
        reconciled: dict[str, dict[str, Any]],
        schemas: dict[str, dict[str, Any]],
    ) -> None:
        def level(value: Any, key: str) -> str:
            if not isinstance(value, str) or value.lower() not in LEVELS:
                raise PackError(f"{path}: {key}: {value!r} is not an enforcement level; accepted: {', '.join(LEVELS)}")
            return value.lower()

        if "all" in data:
            everything = data["all"]
            chosen = level(everything.get("enforcementLevel") if isinstance(everything, dict) else everything, "all")
            for values in reconciled.values():
                values["enforcementLevel"] = chosen
        for name, value in data.items():
            if name == "all":
                continue
            if name not in reconciled:
                raise PackError(
                    f"{path}: {name}: no such policy in the pack; accepted: {', '.join(sorted(reconciled))}"
                )
            if not isinstance(value, dict):
                reconciled[name]["enforcementLevel"] = level(value, name)
                continue
            for key, setting in value.items():
                if key == "enforcementLevel":
                    reconciled[name]["enforcementLevel"] = level(setting, f"{name}.enforcementLevel")
                    continue
                schema = schemas[name].get(key)
                if schema is None:
                    accepted = ", ".join(["enforcementLevel", *sorted(schemas[name])])
                    raise PackError(f"{path}: {name}.{key}: not a setting of this policy; accepted: {accepted}")
                if not _fits(setting, schema):
                    raise PackError(f"{path}: {name}.{key}: {setting!r} is not {_describe(schema)}")
                reconciled[name][key] = setting

    def analyze(self, resource: StackResource) -> list[Diagnostic]:
        from pulumi.runtime.proto import analyzer_pb2

        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            properties=_struct(resource.properties),
            options=_options(resource),
        )
        if resource.provider is not None:
            request.provider.CopyFrom(_provider(resource.provider))
        return self._diagnostics(self._call("Analyze", request))

    def analyze_stack(self, resources: list[StackResource]) -> list[Diagnostic]:
        from pulumi.runtime.proto import analyzer_pb2

        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            item = request.resources.add(
                type=resource.type,
                urn=resource.urn,
                name=resource.name,
                properties=_struct(resource.properties),
                options=_options(resource),
                parent=resource.parent,
                dependencies=list(resource.dependencies),
            )
            for key, urns in (resource.property_dependencies or {}).items():
                item.propertyDependencies[key].urns.extend(urns)
            if resource.provider is not None:
                item.provider.CopyFrom(_provider(resource.provider))
        return self._diagnostics(self._call("AnalyzeStack", request))

    def _diagnostics(self, response: Any) -> list[Diagnostic]:
        return [
            Diagnostic(
                policy_pack_name=d.policyPackName or self.name,
                policy_name=d.policyName,
                enforcement_level=_level_name(d.enforcementLevel),
                resource_urn=d.urn,
                message=d.message,
            )
            for d in response.diagnostics
        ]


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "array":
        return isinstance(value, list) and all(_fits(v, schema.get("items", {})) for v in value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "number"):
        ok = isinstance(value, int if kind == "integer" else (int, float)) and not isinstance(value, bool)
        return ok and value >= schema.get("minimum", value)
    return True


def _describe(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "array":
        return f"a list of {schema.get('items', {}).get('type', 'value')}s"
    if "minimum" in schema:
        return f"an {kind} of at least {schema['minimum']:g}"
    return f"a {kind}"


def _struct(values: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _options(resource: StackResource) -> Any:
    from pulumi.runtime.proto import analyzer_pb2

    options = dict(resource.options or {})
    timeouts = options.get("customTimeouts") or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        parent=resource.parent,
        protect=bool(options.get("protect")),
        ignoreChanges=list(options.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(options.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in options,
        additionalSecretOutputs=list(options.get("additionalSecretOutputs") or []),
        aliases=list(options.get("aliases") or []),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=_seconds(timeouts.get("create")),
            update=_seconds(timeouts.get("update")),
            delete=_seconds(timeouts.get("delete")),
        ),
    )


def _seconds(value: Any) -> float:
    """Pulumi timeouts are Go durations ("5m"); the analyzer takes seconds."""
    if not value:
        return 0.0
    if isinstance(value, (int, float)):
        return float(value)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    total, number = 0.0, ""
    for char in str(value):
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total, number = total + float(number) * units[char], ""
    return total


def _provider(provider: StackResource) -> Any:
    from pulumi.runtime.proto import analyzer_pb2

    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.properties)
    )
