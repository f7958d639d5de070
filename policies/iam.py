"""IAM: no full SageMaker access in prod, least privilege in prod, and attached policies that can be read.

AWS documentation behind the checks: the IAM JSON policy elements reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html) and granting a user
permissions to pass a role (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from . import iam_grants, least_privilege
from .environment import EnvironmentResourcePolicy, EnvironmentStackPolicy, Report, label, plain, setting
from .iam_semantics import UNKNOWN, DocumentError, parse_document, sagemaker_full_access, undecided

SCOPE_SAGEMAKER = (
    "To pass: list the SageMaker actions the role calls and the ARNs it calls them on, "
    "e.g. arn:aws:sagemaker:<region>:<account>:training-job/<pipeline>-<stack>-*."
)
KNOW_AT_PREVIEW = (
    "To pass: build the document from names and the account, region and partition "
    "(components/arns.py) rather than from outputs of resources being created."
)
SCOPE_STATEMENT = (
    "To pass: name the actions, and the ARNs for actions that support resource-level permissions "
    "(policy_sentry query action-table --service <service> shows which do)."
)


def _read(where: str, value: Any) -> tuple[list[Any] | None, str | None]:
    try:
        return parse_document(value), None
    except DocumentError as error:
        return None, f"{where} cannot be read: {error}"


def _no_sagemaker_full_access(args: ResourceValidationArgs, report: Report) -> None:
    props = plain(args.props)
    resource = label(args.resource_type, args.name)
    for document in iam_grants.documents(args.resource_type, props):
        statements, error = _read(document.where, document.value)
        if statements is None:
            report(f"{resource}: {error}; a grant that cannot be read is not allowed in prod. {KNOW_AT_PREVIEW}")
            continue
        grant = sagemaker_full_access(statements)
        if grant is not None:
            report(f"{resource}: {document.where}: {grant.describe()}. {SCOPE_SAGEMAKER}")
            continue
        for statement in undecided(statements):
            unknown = " and ".join(sorted(statement.unknown_in & {"Action", "Resource"}))
            report(
                f"{resource}: {document.where}: {statement.label} has {unknown} not known at preview, so it may "
                f"grant every SageMaker action on every SageMaker resource. {KNOW_AT_PREVIEW}"
            )
    for attachment in iam_grants.attachments(args.resource_type, props):
        name = iam_grants.aws_managed_name(attachment.arn)
        finding = iam_grants.aws_managed_full_sagemaker(name) if name else None
        if finding:
            report(
                f"{resource}: {attachment.where} attaches the AWS-managed policy {name}, whose {finding}. "
                f"{SCOPE_SAGEMAKER}"
            )


SAGEMAKER_NO_FULL_ACCESS = EnvironmentResourcePolicy(
    "sagemaker-no-full-access-in-prod",
    "Forbids granting every SageMaker action on every SageMaker resource, however the grant is written.",
    _no_sagemaker_full_access,
)


def _least_privilege(args: ResourceValidationArgs, report: Report) -> None:
    props = plain(args.props)
    resource = label(args.resource_type, args.name)
    for document in iam_grants.documents(args.resource_type, props):
        statements, error = _read(document.where, document.value)
        if statements is None:
            report(f"{resource}: {error}. {KNOW_AT_PREVIEW}")
            continue
        for statement in statements:
            for finding in least_privilege.findings(statement):
                report(f"{resource}: {document.where}: {finding}. {SCOPE_STATEMENT}")
    allowed = {name.lower() for name in setting(args, LEAST_PRIVILEGE.defaults, "allowedManagedPolicies")}
    for attachment in iam_grants.attachments(args.resource_type, props):
        name = iam_grants.aws_managed_name(attachment.arn)
        if name and name.lower() not in allowed:
            report(
                f"{resource}: {attachment.where} attaches the AWS-managed policy {name}, written for any account "
                "rather than for this stack. To pass: grant what the role needs in its one RolePolicy, or list "
                "the policy in allowedManagedPolicies in the pack config."
            )


LEAST_PRIVILEGE = EnvironmentResourcePolicy(
    "iam-least-privilege-in-prod",
    "Requires identity policies to name their actions and, where IAM supports it, their resources.",
    _least_privilege,
    config={"allowedManagedPolicies": []},
)


def _attached_policies_readable(args: StackValidationArgs, report: Report) -> None:
    defined = [plain(r.props).get("arn") for r in args.resources if r.resource_type == iam_grants.MANAGED_POLICY]
    defined_arns = {arn for arn in defined if isinstance(arn, str)}
    for resource in args.resources:
        props = plain(resource.props)
        for attachment in iam_grants.attachments(resource.resource_type, props):
            if iam_grants.aws_managed_name(attachment.arn) is not None or attachment.arn in defined_arns:
                continue
            # Unknown at preview: fine when it can only come from policies of this stack, which are judged.
            sources = resource.property_dependencies.get(attachment.property, [])
            if (
                attachment.arn is UNKNOWN
                and sources
                and all(d.resource_type == iam_grants.MANAGED_POLICY for d in sources)
            ):
                continue
            what = "an ARN not known at preview" if attachment.arn is UNKNOWN else attachment.arn
            report(
                f"{label(resource.resource_type, resource.name)}: {attachment.where} attaches {what}, which is "
                "neither an AWS-managed policy nor an aws.iam.Policy of this stack, so its document cannot be "
                "checked. To pass: define the policy in this stack, or grant through the role's RolePolicy.",
                resource.urn,
            )


ATTACHED_POLICIES_READABLE = EnvironmentStackPolicy(
    "iam-attached-policies-checked",
    "Requires every attached policy to be one the pack can read: AWS-managed, or defined in the stack.",
    _attached_policies_readable,
)

POLICIES = [SAGEMAKER_NO_FULL_ACCESS, LEAST_PRIVILEGE, ATTACHED_POLICIES_READABLE]
