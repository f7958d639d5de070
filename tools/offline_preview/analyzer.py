"""Run a policy pack as the Pulumi CLI does, and speak its Analyzer gRPC protocol.

The CLI starts `python -m pulumi.policy <engine address> <pack dir>` in the pack's directory with the
stack named in the environment (PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN, PULUMI_CONFIG; here PULUMI_CONFIG
is read from a file in the pack's process, `_LAUNCH`, so that a stack file of any size fits), reads the
port the pack prints, asks for the pack's policies (GetAnalyzerInfo), reconciles their defaults with the
`--policy-pack-config` files (`policy_config.py`) and sends the result (Configure), then ConfigureStack,
Remediate and Analyze per resource and AnalyzeStack for the whole graph (`check.py` drives the order).
Marshalling follows pulumi/pulumi `sdk/go/common/resource/plugin/analyzer_plugin.go`. This module never
imports the pack's policies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from components.files import read_document
from tools.offline_preview import policy_config
from tools.offline_preview.policy_config import PackInfo, PolicyConfig, PolicyInfo

_CONFIG_FILE = "OFFLINE_PREVIEW_PULUMI_CONFIG_FILE"
_LAUNCH = (
    "import os, runpy; "
    f"path = os.environ.pop({_CONFIG_FILE!r}); "
    "os.environ['PULUMI_CONFIG'] = open(path, encoding='utf-8').read(); "
    "runpy.run_module('pulumi.policy', run_name='__main__', alter_sys=True)"
)
"""`python -m pulumi.policy`, as the CLI starts a pack, with PULUMI_CONFIG read from a file first."""


class PackError(Exception):
    """The pack would not start, answer or be configured: one line naming the cause (a config the engine
    refuses gives one line per error, as the engine prints them)."""


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


def _manifest(pack: Path) -> dict[str, Any]:
    path = pack / "PulumiPolicy.yaml"
    if not path.is_file():
        raise PackError(f"{path}: no PulumiPolicy.yaml (is {pack} a policy pack?)")
    data = read_document(path, "policy pack manifest", PackError) or {}
    return data if isinstance(data, dict) else {}


def _pack_python(pack: Path) -> str:
    """The interpreter the CLI would use: PulumiPolicy.yaml's runtime.options.virtualenv, else this one."""
    runtime = _manifest(pack).get("runtime")
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PackError(f"{pack / 'PulumiPolicy.yaml'}: runtime: {name!r} is not supported; accepted: python")
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


@dataclass(frozen=True)
class Remediation:
    """A policy at the remediate level changed a resource's inputs before it was analyzed."""

    policy_pack_name: str
    policy_name: str
    resource_urn: str
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changed(self) -> list[str]:
        """Top-level input keys added, removed or changed, sorted."""
        keys = set(self.before) | set(self.after)
        return sorted(k for k in keys if self.before.get(k, _ABSENT) != self.after.get(k, _ABSENT))

    def as_json(self) -> dict[str, Any]:
        return {
            "policyPackName": self.policy_pack_name,
            "policyName": self.policy_name,
            "resourceUrn": self.resource_urn,
            "changed": {key: {"before": self.before.get(key), "after": self.after.get(key)} for key in self.changed},
        }


_ABSENT = object()


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
        secret_keys: Iterable[str] = (),
        stack_tags: Mapping[str, str] | None = None,
        organization: str = "organization",
    ) -> None:
        self.directory = directory.resolve()
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.organization = organization
        self.stack_config = dict(stack_config or {})
        self.secret_keys = sorted(secret_keys)
        self.stack_tags = dict(stack_tags or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: list[str] = []
        self._stderr_reader: threading.Thread | None = None
        self._channel: Any = None
        self._config_file: Path | None = None
        self._stub: Any = None
        self.name = self.directory.name
        self.version = ""
        self.policies: dict[str, Any] = {}
        self.remediates = False

    # -- process -------------------------------------------------------------------------------------------
    def start(self) -> PolicyPack:
        """Start the pack's program; returns at once (the port is read when first needed)."""
        if not self.directory.is_dir():
            raise PackError(f"{self.directory}: no such policy pack directory")
        python = _pack_python(self.directory)
        # The stack's config goes through a file, set as PULUMI_CONFIG inside the pack's process (`_LAUNCH`):
        # one environment string is capped at 128 KiB by Linux (MAX_ARG_STRLEN), a stack file is not.
        handle, name = tempfile.mkstemp(prefix="offline-preview-config-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(self.stack_config, stream)
        self._config_file = Path(name)
        env = {
            **os.environ,
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
            "PULUMI_ORGANIZATION": self.organization,
            _CONFIG_FILE: name,
        }
        env.pop("PULUMI_CONFIG", None)
        self._process = subprocess.Popen(
            [python, "-u", "-c", _LAUNCH, "127.0.0.1:0", "."],
            cwd=self.directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # Drained all along, so that a pack that logs a lot never blocks on a full pipe, and so that the
        # exception a failing policy raised can be named (grpc logs its traceback there).
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()
        return self

    def _drain_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in iter(self._process.stderr.readline, b""):
            self._stderr.append(line.decode(errors="replace").rstrip("\n"))
            del self._stderr[:-200]

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
        """The last line of the pack's stderr that is not a traceback's frame: the exception, typed."""
        if self._process is not None and self._process.poll() is not None and self._stderr_reader is not None:
            self._stderr_reader.join(timeout=5)
        lines = [ln.strip() for ln in self._stderr if ln.strip() and not ln.startswith(" ")]
        lines = [ln for ln in lines if not ln.startswith(("Traceback ", "During handling", "The above exception"))]
        if lines:
            return lines[-1]
        return f"exit code {self._process.returncode}" if self._process else "no detail"

    def _call(self, method: str, request: Any, failed: str) -> Any:
        """One RPC; a failure is one line in the engine's words (`failed to run policy: ...`), with the
        exception the pack raised."""
        return self._send(method, request)(failed)

    def _send(self, method: str, request: Any) -> Callable[[str], Any]:
        """Send one RPC; returns what waits for its answer (given the words of a failure)."""
        import grpc

        future = getattr(self._connect(), method).future(request)

        def answer(failed: str) -> Any:
            try:
                return future.result()
            except grpc.RpcError as exc:
                self._failed(exc, failed)

        return answer

    def _failed(self, exc: Any, failed: str) -> NoReturn:
        detail = (exc.details() if hasattr(exc, "details") else str(exc)) or ""
        if self._process is not None and self._process.poll() is not None:
            detail = f"the policy pack exited: {self._last_error()}"
        elif detail.strip().endswith("Exception calling application:") or not detail.strip():
            # grpc sends str(exception), empty here (e.g. a bare `raise AssertionError()`), and the
            # pack logs nothing: say so rather than end the line on a colon.
            detail = f"{detail.strip()} (an exception without a message)".strip()
        first = " ".join(detail.split())
        raise PackError(f"policy pack {self.name} ({self.directory}): {failed}: {first}") from None

    def close(self) -> None:
        if self._config_file is not None:
            self._config_file.unlink(missing_ok=True)
            self._config_file = None
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
            if self._stderr_reader is not None:
                self._stderr_reader.join(timeout=5)
            for stream in (self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> PolicyPack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol ------------------------------------------------------------------------------------------
    def info(self) -> PackInfo:
        """GetAnalyzerInfo, read as the engine reads it (the version from PulumiPolicy.yaml when it has one)."""
        from google.protobuf import empty_pb2, json_format

        info = self._call("GetAnalyzerInfo", empty_pb2.Empty(), "failed to get the policy pack's information")
        version = _manifest(self.directory).get("version")
        policies = tuple(
            PolicyInfo(
                name=policy.name,
                enforcement_level=_level_name(policy.enforcementLevel),
                schema_properties=(
                    policy_config.integral(json_format.MessageToDict(policy.configSchema.properties))
                    if policy.HasField("configSchema")
                    else None
                ),
                required=tuple(policy.configSchema.required),
            )
            for policy in info.policies
        )
        initial = {
            name: PolicyConfig(_level_name(value.enforcementLevel), json_format.MessageToDict(value.properties) or None)
            for name, value in info.initialConfig.items()
        }
        return PackInfo(info.name, str(version or info.version), policies, initial)

    def configure(self, config_files: list[Path]) -> None:
        """ConfigureStack (the engine sends it as it loads the pack, `NewPolicyAnalyzer`), GetAnalyzerInfo,
        reconcile with the config files as the engine does, Configure."""
        from google.protobuf import struct_pb2
        from pulumi.runtime.proto import analyzer_pb2

        stack_request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack,
            project=self.project,
            organization=self.organization,
            dry_run=self.dry_run,
            config_secret_keys=self.secret_keys,
            tags=self.stack_tags,
        )
        stack_request.config.update(self.stack_config)
        self._call("ConfigureStack", stack_request, "failed to configure the policy pack for the stack")
        info = self.info()
        self.name, self.version = info.name, info.version
        try:
            reconciled = policy_config.reconcile(info, [policy_config.load(path) for path in config_files])
        except policy_config.ConfigError as exc:
            raise PackError("\n".join(exc.lines)) from None
        invalid = sorted(
            name for name, entry in reconciled.items() if entry.enforcement_level not in policy_config.LEVELS
        )
        if invalid:
            # analyzer_plugin.go Configure: `invalid enforcement level %q`, wrapped by engine/update.go. An entry for a
            # policy the pack does not have, with settings but no level, is one.
            raise PackError(
                f'configuring policy pack "{self.name}" at "{self.directory}": invalid enforcement level "" for '
                f"{', '.join(invalid)} (a config entry with settings but no enforcementLevel, for a policy the pack "
                f"does not have; accepted: {', '.join(policy_config.LEVELS)})"
            )
        self.policies = {
            name: {"enforcementLevel": entry.enforcement_level, **(entry.properties or {})}
            for name, entry in reconciled.items()
        }
        self.remediates = any(
            reconciled[p.name].enforcement_level == "remediate" for p in info.policies if p.name in reconciled
        )
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in reconciled.items():
            properties = struct_pb2.Struct()
            properties.update(entry.properties or {})
            request.policyConfig[name].CopyFrom(
                analyzer_pb2.PolicyConfig(enforcementLevel=_level_value(entry.enforcement_level), properties=properties)
            )
        self._call("Configure", request, "failed to configure the policy pack")

    def remediate(self, resource: StackResource) -> tuple[list[Remediation], list[Diagnostic], dict[str, Any]]:
        """Remediate: the remediations applied in order, the advisory diagnostics of remediations that could
        not run (unknowns at preview), and the inputs after them all. Inputs keep their `__` keys (the
        engine marshals Remediate's request with SkipInternalKeys false)."""
        from google.protobuf import json_format
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
        response = self._call("Remediate", request, f"failed to run remediation on {resource.urn}")
        properties = dict(resource.properties)
        applied: list[Remediation] = []
        diagnostics: list[Diagnostic] = []
        for item in response.remediations:
            if item.diagnostic:
                diagnostics.append(
                    Diagnostic(
                        item.policyPackName or self.name, item.policyName, "advisory", resource.urn, item.diagnostic
                    )
                )
            elif item.HasField("properties"):
                after = json_format.MessageToDict(item.properties)
                remediation = Remediation(
                    item.policyPackName or self.name, item.policyName, resource.urn, properties, after
                )
                if remediation.changed:  # the CLI shows a remediation by its diff, and nothing for an empty one
                    applied.append(remediation)
                properties = after
        return applied, diagnostics, properties

    def analyze(self, resource: StackResource) -> list[Diagnostic]:
        return self.analyze_all([resource])[0]

    def analyze_all(self, resources: list[StackResource]) -> list[list[Diagnostic]]:
        """Analyze, for each resource: the requests all sent before the first answer is awaited (each is a call
        of its own, as the engine makes them; what one request gets does not depend on another's)."""
        sent = [(resource, self._send("Analyze", self._analyze_request(resource))) for resource in resources]
        found = []
        for resource, answer in sent:
            diagnostics = self._diagnostics(answer(f"failed to run policy on {resource.urn}"))
            # pulumi/pulumi pkg/resource/deploy/step_generator.go: "we always use the URN we have here rather
            # than a URN specified with the diagnostic".
            found.append([replace(d, resource_urn=resource.urn) for d in diagnostics])
        return found

    def _analyze_request(self, resource: StackResource) -> Any:
        from pulumi.runtime.proto import analyzer_pb2

        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            properties=_struct(without_internal_keys(resource.properties)),
            options=_options(resource),
        )
        if resource.provider is not None:
            request.provider.CopyFrom(_provider(resource.provider))
        return request

    def analyze_stack(self, resources: list[StackResource]) -> list[Diagnostic]:
        from pulumi.runtime.proto import analyzer_pb2

        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            item = request.resources.add(
                type=resource.type,
                urn=resource.urn,
                name=resource.name,
                properties=_struct(without_internal_keys(resource.properties)),
                options=_options(resource),
                parent=resource.parent,
                dependencies=list(resource.dependencies),
            )
            for key, urns in (resource.property_dependencies or {}).items():
                if urns:  # analyzer_plugin.go: "Skip properties that have no dependencies."
                    item.propertyDependencies[key].urns.extend(urns)
            if resource.provider is not None:
                item.provider.CopyFrom(_provider(resource.provider))
        found = self._diagnostics(self._call("AnalyzeStack", request, "failed to analyze resources"))
        # step_generator.go AnalyzeResources: a diagnostic's URN is kept when it names a resource of the
        # stack, else the diagnostic belongs to the root stack resource.
        known = {r.urn for r in resources}
        root = next((r.urn for r in resources if r.type == "pulumi:pulumi:Stack"), "")
        return [d if d.resource_urn in known else replace(d, resource_urn=root) for d in found]

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


def without_internal_keys(value: Any) -> Any:
    """The engine marshals Analyze and AnalyzeStack properties with SkipInternalKeys: keys starting with
    `__` (e.g. a dynamic resource's `__provider`) are dropped at every depth (analyzer_plugin.go)."""
    if isinstance(value, dict):
        return {k: without_internal_keys(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [without_internal_keys(v) for v in value]
    return value


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

    # marshalProvider marshals with SkipInternalKeys too.
    properties = _struct(without_internal_keys(provider.properties))
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=properties
    )


class RecordingPack(PolicyPack):
    """A pack that runs nothing and answers every request empty, keeping each request it is sent, in order: what
    the engine would send a pack for a plan (`check`, `Stream`), for benches and tests to replay through a
    servicer."""

    def __init__(self, directory: Path, *, project: str, stack: str, dry_run: bool = True) -> None:
        super().__init__(directory, project=project, stack=stack, dry_run=dry_run)
        self.sent: list[tuple[str, Any]] = []

    def _send(self, method: str, request: Any) -> Callable[[str], Any]:
        from pulumi.runtime.proto import analyzer_pb2

        self.sent.append((method, request))
        return lambda _failed: analyzer_pb2.AnalyzeResponse()
