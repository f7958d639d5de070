"""IAM: no full SageMaker access for any principal, least privilege, and grants the pack can decide.

The reasoning lives in `policies/access/` (documents, IAM data, the action/resource algebra, principals);
these policies ask it and phrase the answer. AWS documentation behind the checks: the IAM JSON policy
elements reference (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html) and
the policy evaluation logic (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from pulumi_policy import Policy, PolicyResource, ResourceValidationArgs, StackValidationArgs

from .access import catalog, least_privilege
from .access.algebra import full_access
from .access.document import DocumentError, parse
from .access.principals import Model, Resource, collect
from .access.reach import Kind, Own, kind_of_type
from .access.sources import ROLE, items
from .framework import UNKNOWN, EnvironmentResourcePolicy, EnvironmentStackPolicy, Report, label, plain, setting

EXPLAIN = ".venv/bin/python -m policies.access <action>"
SCOPE_SAGEMAKER = (
    "To pass: list the SageMaker actions the role calls and the ARNs it calls them on, "
    "e.g. arn:aws:sagemaker:<region>:<account>:training-job/<pipeline>-<stack>-*."
)
SCOPE_STATEMENT = (
    "To pass: name the actions, and the ARNs for actions IAM scopes to resources "
    f"({EXPLAIN} lists the resource types and ARN formats an action accepts)."
)


def resources(args: StackValidationArgs) -> list[Resource]:
    """The stack's resources as the access model reads them (a custom resource has a provider)."""
    return [_resource(r) for r in args.resources]


def _resource(resource: PolicyResource) -> Resource:
    provider = resource.provider
    return Resource(
        resource.urn,
        resource.resource_type,
        resource.name,
        plain(resource.props),
        provider is not None,
        provider.urn if provider is not None else "",
    )


_MODELS: dict[str, Model] = {}
_UNKNOWN_MARK = secrets.token_hex(16)  # no property value can spell it: an unknown never hashes as a string


def model(args: StackValidationArgs) -> Model:
    """The stack's grant model; built once per AnalyzeStack although two policies ask (the SDK hands each
    policy its own copy of the resources, so the key is a digest of what they hold)."""
    views = resources(args)
    readable = sorted(setting(args, DECIDABLE.defaults, "readableTypes"))
    digest = hashlib.sha256(
        json.dumps(
            [[r.urn, r.type, r.custom, r.provider, r.props] for r in views] + [readable],
            default=lambda _: _UNKNOWN_MARK,
        ).encode()
    ).hexdigest()
    if digest not in _MODELS:
        _MODELS.clear()
        _MODELS[digest] = collect(views, readable)
    return _MODELS[digest]


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


def _no_sagemaker_full_access(args: StackValidationArgs, report: Report) -> None:
    found = model(args)
    for principal in [*found.principals.values(), *found.policies.values()]:
        grant = full_access(found.granted(principal), "sagemaker", found.partitions)
        if grant is not None:
            report(f"{principal.label}: {grant.describe()}. {SCOPE_SAGEMAKER}", principal.urn)


SAGEMAKER_NO_FULL_ACCESS = EnvironmentStackPolicy(
    "sagemaker-no-full-access-in-prod",
    "Forbids any principal every SageMaker action on every SageMaker resource, however the grant is written "
    "or split across policies.",
    _no_sagemaker_full_access,
)


def _decidable(args: StackValidationArgs, report: Report) -> None:
    for gap in model(args).gaps:
        report(f"{gap.what}: {gap.reason}.", gap.urn)


DECIDABLE = EnvironmentStackPolicy(
    "iam-attached-policies-checked",
    "Requires every identity grant in the stack to be one the pack can read and decide: known at preview, "
    "read one way only, attached from a policy it has, on a resource type it reads.",
    _decidable,
    config={"readableTypes": []},
)


def _least_privilege(args: ResourceValidationArgs, report: Report) -> None:
    props = plain(args.props)
    resource = label(args.resource_type, args.name)
    allowed = {name.lower() for name in setting(args, LEAST_PRIVILEGE.defaults, "allowedManagedPolicies")}
    judge_managed = setting(args, LEAST_PRIVILEGE.defaults, "allowAwsManagedPolicies")
    for item in items(args.resource_type, props):
        if item.what == "document":
            _judge(report, resource, item.where, item.document)
        elif item.what == "attachment":
            name = catalog.aws_managed_name(item.policy_arn)
            if name is None or name.lower() in allowed:
                continue
            if not judge_managed:
                report(
                    f"{resource}: {item.where} attaches the AWS-managed policy {name}, and this environment's pack "
                    "config does not allow AWS-managed policies (allowAwsManagedPolicies: false). To pass: grant "
                    "what the principal needs in its own policy, or list the policy in allowedManagedPolicies."
                )
                continue
            on_role = item.principal is not None and item.principal.kind == ROLE
            if on_role and catalog.service_role_policy(item.policy_arn) is not None:
                # Judged by iam-service-role-policies, which sees the role's trust: accepted on the role of the
                # services AWS documents it for, refused anywhere else. On a user or a group, judged here too.
                continue
            document = catalog.aws_managed_document(name)
            if document is not None:
                _judge(report, resource, f"{item.where} (AWS-managed policy {name})", document)


def _judge(report: Report, resource: str, where: str, document: Any) -> None:
    if document is UNKNOWN:
        return  # iam-attached-policies-checked reports what cannot be read
    try:
        statements = parse(document, where)
    except DocumentError:
        return
    for statement in statements:
        for finding in least_privilege.findings(statement):
            report(f"{resource}: {where}: {finding}. {SCOPE_STATEMENT}")


LEAST_PRIVILEGE = EnvironmentResourcePolicy(
    "iam-least-privilege-in-prod",
    "Requires identity policies to name their actions and, where IAM supports it, their resources.",
    _least_privilege,
    config={"allowedManagedPolicies": [], "allowAwsManagedPolicies": True},
)

POLICIES: list[Policy] = [SAGEMAKER_NO_FULL_ACCESS, LEAST_PRIVILEGE, DECIDABLE]
