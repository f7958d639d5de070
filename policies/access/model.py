"""The stack's grant model, built once per stack and handed to every policy that asks (the policies are
`policies/*.py`; the model is `principals.collect`, its readers `sources`, `templates`, `compute` and
`exposure`).

The pack's servicer hands every stack policy the same resources (`policies/servicer.py`), so the model is built
once per request; where the resources are copies (the SDK's own servicer gives each policy its own), a digest of
what they hold finds the model already built.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from pulumi_policy import PolicyResource, StackValidationArgs

from ..framework import stack_plain
from .principals import Model, Resource, collect
from .reach import Kind, Own, kind_of_type


def resources(args: StackValidationArgs) -> list[Resource]:
    """The stack's resources as the access model reads them (a custom resource has a provider); read once per
    list of resources (the pack's servicer hands every stack policy the same list, `policies/servicer.py`)."""
    given = args.resources
    entry = _VIEWS[0] if _VIEWS else None  # read once: another thread may replace it
    if entry is not None and entry[0] is given:
        return entry[1]
    views = [_resource(r) for r in given]
    _VIEWS[:] = [(given, views)]  # the list is held, so that its identity is not reused while it is cached
    return views


_VIEWS: list[tuple[list[PolicyResource], list[Resource]]] = []


def _resource(resource: PolicyResource) -> Resource:
    provider = resource.provider
    return Resource(
        resource.urn,
        resource.resource_type,
        resource.name,
        stack_plain(resource),
        provider is not None,
        provider.urn if provider is not None else "",
        {
            key: tuple((d.urn, d.resource_type) for d in found)
            for key, found in (resource.property_dependencies or {}).items()
        },
        tuple(getattr(resource.opts, "ignore_changes", None) or ()),
    )


_MODELS: dict[str, Model] = {}
_UNKNOWN_MARK = secrets.token_hex(16)  # no property value can spell it: an unknown never hashes as a string


def model(args: StackValidationArgs) -> Model:
    """The stack's grant model; built once per AnalyzeStack although two policies ask (the SDK hands each
    policy its own copy of the resources, so the key is a digest of what they hold)."""
    views = resources(args)
    # iam-attached-policies-checked's setting; the other policies have none, and the default is none.
    readable = sorted((args.get_config() or {}).get("readableTypes", []))
    last = _LAST[0] if _LAST else None  # read once: another thread may replace it
    if last is not None and last[0] is views and last[1] == readable:
        return last[2]  # the same views of the same list: the model already built for them
    digest = hashlib.sha256(
        json.dumps(
            [[r.urn, r.type, r.custom, r.provider, r.props, r.dependencies, r.ignored] for r in views] + [readable],
            default=lambda _: _UNKNOWN_MARK,
        ).encode()
    ).hexdigest()
    found = _MODELS.get(digest)
    if found is None:
        found = collect(views, readable)
        _MODELS.clear()
        _MODELS[digest] = found
    _LAST[:] = [(views, readable, found)]
    return found


_LAST: list[tuple[list[Resource], list[str], Model]] = []


def own(args: StackValidationArgs, found: Model) -> Own:
    """The resources the stack defines, by service, type and name, and their ARNs: what a grant may reach
    without leaving it."""
    kinds: set[Kind] = set()
    arns: set[str] = set()
    views = resources(args)
    # Names are own only where the stack's providers provably deploy to one account: a namesake declared
    # through another account's provider would make that account's resource of the name look like the stack's.
    single = found.same_account({r.provider for r in views if r.custom and r.provider})
    for resource in views:
        arn = resource.props.get("arn")
        if isinstance(arn, str):
            arns.add(arn.lower())
        kind = kind_of_type(resource.type)
        if not single or (kind is not None and kind[0] == "iam" and kind[1] in ("role", "user", "group")):
            continue  # IAM identities: the model's own ones, below
        for key in ("name", "roleName", "functionName", "bucket", "policyName", "userName", "stateMachineName"):
            value = resource.props.get(key)
            if kind is not None and isinstance(value, str):
                if kind == ("scheduler", "schedule"):  # named in its group: `schedule/<group>/<name>`
                    group = resource.props.get("groupName")
                    value = f"{group if isinstance(group, str) and group else 'default'}/{value}"
                kinds.add((*kind, value.lower()))
    if single:
        kinds |= {
            ("iam", p.kind, p.key.split(":", 1)[1])
            for p in found.principals.values()
            if p.kind in ("role", "user", "group") and p.own
        }
    return Own(frozenset(kinds), frozenset(arns))
