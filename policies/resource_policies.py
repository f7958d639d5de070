"""Resource-based policies open to anyone or to other accounts.

S3 bucket, SageMaker model package group, KMS key, SNS topic, SQS queue, ECR repository and Secrets Manager
policies, and Lambda permissions: an Allow to `*` or to an account outside `allowedAccounts` needs a condition
that keeps it to known callers (aws:SourceAccount, aws:SourceArn, aws:PrincipalOrgID, aws:PrincipalAccount).
AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"""

from __future__ import annotations

from typing import Any

from pulumi_policy import StackValidationArgs

from .access.document import DocumentError, Statement, parse
from .access.reach import account_of, guarded, principals_of
from .access.sources import resource_policy
from .environment import UNKNOWN, EnvironmentStackPolicy, Report, label, setting
from .iam import resources

ACCOUNTS = {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{12}$"}}
INSTEAD = (
    "To pass: name the principals of allowed accounts, or add a condition on aws:SourceAccount, aws:SourceArn "
    "or aws:PrincipalOrgID (allowedAccounts in the pack config lists this environment's accounts)."
)


def exposure(statement: Statement, allowed: set[str]) -> str | None:
    """Who, beyond the allowed accounts, an Allow statement lets in without a restricting condition."""
    if not statement.allow:
        return None
    if statement.not_principal is not None:
        return "everyone but the NotPrincipal it names"
    outsiders = []
    for kind, value in principals_of(statement.principal):
        if kind == "*" or (kind == "AWS" and value == "*"):
            outsiders.append("anyone (*)")
        elif kind == "AWS" and (account_of(value) or "") not in allowed:
            outsiders.append(f"{value} (account {account_of(value) or 'unknown'})")
    if outsiders and not guarded(statement, allowed):
        return ", ".join(outsiders)
    return None


def _lambda_permission(props: dict[str, Any]) -> Statement | None:
    principal = props.get("principal")
    if principal is UNKNOWN or not isinstance(principal, str):
        return None
    condition: dict[str, Any] = {}
    for key, prop in (("aws:SourceAccount", "sourceAccount"), ("aws:PrincipalOrgID", "principalOrgId")):
        if isinstance(props.get(prop), str):
            condition.setdefault("StringEquals", {})[key] = props[prop]
    if isinstance(props.get("sourceArn"), str):
        condition["ArnLike"] = {"aws:SourceArn": props["sourceArn"]}
    who = principal if principal.endswith(".amazonaws.com") else {"AWS": principal}
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": who if isinstance(who, dict) else {"Service": who},
                "Action": props.get("action", "lambda:InvokeFunction"),
                "Resource": "*",
                **({"Condition": condition} if condition else {}),
            }
        ]
    }
    return parse(document, "permission")[0]


def _exposed(args: StackValidationArgs, report: Report) -> None:
    allowed = set(setting(args, RESOURCE_POLICIES.defaults, "allowedAccounts"))
    for resource in resources(args):
        what = label(resource.type, resource.name)
        if resource.type == "aws:lambda/permission:Permission":
            statement = _lambda_permission(resource.props)
            if statement is None:
                report(
                    f"{what}: principal: not known at preview; it must be, to judge who may invoke. {INSTEAD}",
                    resource.urn,
                )
                continue
            statements = [statement]
            where = "principal"
        else:
            found = resource_policy(resource.type, resource.props)
            if found is None:
                continue
            where, document = found
            try:
                statements = parse(document, f"{what} {where}")
            except DocumentError as error:
                report(f"{what}: {where} cannot be judged: {error}. {INSTEAD}", resource.urn)
                continue
        for statement in statements:
            who = exposure(statement, allowed)
            if who:
                actions = ", ".join((statement.actions or statement.not_actions or ("?",))[:3])
                report(f"{what}: {where} {statement.label} allows {who} {actions}. {INSTEAD}", resource.urn)


RESOURCE_POLICIES = EnvironmentStackPolicy(
    "resource-policies-not-public",
    "Forbids resource policies that let anyone, or an account outside allowedAccounts, act without a "
    "restricting condition.",
    _exposed,
    config={"allowedAccounts": []},
    schemas={"allowedAccounts": ACCOUNTS},
)

POLICIES = [RESOURCE_POLICIES]
