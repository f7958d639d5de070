"""Identity grants inside CloudFormation: the `AWS::IAM::*` resources of a template given inline (JSON or YAML,
to `aws:cloudformation/stack:Stack`, `aws:cloudformation/stackSet:StackSet`, `aws-native:cloudformation:Stack`),
and a Cloud Control resource read as a template of its one resource. A template given by URL, a transform or
macro, a type the reader does not read and a value too large to read are gaps."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from ..framework import UNKNOWN
from .items import GROUP, ROLE, USER, Item, Ref, What, inline_name, listed
from .properties import BEYOND, VALUES, TemplateLoader, walk


class _TooLarge(Exception):
    """A template whose values, YAML aliases expanded, exceed what the pack reads."""


def approximate(value: Any) -> Any:
    """A document with CloudFormation's functions read as wildcards (`_approximate`), BEYOND when it holds more
    values than the budget."""
    try:
        return _approximate(value, [VALUES])
    except (_TooLarge, RecursionError):
        return BEYOND


def _approximate(value: Any, budget: list[int]) -> Any:
    """A document's intrinsic functions as wildcards: `!Sub arn:${AWS::Partition}:s3:::${Bucket}/*` reads as
    `arn:*:s3:::*/*`, a `!Ref` or `!GetAtt` as `*`. Wider than what CloudFormation would write (fail closed).
    `budget` counts the values read: a YAML alias repeated inside aliases cannot make this exponential."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                return re.sub(r"\$\{[^}]*\}", "*", text) if isinstance(text, str) else "*"
            if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2 and isinstance(inner[1], list):
                parts = [_approximate(p, budget) for p in inner[1]]
                return str(inner[0]).join(p if isinstance(p, str) else "*" for p in parts)
            if key == "Ref" or key.startswith("Fn::"):
                return "*"
        return {k: _approximate(v, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_approximate(v, budget) for v in value]
    return value


_CFN_PRINCIPALS = {
    "AWS::IAM::Role": (ROLE, "RoleName"),
    "AWS::IAM::User": (USER, "UserName"),
    "AWS::IAM::Group": (GROUP, "GroupName"),
}
_CFN_INLINE = {
    "AWS::IAM::RolePolicy": (ROLE, "RoleName"),
    "AWS::IAM::UserPolicy": (USER, "UserName"),
    "AWS::IAM::GroupPolicy": (GROUP, "GroupName"),
}
_CFN_HARMLESS = frozenset(
    {
        "AWS::IAM::OIDCProvider",
        "AWS::IAM::SAMLProvider",
        "AWS::IAM::ServerCertificate",
        "AWS::IAM::VirtualMFADevice",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::ServiceLinkedRole",
        "AWS::IAM::AccessKey",
    }
)
_CFN_OPAQUE = (
    "AWS::IAM::",
    "AWS::SSO::",
    "AWS::IdentityStore::",
    "AWS::Organizations::",
    "AWS::CloudFormation::",
    "AWS::Serverless::",
    "AWS::ServiceCatalog::",
)
"""Types that can grant identity permissions, or declare more resources, that the reader does not read."""


def _template_ref(kind: str, value: Any, where: str, keys: dict[str, str]) -> Ref:
    """A principal or policy a template names: `!Ref Logical` is the template's own resource (its literal name
    when it sets one, else `template:Logical`); a literal string is a name."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in keys:
        return Ref(kind, keys[value["Ref"]], where)
    if isinstance(value, str):
        return Ref(kind, value, where)
    return Ref(kind, UNKNOWN, where)


def _intrinsic_only(properties: dict[str, Any]) -> bool:
    return len(properties) == 1 and next(iter(properties)).startswith("Fn::")


def _load_template(body: str) -> Any:
    if body.lstrip().startswith("{"):
        return json.loads(body)
    return yaml.load(body, Loader=TemplateLoader)  # a SafeLoader subclass


def template(props: dict[str, Any]) -> Iterator[Item]:
    body = props.get("templateBody")
    if body is None:
        url = props.get("templateUrl")
        if url is not None:
            yield Item(
                What.GAP,
                "templateUrl",
                reason="the template is given by URL, so the pack cannot read the IAM "
                "resources it declares; give it inline as templateBody",
            )
        return
    if body is UNKNOWN or not isinstance(body, str):
        yield Item(What.GAP, "templateBody", reason="the template is not known at preview")
        return
    try:
        parsed = _load_template(body)
        yield from _template_items(parsed)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        yield Item(What.GAP, "templateBody", reason=f"the template cannot be read ({str(exc).splitlines()[0][:80]})")
    except _TooLarge:
        yield Item(
            What.GAP,
            "templateBody",
            reason="the template holds more values than the pack reads once its YAML aliases are expanded",
        )


def _transforms(value: Any) -> bool:
    """Whether `Fn::Transform` (an AWS::Include or a macro) stands anywhere in the template."""
    return any(where.rsplit(".", 1)[-1] == "Fn::Transform" or inner is BEYOND for where, inner in walk(value))


def _template_gaps(parsed: Any) -> Iterator[Item]:
    """What in a template can declare IAM out of the reader's sight, whatever its resources."""
    if isinstance(parsed, dict) and parsed.get("Transform") is not None:
        yield Item(
            What.GAP,
            "templateBody Transform",
            reason=f"the template uses Transform {parsed['Transform']!r}: a "
            "transform or macro can declare IAM the pack cannot see; expand it before deploying",
        )
    if _transforms(parsed):
        yield Item(
            What.GAP,
            "templateBody Fn::Transform",
            reason="the template includes content with Fn::Transform (AWS::Include or a macro), which can declare "
            "IAM the pack cannot see; inline it",
        )


def _template_keys(resources: dict[str, Any]) -> dict[str, str]:
    """Logical id -> how the model keys it: a principal's literal name (so that it meets the same name
    elsewhere in the stack), else `template:<id>`."""
    keys: dict[str, str] = {}
    for logical, resource in resources.items():
        if isinstance(resource, dict) and resource.get("Type") in _CFN_PRINCIPALS:
            _, name_key = _CFN_PRINCIPALS[resource["Type"]]
            properties = resource.get("Properties")
            name = properties.get(name_key) if isinstance(properties, dict) else None
            keys[logical] = name if isinstance(name, str) else f"template:{logical}"
        elif isinstance(resource, dict) and resource.get("Type") == "AWS::IAM::ManagedPolicy":
            keys[logical] = f"template:{logical}"
    return keys


def _template_items(parsed: Any) -> Iterator[Item]:
    budget = [VALUES]
    yield from _template_gaps(parsed)
    resources = parsed.get("Resources") if isinstance(parsed, dict) else None
    if not isinstance(resources, dict):
        return
    keys = _template_keys(resources)
    for logical, resource in resources.items():
        where = f"templateBody Resources.{logical}"
        if not isinstance(resource, dict):
            yield Item(
                What.GAP,
                where,
                reason="not a resource the pack reads (Fn::ForEach or another language "
                "extension): it can declare IAM the pack cannot see",
            )
            continue
        kind_type, properties = resource.get("Type"), resource.get("Properties") or {}
        if not isinstance(kind_type, str) or not isinstance(properties, dict) or _intrinsic_only(properties):
            yield Item(
                What.GAP,
                where,
                reason="a resource without a literal Type and Properties (an intrinsic in their place), which can "
                "declare IAM the pack cannot see",
            )
            continue
        where += f" ({kind_type})"
        if not kind_type.startswith("AWS::"):
            yield Item(
                What.GAP,
                where,
                reason=f"{kind_type} is not an AWS resource type (a module, a custom resource or a third-party "
                "type): what it declares or runs cannot be read",
            )
            continue
        if kind_type in _CFN_PRINCIPALS:
            yield from _template_principal(kind_type, properties, where, keys[logical], keys, budget)
        elif kind_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            doc = _approximate(properties.get("PolicyDocument", UNKNOWN), budget)
            if kind_type == "AWS::IAM::ManagedPolicy":
                yield Item(What.DOCUMENT, where, document=doc, name=f"template:{logical}")
            # AWS::IAM::Policy is an inline policy of each principal it names (PolicyName): it replaces theirs.
            name, overwrites = (
                inline_name(properties.get("PolicyName")) if kind_type == "AWS::IAM::Policy" else (None, False)
            )
            for kind, key in ((ROLE, "Roles"), (USER, "Users"), (GROUP, "Groups")):
                for value in listed(properties.get(key)):
                    who = _template_ref(kind, value, f"{where} {key}", keys)
                    yield Item(What.DOCUMENT, where, principal=who, document=doc, name=name, overwrites=overwrites)
        elif kind_type in _CFN_INLINE:
            kind, key = _CFN_INLINE[kind_type]
            doc = _approximate(properties.get("PolicyDocument", UNKNOWN), budget)
            who = _template_ref(kind, properties.get(key), f"{where} {key}", keys)
            name, overwrites = inline_name(properties.get("PolicyName"))
            yield Item(What.DOCUMENT, where, principal=who, document=doc, name=name, overwrites=overwrites)
        elif kind_type == "AWS::IAM::AccessKey":
            who = _template_ref(USER, properties.get("UserName"), f"{where} UserName", keys)
            yield Item(What.CREDENTIAL, where, principal=who)
        elif kind_type.startswith(_CFN_OPAQUE) and kind_type not in _CFN_HARMLESS:
            yield Item(
                What.GAP,
                where,
                reason=f"the pack does not read {kind_type}, which can grant identity "
                "permissions or declare more resources; declare them as Pulumi resources instead",
            )


def _template_principal(
    kind_type: str, properties: dict[str, Any], where: str, key: str, keys: dict[str, str], budget: list[int]
) -> Iterator[Item]:
    """A role, user or group a template declares: its trust, inline policies, managed policies and groups."""
    kind, _name_key = _CFN_PRINCIPALS[kind_type]
    me = Ref(kind, key, where)
    yield Item(What.PRINCIPAL, where, principal=me)
    if properties.get("AssumeRolePolicyDocument") is not None:
        doc = _approximate(properties["AssumeRolePolicyDocument"], budget)
        yield Item(What.TRUST, f"{where} AssumeRolePolicyDocument", principal=me, document=doc)
    for index, entry in enumerate(listed(properties.get("Policies"))):
        doc = _approximate(entry.get("PolicyDocument", UNKNOWN), budget) if isinstance(entry, dict) else UNKNOWN
        name, overwrites = inline_name(entry.get("PolicyName") if isinstance(entry, dict) else None)
        yield Item(
            What.DOCUMENT,
            f"{where} Policies[{index}]",
            principal=me,
            document=doc,
            name=name,
            overwrites=overwrites,
        )
    for index, arn in enumerate(listed(properties.get("ManagedPolicyArns"))):
        arn = _template_ref("policy", arn, where, keys).key
        yield Item(What.ATTACHMENT, f"{where} ManagedPolicyArns[{index}]", principal=me, policy_arn=arn)
    if kind_type == "AWS::IAM::User" and properties.get("LoginProfile") is not None:
        yield Item(What.CREDENTIAL, f"{where} LoginProfile", principal=me)
    if kind_type == "AWS::IAM::User":
        groups = [_template_ref(GROUP, g, f"{where} Groups", keys) for g in listed(properties.get("Groups"))]
        if groups:
            yield Item(What.MEMBERSHIP, where, principal=me, groups=groups)


def cloud_control(props: dict[str, Any]) -> Iterator[Item]:
    """A Cloud Control resource (`typeName`, `desiredState` JSON) is read as a template of that one resource."""
    type_name, state = props.get("typeName", UNKNOWN), props.get("desiredState", UNKNOWN)
    if not isinstance(type_name, str) or not isinstance(state, str):
        yield Item(What.GAP, "desiredState", reason="its type or desired state is not known at preview")
        return
    try:
        properties = json.loads(state)
    except ValueError:
        yield Item(What.GAP, "desiredState", reason="its desired state is not JSON the pack can read")
        return
    yield from template(
        {"templateBody": json.dumps({"Resources": {"Resource": {"Type": type_name, "Properties": properties}}})}
    )
