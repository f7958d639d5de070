"""Resource-based policies open to anyone, to other accounts, or to a service without the confused-deputy guard.

Any resource that sets a resource-based policy (a property named like a policy that holds a document: S3 bucket,
SageMaker model package group, KMS key, SNS, SQS, ECR, Secrets Manager, access points, aws-native's
`policyDocument`...), and Lambda permissions and KMS grants: an Allow to `*`, to an account outside
`allowedAccounts` or to a service needs a condition that keeps it to known callers (aws:SourceAccount or
aws:PrincipalAccount of an allowed account, aws:SourceArn in one, aws:PrincipalOrgID of an organisation in
`allowedOrganizations`; for a service in a KMS key policy, also kms:EncryptionContext:aws:sns:topicArn naming
topics of allowed accounts, which SNS sets itself). AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import StackValidationArgs

from .access.document import DocumentError, Statement, ambiguities, parse
from .access.exposure import acl_exposures, permission_statement, resource_policies, shares
from .access.model import resources
from .access.reach import SNS_TOPIC_CONTEXT, account_of, guarded, principals_of
from .framework import UNKNOWN, EnvironmentStackPolicy, Report, label, setting

ACCOUNTS = {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{12}$"}}
ORGANIZATIONS = {"type": "array", "items": {"type": "string", "pattern": "^o-[a-z0-9]{10,32}$"}}
INSTEAD = (
    "To pass: name the principals of allowed accounts, or add a condition on aws:SourceAccount, aws:SourceArn "
    "or aws:PrincipalOrgID (allowedAccounts and allowedOrganizations in the pack config list this environment's)."
)


def exposure(statement: Statement, accounts: set[str], organizations: set[str], *, services: bool = True) -> str | None:
    """Who, beyond the allowed accounts, an Allow statement lets in without a condition that restricts it
    (service principals too, unless `services` is False: a caller that judges them itself)."""
    if not statement.allow:
        return None
    if statement.not_principal is not None:
        return "everyone but the NotPrincipal it names"
    if "Principal" in statement.unknown_in:
        return "a principal not known at preview"
    outsiders = []
    for kind, value in principals_of(statement.principal):
        if kind == "*" or (kind == "AWS" and value == "*"):
            outsiders.append("anyone (*)")
        elif kind == "AWS" and (account_of(value) or "") not in accounts:
            outsiders.append(f"{value} (account {account_of(value) or 'unknown'})")
        elif kind == "CanonicalUser":
            outsiders.append(f"canonical user {value}")
        elif (
            kind == "Service"
            and services
            and not guarded(statement, accounts, (), ("aws:sourceaccount", "aws:sourcearn", SNS_TOPIC_CONTEXT))
        ):
            outsiders.append(
                f"{value} for an account not known at preview (its condition is not known yet)"
                if "Condition" in statement.unknown_in
                else f"{value} for any account (no aws:SourceAccount or aws:SourceArn)"
            )
    if outsiders and not guarded(statement, accounts, organizations):
        return ", ".join(outsiders)
    return None


def _exposed(args: StackValidationArgs, report: Report) -> None:
    accounts = set(setting(args, RESOURCE_POLICIES.defaults, "allowedAccounts"))
    organizations = set(setting(args, RESOURCE_POLICIES.defaults, "allowedOrganizations"))
    for resource in resources(args):
        what = label(resource.type, resource.name)
        for where, who in acl_exposures(resource.type, resource.props):
            report(f"{what}: {where} lets {who} in through an access control list. {INSTEAD}", resource.urn)
        for where, whom in shares(resource.type, resource.props):
            outsider = _outsider(whom, accounts, organizations)
            if outsider:
                report(f"{what}: {where} shares it with {outsider}. {INSTEAD}", resource.urn)
        documents = list(resource_policies(resource.type, resource.props))
        permission = permission_statement(resource.type, resource.props)
        if permission is not None:
            documents.append(("permission", {"Statement": [permission]}))
        for where, document in documents:
            repeated = ambiguities(document)
            if repeated:
                report(f"{what}: {where} repeats {', '.join(repeated)}, so it reads two ways. {INSTEAD}", resource.urn)
            try:
                statements = parse(document, f"{what} {where}")
            except DocumentError as error:
                report(f"{what}: {where} cannot be judged: {error}. {INSTEAD}", resource.urn)
                continue
            for statement in statements:
                exposed = exposure(statement, accounts, organizations)
                if exposed:
                    actions = ", ".join((statement.actions or statement.not_actions or ("?",))[:3])
                    report(f"{what}: {where} {statement.label} allows {exposed} {actions}. {INSTEAD}", resource.urn)


def _outsider(whom: Any, accounts: set[str], organizations: set[str]) -> str | None:
    """Who, of a share's principal, is beyond the allowed accounts and organisations; None when none is."""
    if whom is UNKNOWN or not isinstance(whom, str):
        return "a principal not known at preview"
    if whom.strip().lower() in ("*", "all"):
        return "anyone (every account)"
    organization = re.search(r"\bo-[a-z0-9]{10,32}\b", whom)
    if whom.startswith(
        ("organization ", "arn:aws:organizations:", "arn:aws-cn:organizations:", "arn:aws-us-gov:organizations:")
    ):
        return (
            None if organization and organization.group(0) in organizations else f"{whom}, outside allowedOrganizations"
        )
    account = account_of(whom)
    if account is None or account not in accounts:
        return f"{whom} (account {account or 'unknown'})"
    return None


RESOURCE_POLICIES = EnvironmentStackPolicy(
    "resource-policies-not-public",
    "Forbids resource policies that let anyone, an account outside allowedAccounts or an unguarded service act.",
    _exposed,
    config={"allowedAccounts": [], "allowedOrganizations": []},
    schemas={"allowedAccounts": ACCOUNTS, "allowedOrganizations": ORGANIZATIONS},
)

POLICIES = [RESOURCE_POLICIES]
