"""Run a Pulumi Python program under Pulumi's mock runtime, with its real project and stack files.

`run_program()` returns what the program registered, as the engine would see it: URNs, types, parents,
providers, inputs (camelCase) and dependencies. Each run happens in a fresh context, so several stacks (or
projects) can be planned in one process.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import re
import runpy
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.session
import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime import stack as pulumi_stack

from components.files import read_document
from tools.mock_runtime.answers import Answers
from tools.mock_runtime.mocks import STACK_REFERENCE, AwsMocks, World

SECRET_STAND_IN = "[secret]"
_ACCOUNT = re.compile(r"[0-9]{12}")
STACK_TYPE = "pulumi:pulumi:Stack"


class PlanError(Exception):
    """The project, the stack file or the program itself failed; the message is one line naming the cause."""


@dataclass(frozen=True)
class Project:
    directory: Path
    name: str
    main: Path
    stack_config_dir: Path
    defaults: dict[str, Any]

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    wire_inputs: dict[str, Any] = field(default_factory=dict)
    """Inputs as the engine forwards them to analyzers: unknowns as the engine's sentinel strings, secrets as
    signature objects (the SDK's own serialization, untouched). A policy at the remediate level may replace
    them (the offline preview's check does, as the engine does before it analyzes)."""
    version: str = ""
    """The version of the provider package the SDK asked for (names the default provider)."""
    default: bool = False
    """A default provider: created by the engine, not by the program."""
    registered_outputs: bool = False
    """A component whose outputs the program registered (`register_outputs`)."""
    source: tuple[str, int] | None = None
    """The program file and line that declared it (the SDK's `sourcePosition`), when the SDK says."""
    made_up: frozenset[str] = frozenset()
    """Outputs the mocks filled in from the provider's types so that the program runs: in `outputs`, not shown to
    the packs (their values are not AWS's: a made-up role ARN is no role of anyone's)."""

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass
class Plan:
    project: str
    stack: str
    preview: bool
    resources: list[Resource]
    outputs: dict[str, Any]
    config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Resource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]


def load_project(directory: Path) -> Project:
    directory = directory.resolve()
    path = directory / "Pulumi.yaml"
    if not path.is_file():
        raise PlanError(f"{path}: no Pulumi.yaml (is --cwd a Pulumi project directory?)")
    data = read_document(path, "project file", PlanError) or {}
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise PlanError(f"{path}: name: a project name (string) is required")
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise PlanError(f"{path}: runtime: {runtime_name!r} is not supported; accepted: python")
    main = directory / str(data.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise PlanError(f"{path}: main: {main} does not exist")
    defaults: dict[str, Any] = {}
    for key, value in (data.get("config") or {}).items():
        full = key if ":" in key else f"{data['name']}:{key}"
        if isinstance(value, dict) and ("default" in value or "value" in value):
            value = value.get("value", value.get("default"))
        defaults[full] = value
    return Project(directory, data["name"], main, directory / str(data.get("stackConfigDir") or "."), defaults)


def _config_text(value: Any) -> tuple[str, bool]:
    """How the engine hands a config value to the program: strings as-is, the rest as JSON; secure values
    become a stand-in marked secret."""
    secret = False

    def strip(item: Any) -> Any:
        nonlocal secret
        if isinstance(item, dict):
            if set(item) == {"secure"}:
                secret = True
                return SECRET_STAND_IN
            return {k: strip(v) for k, v in item.items()}
        if isinstance(item, list):
            return [strip(v) for v in item]
        return item

    value = strip(value)
    if isinstance(value, str):
        return value, secret
    if isinstance(value, bool):
        return ("true" if value else "false"), secret
    if isinstance(value, (int, float)):
        return str(value), secret
    return json.dumps(value), secret


def load_stack_config(project: Project, stack: str) -> tuple[dict[str, str], set[str]]:
    path = project.stack_file(stack)
    if not path.is_file():
        raise PlanError(f"{path}: no such stack file (stacks: {', '.join(list_stacks(project)) or 'none'})")
    data = read_document(path, "stack file", PlanError) or {}
    raw = (data.get("config") or {}) if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        raise PlanError(f"{path}: config: must be a mapping of keys to values")
    merged = {**project.defaults, **{(k if ":" in k else f"{project.name}:{k}"): v for k, v in raw.items()}}
    config: dict[str, str] = {}
    secrets: set[str] = set()
    for key, value in merged.items():
        config[key], secret = _config_text(value)
        if secret:
            secrets.add(key)
    return config, secrets


def list_stacks(project: Project) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project.stack_config_dir.glob("Pulumi.*.yaml"))


def _downgraded(value: Any) -> Any:
    """`value` with every resource reference replaced as the engine replaces it for a provider that does not take
    references (pulumi-aws): a custom resource by its ID, a component by its URN (resource_monitor.go,
    `downgradeOutputValues`/resource references). An ID still unknown stays unknown."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
            return value.get("id") or value.get("urn", "")
        return {k: _downgraded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_downgraded(v) for v in value]
    return value


_RESOURCE_SIG = rpc._special_resource_sig.encode()


def _downgrade(struct: Any) -> None:
    """Downgrade the resource references in a request's Struct, in place (before anything deserializes it: a
    reference deserialized on the monitor's thread would register a resource on a loop nobody runs)."""
    if _RESOURCE_SIG not in struct.SerializeToString():  # protobuf's C encoder: no walk for most requests
        return
    plain = _downgraded(json_format.MessageToDict(struct))
    struct.Clear()
    struct.update(plain)


STALL_SECONDS = 60.0
"""How long a run may go without a single call reaching the monitor, none in progress, before it counts as
stopped (a program awaiting a value that never comes); `run_program(stall_seconds=...)` changes it."""


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps what the engine would know of each registration: parent, provider, dependencies; and when a call
    last reached it (the run's progress)."""

    def __init__(
        self, mocks: AwsMocks, recorded: list[Resource], on_record: Callable[[Resource], None] | None = None
    ) -> None:
        super().__init__(mocks)
        self.aws = mocks
        self.recorded = recorded
        self.on_record = on_record
        self._recording = threading.Lock()  # registrations reach `recorded` and `on_record` in one order
        self._busy = 0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    @contextmanager
    def _call(self) -> Iterator[None]:
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                self._last = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last call ended, while none is in progress (0 while one is)."""
        with self._lock:
            return 0.0 if self._busy else time.monotonic() - self._last

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """As the engine builds URNs: the parent's whole type chain, and none for the root stack (the mock
        monitor keeps only the parent's last type, and prefixes top-level resources with the stack's)."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResourceOutputs(self, request: Any) -> Any:
        """A component's (or the root stack's) `register_outputs`: what the engine stores as its outputs
        (step_executor.go ExecuteRegisterResourceOutputs) and AnalyzeStack sends."""
        with self._call():
            return self._register_outputs(request)

    def _register_outputs(self, request: Any) -> Any:
        outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        for resource in self.recorded:
            if resource.urn == request.urn and not resource.custom:
                resource.outputs = dict(outputs)
                resource.registered_outputs = True
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request: Any) -> Any:
        with self._call():
            _downgrade(request.args)
            return super().Invoke(request)

    def ReadResource(self, request: Any) -> Any:
        with self._call():
            _downgrade(request.properties)
            response = super().ReadResource(request)
            if request.type == STACK_REFERENCE and "outputs" not in response.properties:
                # A read the engine could not complete: the SDK resolves the outputs unknown (resource.py,
                # `resp.unknown`), also in update mode, so a program computing on them skips that work.
                response.unknown = True
            return response

    def RegisterResource(self, request: Any) -> Any:
        with self._call():
            return self._register(request)

    def _register(self, request: Any) -> Any:
        _downgrade(request.object)
        response = super().RegisterResource(request)
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        wire_inputs = json_format.MessageToDict(request.object)
        if request.type.startswith("pulumi:providers:") and request.version:
            # resource_monitor.go RegisterResource: an explicit provider gets the version the SDK asked for.
            inputs["version"] = wire_inputs["version"] = request.version
        registration = self.resources.get(response.urn)
        self._record(
            Resource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=request.provider,
                inputs=inputs,
                wire_inputs=wire_inputs,
                outputs=dict(registration.state) if registration else {},
                id=response.id or None,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                version=request.version,
                source=_source(request),
                made_up=self.aws.made_up.pop((request.type, request.name), frozenset()),
                options={
                    "protect": request.protect,
                    "retainOnDelete": request.retainOnDelete,
                    # Only when the program set it: the engine sends deleteBeforeReplaceDefined = false
                    # otherwise, and the SDK then reads deleteBeforeReplace as None.
                    **(
                        {"deleteBeforeReplace": request.deleteBeforeReplace}
                        if request.deleteBeforeReplaceDefined
                        else {}
                    ),
                    "ignoreChanges": list(request.ignoreChanges),
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                    "aliases": [str(a) for a in request.aliasURNs],
                    "customTimeouts": {
                        "create": request.customTimeouts.create,
                        "update": request.customTimeouts.update,
                        "delete": request.customTimeouts.delete,
                    },
                },
            )
        )
        return response

    def _record(self, resource: Resource) -> None:
        with self._recording:
            self.recorded.append(resource)
            if self.on_record is not None:
                self.on_record(resource)


def _source(request: Any) -> tuple[str, int] | None:
    position = request.sourcePosition
    if not position.uri.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(position.uri).path), int(position.line)


@contextmanager
def _in_project(project: Project) -> Iterator[None]:
    """cwd and import path as the Pulumi language host sets them; the project's modules forgotten after."""
    before_cwd, before_path, before_modules = os.getcwd(), list(sys.path), set(sys.modules)
    os.chdir(project.directory)
    sys.path.insert(0, str(project.main.parent))
    try:
        yield
    finally:
        os.chdir(before_cwd)
        sys.path[:] = before_path
        for name in set(sys.modules) - before_modules:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            # The project's own modules only: its virtualenv may live inside the project directory.
            if module_file.startswith(str(project.directory)) and "site-packages" not in module_file:
                del sys.modules[name]


def _run(
    project: Project,
    stack: str,
    config: dict[str, str],
    secrets: set[str],
    mocks: AwsMocks,
    recorded: list[Resource],
    stall_seconds: float,
    on_record: Callable[[Resource], None] | None = None,
) -> tuple[list[Resource], dict[str, Any]]:
    preview = mocks.preview
    monitor = _RecordingMonitor(mocks, recorded, on_record)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    error: BaseException | None = None
    try:
        pulumi.runtime.set_all_config(config, sorted(secrets))
        # Outputs still being computed, which Pulumi awaits before a run ends. The mock settings leave this set
        # unset, so every run would share the first one ever made, and a failed run's futures (bound to its
        # closed loop) would be awaited by the next run forever.
        pulumi_settings.SETTINGS.outputs = set()
        # Registers the root stack on this loop, as the language host does before running the program.
        pulumi_mocks.set_mocks(mocks, project=project.name, stack=stack, preview=preview, monitor=monitor)
        with _in_project(project):

            def program() -> None:
                runpy.run_path(str(project.main), run_name="__main__")

            loop.run_until_complete(_watched(pulumi_stack.run_pulumi_func(program), monitor, stall_seconds))
            # set_mocks finished the root stack before the program ran, so its exports are read here.
            root = pulumi.runtime.settings.get_root_resource()
            exported = getattr(root, "outputs", {}) or {}
            struct = loop.run_until_complete(rpc.serialize_properties(exported, {}, keep_output_values=False))
            stack_outputs = rpc.deserialize_properties(struct, keep_unknowns=True)
    except BaseException as exc:
        error = exc
        raise
    finally:
        _drain(loop, error)
    return monitor.recorded, stack_outputs


async def _watched(run: Any, monitor: _RecordingMonitor, stall_seconds: float) -> None:
    """The program's run, ended with a PlanError once it stops making progress: no call has reached the monitor
    for `stall_seconds` and none is in progress, while the run still waits (on a value that never comes)."""
    main = asyncio.ensure_future(run)
    while not main.done():
        await asyncio.wait({main}, timeout=min(1.0, stall_seconds))
        if not main.done() and monitor.idle_for() >= stall_seconds:
            waiting = _waiting_registrations()
            main.cancel()
            what = f"the registration of {', '.join(waiting)} waits" if waiting else "the program waits"
            raise PlanError(
                f"the program stopped making progress: {what} on a value that never comes "
                f"(nothing reached the engine for {stall_seconds:g} s)"
            )
    main.result()


def _waiting_registrations() -> list[str]:
    """`<type> "<name>"` of every registration still waiting for its inputs (the SDK's pending register and read
    tasks), sorted."""
    found = set()
    for task in asyncio.all_tasks():
        frame = getattr(task.get_coro(), "cr_frame", None)
        if frame is None or frame.f_code.co_name not in ("do_register", "do_read"):
            continue
        ty, name = frame.f_locals.get("ty"), frame.f_locals.get("name")
        if isinstance(ty, str) and isinstance(name, str):
            found.add(f'{ty} "{name}"')
    return sorted(found)


def _drain(loop: asyncio.AbstractEventLoop, error: BaseException | None) -> None:
    """Close a run's loop only once nothing of the run is left: its tasks (a failed program leaves some) and
    the work of its executor threads (the mock monitor answers there, writing to the run's World), so nothing
    of a run happens after it returned."""
    if error is not None:
        # The run's error reaches the caller: the futures that carry that very error are not reported again when
        # collected. Any other error still is.
        raised = _chain(error)
        loop.set_exception_handler(lambda loop, context: _unless_raised(raised, loop, context))
    try:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        # Pulumi keeps a failed output in the set for the program's end; the run has ended, its error raised.
        pulumi_settings.SETTINGS.outputs.clear()
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _chain(error: BaseException) -> list[BaseException]:
    chain = [error]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) is not None and cause not in chain:
        chain.append(cause)
    return chain


def _unless_raised(raised: list[BaseException], loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exception = context.get("exception")
    if "never retrieved" in context.get("message", "") and any(exception is e for e in raised):
        return
    loop.default_exception_handler(context)


def stack_world(project: Project, stack: str, config: dict[str, str]) -> World:
    """The account, region and partition a stack deploys to, as its AWS provider config says."""
    region = config.get("aws:region") or World().region
    accounts: Any = config.get("aws:allowedAccountIds")
    if accounts is not None:
        try:
            accounts = json.loads(accounts)
        except json.JSONDecodeError:
            accounts = None
        if not (isinstance(accounts, list) and accounts and all(_ACCOUNT.fullmatch(str(a)) for a in accounts)):
            raise PlanError(
                f"{project.stack_file(stack)}: aws:allowedAccountIds: a list of 12-digit AWS account IDs is required"
            )
    try:
        partition = botocore.session.get_session().get_partition_for_region(region)
    except botocore.exceptions.UnknownRegionError:
        raise PlanError(f"{project.stack_file(stack)}: aws:region: {region!r} is not a region botocore knows") from None
    return World(partition=partition, region=region, account_id=str(accounts[0]) if accounts else World().account_id)


def run_program(
    directory: Path | str,
    stack: str,
    *,
    preview: bool = False,
    world: World | None = None,
    recorded: list[Resource] | None = None,
    stall_seconds: float = STALL_SECONDS,
    answers: Answers | None = None,
    on_resource: Callable[[Resource], None] | None = None,
) -> Plan:
    """Plan one stack: run the program under the mocks and return what it registered.

    The mocks pretend to be in the stack's region (`aws:region`) and account (the first of the AWS provider's
    `aws:allowedAccountIds`, which the real provider enforces), unless `world` says otherwise; `answers` are the
    user's results for provider functions and stack references.

    Raises PlanError for a bad project or stack file; the program's own exceptions propagate unchanged
    (callers decide how to report them). `recorded`, when given, receives registrations as they happen, so
    a caller can see what a failing program had declared before it failed. `on_resource`, when given, is called
    with each resource of the plan as soon as it is registered, in the plan's order (each default provider just
    before the first resource that uses it), as the engine's step generator sees them; from the thread the
    registration arrives on, so it should only hand the resource on.
    """
    project = load_project(Path(directory))
    config, secrets = load_stack_config(project, stack)
    mocks = AwsMocks(world or stack_world(project, stack, config), preview=preview, answers=answers)
    context = contextvars.Context()
    sink: list[Resource] = [] if recorded is None else recorded
    placer = DefaultProviders(config, secrets, stack=stack, project=project.name)
    placed: list[Resource] = []

    def place(resource: Resource) -> None:
        for item in placer.place(resource):
            placed.append(item)
            if on_resource is not None:
                on_resource(item)

    resources, outputs = context.run(_run, project, stack, config, secrets, mocks, sink, stall_seconds, place)
    for resource in resources:
        if resource.type == STACK_TYPE:
            resource.outputs = dict(outputs)  # the root stack's outputs are the program's exports
    resources = placed
    return Plan(project.name, stack, preview, resources, outputs, config, sorted(secrets))


DYNAMIC_PACKAGES = frozenset({"pulumi-python", "pulumi-nodejs"})


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def default_provider_name(version: str) -> str:
    """`default`, or `default_<major>_<minor>_<patch>` for a package the SDK asked for at a version
    (pulumi/pulumi pkg/resource/deploy/providers/registry.go, ProviderRequest.DefaultName)."""
    if not version:
        return "default"
    return "default_" + "".join(c if c.isalnum() else "_" for c in version)


def with_default_providers(
    resources: list[Resource], config: dict[str, str], secrets: set[str], *, stack: str, project: str
) -> list[Resource]:
    """Insert the provider the engine creates for each custom resource that names none, just before the
    first resource that uses it, and point those resources at it (`DefaultProviders`)."""
    placer = DefaultProviders(config, secrets, stack=stack, project=project)
    return [placed for resource in resources for placed in placer.place(resource)]


class DefaultProviders:
    """The providers the engine creates for custom resources that name none, placed as resources arrive.

    A default provider's inputs are its package's config with the namespace dropped, plus `version`; a dynamic
    provider (`pulumi-python`) gets the whole config with namespaced keys (pulumi/pulumi
    pkg/resource/deploy/target.go, GetPackageConfig; default_providers.go). Secret config values stay secret."""

    def __init__(self, config: dict[str, str], secrets: set[str], *, stack: str, project: str) -> None:
        self.config, self.secrets, self.stack, self.project = config, secrets, stack, project
        self.defaults: dict[tuple[str, str], Resource] = {}

    def place(self, resource: Resource) -> list[Resource]:
        """The resource, after the default provider it uses when that is its first user; the resource is
        pointed at it."""
        result: list[Resource] = []
        if resource.custom and not resource.provider and not resource.is_provider:
            package = resource.type.split(":", 1)[0]
            version = "" if package in DYNAMIC_PACKAGES else resource.version
            key = (package, version)
            if key not in self.defaults:
                self.defaults[key] = self._provider(package, version)
                result.append(self.defaults[key])
            chosen = self.defaults[key]
            resource.provider = f"{chosen.urn}::{chosen.id}"
        result.append(resource)
        return result

    def _provider(self, package: str, version: str) -> Resource:
        inputs: dict[str, Any] = {}
        for name, value in self.config.items():
            namespace, _, bare = name.partition(":")
            if package in DYNAMIC_PACKAGES or namespace == package:
                wire = _secret(value) if name in self.secrets else value
                inputs[name if package in DYNAMIC_PACKAGES else bare] = wire
        if version:
            inputs["version"] = version
        name = default_provider_name(version)
        urn = f"urn:pulumi:{self.stack}::{self.project}::pulumi:providers:{package}::{name}"
        return Resource(
            urn=urn,
            type=f"pulumi:providers:{package}",
            name=name,
            custom=True,
            parent="",
            provider="",
            inputs=dict(inputs),
            wire_inputs=inputs,
            outputs=dict(inputs),
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, urn)),
            default=True,
        )
