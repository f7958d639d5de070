"""Who may become a role: never anyone, never an account outside `allowedAccounts`, never a service without
the confused-deputy guard, never any identity of a federated provider.

AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html (aws:SourceAccount, aws:SourceArn).
Services that assume a role with no source in the request (EC2 instances, Lambda functions: see
prowler-cloud/prowler#2810) are listed in `servicesWithoutSourceGuard`."""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access.document import Statement
from .access.reach import GUARD_KEYS, condition_values, literal, principals_of
from .environment import EnvironmentStackPolicy, Report, setting
from .iam import model
from .resource_policies import ACCOUNTS, exposure

INSTEAD = (
    "To pass: trust named principals of allowed accounts, a service with an aws:SourceAccount or aws:SourceArn "
    "condition, or a federated provider with conditions on its claims (e.g. sub and aud)."
)


def _problem(statement: Statement, allowed: set[str], unguarded: set[str]) -> str | None:
    if not statement.allow:
        return None
    exposed = exposure(statement, allowed)
    if exposed:
        return f"lets {exposed} assume it"
    for kind, value in principals_of(statement.principal):
        if kind == "Service" and value not in unguarded:
            values = [v for key in GUARD_KEYS[:2] for v in (condition_values(statement, key) or [])]
            if not values or not literal(values):
                return f"trusts {value} without aws:SourceAccount or aws:SourceArn (the confused-deputy guard)"
        if kind == "Federated":
            claims = [k for k in (statement.condition_keys or ()) if k.endswith((":sub", ":aud", ":amr"))]
            if not claims:
                return f"trusts every identity of {value}: no condition on its claims"
    return None


def _trust(args: StackValidationArgs, report: Report) -> None:
    allowed = set(setting(args, TRUST.defaults, "allowedAccounts"))
    unguarded = set(setting(args, TRUST.defaults, "servicesWithoutSourceGuard"))
    for principal in model(args).principals.values():
        for statement in principal.trust:
            problem = _problem(statement, allowed, unguarded)
            if problem:
                report(f"{principal.label}: its trust policy {statement.label} {problem}. {INSTEAD}", principal.urn)


TRUST = EnvironmentStackPolicy(
    "iam-trust-restricted",
    "Requires every role's trust policy to name who may assume it: allowed accounts, guarded services, "
    "federated identities narrowed by their claims.",
    _trust,
    config={"allowedAccounts": [], "servicesWithoutSourceGuard": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
    schemas={"allowedAccounts": ACCOUNTS},
)

POLICIES = [TRUST]
