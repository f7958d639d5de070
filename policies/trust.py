"""Who may become a role: never anyone, never an account outside `allowedAccounts`, never a service without
the confused-deputy guard naming an allowed account, never a federated provider's identities without an exact
claim.

AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html (aws:SourceAccount, aws:SourceArn);
GitHub's OIDC claims: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
Services that assume a role with no source in the request (EC2 instances, Lambda functions: see
prowler-cloud/prowler#2810) are listed in `servicesWithoutSourceGuard`."""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access.document import Statement
from .access.reach import condition_values, guarded, literal, principals_of
from .environment import EnvironmentStackPolicy, Report, setting
from .iam import model
from .resource_policies import ACCOUNTS, ORGANIZATIONS, exposure

INSTEAD = (
    "To pass: trust named principals of allowed accounts, a service with aws:SourceAccount or aws:SourceArn of "
    "an allowed account, or a federated provider with StringEquals (or StringLike, no leading wildcard) on the "
    "claim that names the caller (sub; SAML:aud for SAML; aud for Cognito)."
)


def _claim(statement: Statement, provider: str) -> bool:
    """A condition on the claim that names who the caller is, under StringEquals or StringLike, naming it."""
    if ":saml-provider/" in provider:
        claims = ["saml:aud"]
    elif provider.startswith("cognito-identity"):
        claims = ["cognito-identity.amazonaws.com:aud"]
    else:
        claims = [f"{provider.split('oidc-provider/', 1)[-1].lower()}:sub"]
    for claim in claims:
        values = condition_values(statement, claim, ("stringequals", "stringlike"))
        if values and literal(values):
            return True
    return False


def _problem(statement: Statement, accounts: set[str], organizations: set[str], unguarded: set[str]) -> str | None:
    if not statement.allow:
        return None
    exposed = exposure(statement, accounts, organizations)
    if exposed and "for any account" not in exposed:
        return f"lets {exposed} assume it"
    for kind, value in principals_of(statement.principal):
        source_keys = ("aws:sourceaccount", "aws:sourcearn")
        if kind == "Service" and value not in unguarded and not guarded(statement, accounts, (), source_keys):
            return (
                f"trusts {value} without aws:SourceAccount or aws:SourceArn of an allowed account "
                "(the confused-deputy guard)"
            )
        if kind == "Federated" and not _claim(statement, value):
            return f"trusts every identity of {value}: no exact condition on the claim that names the caller"
    return None


def _trust(args: StackValidationArgs, report: Report) -> None:
    accounts = set(setting(args, TRUST.defaults, "allowedAccounts"))
    organizations = set(setting(args, TRUST.defaults, "allowedOrganizations"))
    unguarded = set(setting(args, TRUST.defaults, "servicesWithoutSourceGuard"))
    for principal in model(args).principals.values():
        for statement in principal.trust:
            problem = _problem(statement, accounts, organizations, unguarded)
            if problem:
                report(f"{principal.label}: its trust policy {statement.label} {problem}. {INSTEAD}", principal.urn)


TRUST = EnvironmentStackPolicy(
    "iam-trust-restricted",
    "Requires every role's trust policy to name who may assume it: allowed accounts, guarded services, "
    "federated identities narrowed by their claims.",
    _trust,
    config={
        "allowedAccounts": [],
        "allowedOrganizations": [],
        "servicesWithoutSourceGuard": ["ec2.amazonaws.com", "lambda.amazonaws.com"],
    },
    schemas={"allowedAccounts": ACCOUNTS, "allowedOrganizations": ORGANIZATIONS},
)

POLICIES = [TRUST]
