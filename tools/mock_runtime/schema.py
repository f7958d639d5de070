"""What the AWS provider returns, read from pulumi_aws's own Python types, not listed by hand.

pulumi_aws generates a class per resource type (its output properties: `@pulumi.getter(name="executionArn")` with
the annotation `Output[str]`, `Output[outputs.ClusterCertificateAuthority]`, ...), an `...Args` class per type (its
inputs) and a `Get...Result` class per provider function. The mocks use them so that a program computing on an
output the provider fills in (`stage.execution_arn.apply(...)`, `cluster.certificate_authority.data`) runs in
update mode as under the engine, with a value of the property's shape, and so that a data source answers with
every field its result declares.

A value is built from the property's name, type and documentation: an ARN where the property is one (in the
provider's documented example's format when it gives one), a URL or an endpoint, base64 text where the
documentation says base64, one element in a list (programs index `[0]`), an object with each of its fields.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import inspect
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pulumi
from pulumi import _types as pulumi_types
from pulumi.runtime import rpc

from components.arns import AwsContext

_EXAMPLE = re.compile(r"`((?:arn:aws[\w-]*:|https://|wss://)[^`\s]+)`")
_ID_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{8,}(?![A-Za-z0-9])")
_REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-[a-z]+-\d\b")
_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_DEPTH = 4


@dataclass(frozen=True)
class Property:
    """One output property: its wire name (camelCase), its Python type and its documentation."""

    name: str
    type: Any
    doc: str


@functools.cache
def dns_suffix(partition: str) -> str:
    """A partition's DNS suffix (`amazonaws.com`, `amazonaws.com.cn`, ...), from botocore's endpoint data."""
    import botocore.regions
    import botocore.session

    resolver = botocore.regions.EndpointResolver(botocore.session.get_session().get_data("endpoints"))
    return str(resolver.get_partition_dns_suffix(partition) or "amazonaws.com")


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _module(fqn: str) -> ModuleType | None:
    try:
        return importlib.import_module(fqn)
    except ImportError:
        return None


def _resource_class(token: str) -> type | None:
    """The pulumi_aws class of a resource type token (`aws:apigateway/stage:Stage`), from the package's own
    registration of its modules (what the SDK uses to rehydrate resource references)."""
    package, _, rest = token.partition(":")
    module_name = rest.rpartition(":")[0]
    _module(f"pulumi_{package}")  # its import registers its modules
    registered = rpc.get_resource_module(package, module_name, "")
    info = getattr(registered, "mod_info", None)
    if not isinstance(info, dict) or token not in info.get("classes", {}):
        return None
    module = _module(info["fqn"])
    found = getattr(module, info["classes"][token], None) if module else None
    return found if inspect.isclass(found) else None


def _getters(cls: type) -> dict[str, Property]:
    module = inspect.getmodule(cls)
    found: dict[str, Property] = {}
    for attribute in vars(cls).values():
        getter = getattr(attribute, "fget", None)
        name = getattr(getter, "_pulumi_name", None)
        if not isinstance(name, str):
            continue
        try:
            hints = typing.get_type_hints(getter, vars(module) if module else None)
        except (NameError, AttributeError, TypeError):
            hints = {}
        found[name] = Property(name, hints.get("return", Any), inspect.getdoc(getter) or "")
    return found


_ADDRESS = re.compile(r"(?:Ip|Ips|Dns|DnsName)$")
"""Inputs the provider fills in when the program leaves them out that programs compute on (an instance's
`private_ip` in a connection string). Other optional inputs are left as the program gave them: a made-up value
for one the pack reads (a `policy`, a `kmsKeyId`) would change what it judges."""


def _optional(type_: Any) -> bool:
    inner = typing.get_args(type_)[0] if typing.get_origin(type_) is pulumi.Output else type_
    return typing.get_origin(inner) is typing.Union and type(None) in typing.get_args(inner)


@functools.cache
def resource_outputs(token: str) -> tuple[Property, ...]:
    """The properties the provider always computes for a resource type and the program does not give: the
    class's output properties less its `...Args` inputs (and `id`, `urn`, which the engine gives), those
    declared `Optional` left out (a web ACL's ARN on a stage without one); plus the address-like inputs the
    provider fills in (`_ADDRESS`). Empty for a type pulumi_aws does not declare."""
    cls = _resource_class(token)
    if cls is None:
        return ()
    args = getattr(inspect.getmodule(cls), f"{cls.__name__}Args", None)
    inputs = set(_getters(args)) if inspect.isclass(args) else set()
    return tuple(
        p
        for name, p in sorted(_getters(cls).items())
        if name not in {"id", "urn"} and not _optional(p.type) and (name not in inputs or _ADDRESS.search(name))
    )


@functools.cache
def output_names(token: str) -> frozenset[str]:
    """Every output property of a resource type (wire names), inputs among them: what the engine's state of the
    resource may hold."""
    cls = _resource_class(token)
    return frozenset(name for name in _getters(cls) if name not in {"id", "urn"}) if cls is not None else frozenset()


def function_result(token: str) -> tuple[Property, ...] | None:
    """The fields of a provider function's result (`aws:ec2/getAmi:getAmi` → `GetAmiResult`), or None when
    pulumi_aws declares no such function."""
    return _function_result(token)


@functools.cache
def _function_result(token: str) -> tuple[Property, ...] | None:
    package, _, rest = token.partition(":")
    module_name, _, function = rest.rpartition(":")
    top = module_name.split("/", 1)[0]
    module = _module(f"pulumi_{package}" if top == "index" else f"pulumi_{package}.{top}")
    defined = getattr(module, _camel_to_snake(function), None) if module else None
    result = getattr(inspect.getmodule(defined), f"{function[0].upper()}{function[1:]}Result", None)
    if not inspect.isclass(result):
        return None
    return tuple(p for _, p in sorted(_getters(result).items()))


def python_name(token: str) -> str:
    """`aws:ec2/getAmi:getAmi` → `aws.ec2.get_ami` (as a program calls it)."""
    package, _, rest = token.partition(":")
    module_name, _, function = rest.rpartition(":")
    top = module_name.split("/", 1)[0]
    return ".".join([package, *([] if top == "index" else [top]), _camel_to_snake(function)])


@dataclass(frozen=True)
class Subject:
    """What a built value is about: the mock's account and region, the resource's type, name and id."""

    world: AwsContext
    token: str
    name: str

    @property
    def service(self) -> str:
        return self.token.partition(":")[2].split("/", 1)[0].lower()

    @property
    def suffix(self) -> str:
        return dns_suffix(self.world.partition)

    def hex(self, *parts: str, length: int = 10) -> str:
        return hashlib.sha256("\0".join((self.token, self.name, *parts)).encode()).hexdigest()[:length]


def _adapt(example: str, subject: Subject, prop: str) -> str:
    """The documented example in the mock's partition, region and account, its identifiers made this
    resource's (two resources never share a value)."""
    value = example.replace("arn:aws:", f"arn:{subject.world.partition}:", 1)
    value = _REGION.sub(subject.world.region, value)
    value = _ACCOUNT.sub(subject.world.account_id, value)
    value = _ID_TOKEN.sub(lambda m: subject.hex(prop, m.group(0), length=len(m.group(0))), value)
    value = value.replace("{region}", subject.world.region).replace(".amazonaws.com", f".{subject.suffix}")
    return re.sub(r"\{[^}]*\}", lambda m: subject.hex(prop, m.group(0)), value)


def _string(prop: str, doc: str, subject: Subject) -> str:
    lowered = prop.lower()
    example = _EXAMPLE.search(doc)
    addressed = lowered.endswith(("arn", "url", "uri")) or "endpoint" in lowered
    if addressed and example and example.group(1).startswith("arn:") == lowered.endswith("arn"):
        return _adapt(example.group(1), subject, prop)
    if lowered.endswith("arn"):
        if lowered == "arn":
            kind = _camel_to_snake(subject.token.rpartition(":")[2]).replace("_", "-")
            return subject.world.arn(subject.service, f"{kind}/{subject.name}")
        kind = _camel_to_snake(prop[: -len("arn")]).replace("_", "-")
        return subject.world.arn(subject.service, f"{kind}/{subject.hex(prop)}")
    if prop.endswith("Ip") or prop.endswith("Ips") or lowered in ("ip", "ipaddress"):
        digest = subject.hex(prop, length=4)
        return f"10.0.{int(digest[:2], 16)}.{int(digest[2:], 16) or 1}"
    if lowered.endswith("url") or lowered.endswith("uri") or "endpoint" in lowered:
        host = f"{subject.hex(prop)}.{subject.service}.{subject.world.region}.{subject.suffix}"
        return host if "hostname" in lowered or "dns" in lowered else f"https://{host}"
    if "base64" in doc.lower():
        text = f"-----BEGIN CERTIFICATE-----\n{subject.hex(prop, length=40)}\n-----END CERTIFICATE-----\n"
        return base64.b64encode(text.encode()).decode()
    if lowered.endswith("domainname") or lowered.endswith("dnsname") or lowered.endswith("hostname"):
        return f"{subject.hex(prop)}.{subject.service}.{subject.world.region}.{subject.suffix}"
    return f"{subject.name}-{subject.hex(prop, length=8)}"


def value_for(type_: Any, prop: str, doc: str, subject: Subject, depth: int = 0) -> Any:
    """A value of the type, as the provider would return it (wire shape: objects as camelCase dicts)."""
    origin = typing.get_origin(type_)
    arguments = typing.get_args(type_)
    if origin is pulumi.Output or origin is typing.Union:
        inner = [a for a in arguments if a is not type(None)]
        return value_for(inner[0], prop, doc, subject, depth) if inner else None
    if depth > _DEPTH:
        return None
    if type_ is str:
        return _string(prop, doc, subject)
    if type_ is bool:
        return False
    if type_ is int:
        return 1
    if type_ is float:
        return 1.0
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return {}
    if origin is not None and isinstance(origin, type) and issubclass(origin, Sequence) and arguments:
        return [value_for(arguments[0], prop, doc, subject, depth + 1)]
    if inspect.isclass(type_) and pulumi_types.is_output_type(type_):
        return {p.name: value_for(p.type, p.name, p.doc, subject, depth + 1) for p in _getters(type_).values()}
    return None


def fill_outputs(token: str, outputs: dict[str, Any], subject: Subject) -> dict[str, Any]:
    """`outputs` with every property the provider computes and the program did not give filled in."""
    filled = dict(outputs)
    for prop in resource_outputs(token):
        if filled.get(prop.name) is None:
            filled[prop.name] = value_for(prop.type, prop.name, prop.doc, subject)
    return filled
