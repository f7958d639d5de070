"""IAM: no full SageMaker access for any principal, least privilege, and grants the pack can decide.

The reasoning lives in `policies/access/` (documents, IAM data, the action/resource algebra, principals);
these policies ask it and phrase the answer. AWS documentation behind the checks: the IAM JSON policy
elements reference (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html) and
the policy evaluation logic (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Policy, ResourceValidationArgs, StackValidationArgs

from .access import catalog, least_privilege
from .access.algebra import full_access
from .access.document import DocumentError, parse
from .access.items import ROLE, What
from .access.model import model
from .access.principals import Model
from .access.sources import items
from .framework import (
    UNKNOWN,
    EnvironmentResourcePolicy,
    EnvironmentStackPolicy,
    Finding,
    Report,
    label,
    plain,
    report_all,
    setting,
)

EXPLAIN = ".venv/bin/python -m policies.access <action>"
SCOPE_SAGEMAKER = (
    "To pass: list the SageMaker actions the role calls and the ARNs it calls them on, "
    "e.g. arn:aws:sagemaker:<region>:<account>:training-job/<pipeline>-<stack>-*."
)
SCOPE_STATEMENT = (
    "To pass: name the actions, and the ARNs for actions IAM scopes to resources "
    f"({EXPLAIN} lists the resource types and ARN formats an action accepts)."
)


def full_access_findings(found: Model) -> Iterator[Finding]:
    """Each principal (and customer-managed policy) allowed every SageMaker action on every resource."""
    for principal in [*found.principals.values(), *found.policies.values()]:
        grant = full_access(found.granted(principal), "sagemaker", found.partitions)
        if grant is not None:
            witness = grant.witness
            yield Finding(
                principal.urn,
                f"{principal.label}: {grant.describe()}. {SCOPE_SAGEMAKER}",
                {
                    "action": witness.action,
                    "resource": witness.resource,
                    "statements": (witness.statement, *(s for s in grant.statements if s is not witness.statement)),
                    "actions": grant.actions,
                    "leftOut": list(grant.left_out),
                },
            )


def _no_sagemaker_full_access(args: StackValidationArgs, report: Report) -> None:
    report_all(full_access_findings(model(args)), report)


SAGEMAKER_NO_FULL_ACCESS = EnvironmentStackPolicy(
    "sagemaker-no-full-access-in-prod",
    "Forbids any principal every SageMaker action on every SageMaker resource, however the grant is written "
    "or split across policies.",
    _no_sagemaker_full_access,
)


def gap_findings(found: Model) -> Iterator[Finding]:
    """Each grant the model cannot read or decide."""
    for gap in found.gaps:
        yield Finding(gap.urn, f"{gap.what}: {gap.reason}.", {"what": gap.what, "reason": gap.reason})


def _decidable(args: StackValidationArgs, report: Report) -> None:
    report_all(gap_findings(model(args)), report)


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
    if args.resource_type == "aws:iam/role:Role" and isinstance(props, dict):
        # The program's inputs: a stack policy sees the role's outputs, where these lists are unknown at a preview
        # whenever the program does not set them (pulumi_aws computes them), so only here does one the program
        # sets to a value not known at preview show.
        for key in ("inlinePolicies", "managedPolicyArns"):
            if props.get(key) is UNKNOWN:
                report(
                    f"{resource}: {key} is not known at preview, so it may grant anything (AdministratorAccess too); "
                    "build it from names and the account, region and partition (components/arns.py), not from "
                    "outputs of resources being created, or grant through aws.iam.RolePolicy and "
                    "aws.iam.RolePolicyAttachment."
                )
    for item in items(args.resource_type, props):
        if item.what is What.DOCUMENT:
            _judge(report, resource, item.where, item.document)
        elif item.what is What.ATTACHMENT:
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
