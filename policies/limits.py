"""AWS's documented limits that a preview does not hit and `pulumi up` does: IAM document sizes (a managed policy,
a role's inline policies together, a trust policy), managed policies per role, name lengths and patterns, tags
per resource and their lengths, and a state machine definition's size. Every limit and its page are in
`data/aws_limits.json`; a message names the resource, the limit, what was measured and what to do. A value not
known at preview is not measured (it is a name or document the provider computes, not one a quota can refuse).
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pulumi_policy import Policy, ResourceValidationArgs, StackValidationArgs

from .framework import EnvironmentResourcePolicy, EnvironmentStackPolicy, Report, label, plain, stack_plain

DATA = Path(__file__).parent / "data" / "aws_limits.json"
INLINE = {
    "aws:iam/rolePolicy:RolePolicy": ("role", "role"),
    "aws:iam/userPolicy:UserPolicy": ("user", "user"),
    "aws:iam/groupPolicy:GroupPolicy": ("group", "group"),
}


@cache
def limits() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return document


@lru_cache(maxsize=256)
def characters(text: str) -> int:
    """A policy document's size as IAM counts it against its quotas (whitespace between tokens not counted); counted
    once per text (a document is counted for its resource and for its principal)."""
    try:
        return len(json.dumps(json.loads(text), separators=(",", ":")))
    except (json.JSONDecodeError, TypeError):
        return len("".join(text.split()))


def _names(args: ResourceValidationArgs, props: dict[str, Any], report: Report) -> None:
    resource = label(args.resource_type, args.name)
    for rule in limits()["names"]:
        value = props.get(rule["property"]) if rule["type"] == args.resource_type else None
        if not isinstance(value, str):
            continue
        size = len(value)
        if not rule.get("min", 1) <= size <= rule["max"]:
            report(
                f"{resource}: {rule['property']} {value!r} is {size} characters; AWS accepts {rule.get('min', 1)} to "
                f"{rule['max']} ({rule['source']}). To pass: a shorter name."
            )
        elif not re.fullmatch(rule["pattern"], value):
            report(
                f"{resource}: {rule['property']} {value!r} does not match {rule['pattern']} ({rule['source']}). "
                "To pass: a name of those characters."
            )


def _documents(args: ResourceValidationArgs, props: dict[str, Any], report: Report) -> None:
    resource = label(args.resource_type, args.name)
    iam, sfn = limits()["iam"], limits()["stepFunctions"]
    checks = {
        "aws:iam/policy:Policy": (
            "policy",
            iam["managedPolicyCharacters"],
            "a managed policy",
            "split it into several, or name resources by a pattern",
        ),
        "aws:iam/role:Role": (
            "assumeRolePolicy",
            iam["trustPolicyCharacters"],
            "a trust policy",
            "trust fewer principals, or raise the quota (4,096 at most)",
        ),
    }
    if args.resource_type in checks:
        key, limit, what, remedy = checks[args.resource_type]
        document = props.get(key)
        if isinstance(document, str) and (size := characters(document)) > limit:
            report(
                f"{resource}: {key} is {size:,} characters, over the {limit:,} IAM allows {what} (whitespace not "
                f"counted; {iam['source']}). To pass: {remedy}."
            )
    if args.resource_type == "aws:sfn/stateMachine:StateMachine":
        definition = props.get("definition")
        limit = sfn["definitionBytes"]
        if isinstance(definition, str) and (size := len(definition.encode())) > limit:
            report(
                f"{resource}: definition is {size:,} bytes, over Step Functions' {limit:,} ({sfn['source']}). To "
                "pass: split the workflow into state machines that start one another."
            )


def _default_tags(args: ResourceValidationArgs) -> dict[str, Any]:
    """The provider's default tags (a provider's inputs reach the pack as JSON text, or as values)."""
    provider = plain(args.provider.props) if args.provider is not None else {}
    found = provider.get("defaultTags") if isinstance(provider, dict) else None
    if isinstance(found, str):
        try:
            found = json.loads(found)
        except json.JSONDecodeError:
            return {}
    tags = found.get("tags") if isinstance(found, dict) else None
    return tags if isinstance(tags, dict) else {}


def _tags(args: ResourceValidationArgs, props: dict[str, Any], report: Report) -> None:
    tags = props.get("tags")
    if not isinstance(tags, dict):
        return
    every = {**_default_tags(args), **tags}
    rule, resource = limits()["tags"], label(args.resource_type, args.name)
    if len(every) > rule["perResource"]:
        report(
            f"{resource}: {len(every)} tags with the provider's default tags; AWS accepts {rule['perResource']} "
            f"({rule['source']}). To pass: fewer tags."
        )
    for key, value in every.items():
        if len(str(key)) > rule["keyCharacters"] or (isinstance(value, str) and len(value) > rule["valueCharacters"]):
            report(
                f"{resource}: tag {str(key)[:40]!r}: keys take at most {rule['keyCharacters']} characters, values "
                f"{rule['valueCharacters']} ({rule['source']}). To pass: shorten it."
            )


def _resource(args: ResourceValidationArgs, report: Report) -> None:
    props = plain(args.props)
    if isinstance(props, dict):
        _names(args, props, report)
        _documents(args, props, report)
        _tags(args, props, report)


def _principals(args: StackValidationArgs, report: Report) -> None:
    """A role's inline policies together, and its managed policies attached."""
    iam = limits()["iam"]
    # Each policy once, by name or ARN: once read, a role's own `inlinePolicies` and `managedPolicyArns` (outputs
    # pulumi_aws computes) list the policies other resources put on it too; unknown at a preview, they hold nothing.
    documents: dict[tuple[str, str], dict[str, int]] = {}
    attached: dict[str, set[str]] = {}
    for resource in args.resources:
        props = stack_plain(resource)
        if not isinstance(props, dict):
            continue
        if resource.resource_type in INLINE:
            kind, owner_key = INLINE[resource.resource_type]
            owner, document = props.get(owner_key), props.get("policy")
            if isinstance(owner, str) and isinstance(document, str):
                named = documents.setdefault((kind, owner), {})
                key = props["name"] if isinstance(props.get("name"), str) else resource.urn
                named[key] = max(named.get(key, 0), characters(document))
        elif resource.resource_type == "aws:iam/role:Role" and isinstance(props.get("name"), str):
            entries = props.get("inlinePolicies")
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                if isinstance(entry, dict) and isinstance(entry.get("policy"), str):
                    named = documents.setdefault(("role", props["name"]), {})
                    key = entry["name"] if isinstance(entry.get("name"), str) else f"{resource.urn}[{index}]"
                    named[key] = max(named.get(key, 0), characters(entry["policy"]))
            arns = props.get("managedPolicyArns")
            if isinstance(arns, list):
                attached.setdefault(props["name"], set()).update(str(a) for a in arns)
        elif resource.resource_type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and isinstance(
            props.get("role"), str
        ):
            attached.setdefault(props["role"], set()).add(str(props.get("policyArn")))
    inline = {owner: sum(named.values()) for owner, named in documents.items()}
    for (kind, owner), size in sorted(inline.items()):
        limit = iam["inlineCharacters"][kind]
        if size > limit:
            report(
                f"the inline policies of {kind} {owner} are {size:,} characters together, over the {limit:,} IAM "
                f"allows ({iam['source']}). To pass: move statements to managed policies, or name resources by a "
                "pattern."
            )
    for role_name, arns in sorted(attached.items()):
        count = len(arns)
        if count > iam["managedPoliciesPerRole"]:
            report(
                f"role {role_name} has {count} managed policies attached; IAM attaches "
                f"{iam['managedPoliciesPerRole']} by default ({iam['source']}; raisable to 20). To pass: fewer, "
                "larger policies, or a quota increase."
            )


LIMITS = EnvironmentResourcePolicy(
    "aws-limits-respected",
    "Refuses names, tags, IAM documents and definitions over the limits AWS documents, which a preview passes.",
    _resource,
)
PRINCIPAL_LIMITS = EnvironmentStackPolicy(
    "aws-limits-respected-per-principal",
    "Refuses a role's inline policies over IAM's total, or more managed policies than IAM attaches to a role.",
    _principals,
)

POLICIES: list[Policy] = [LIMITS, PRINCIPAL_LIMITS]
