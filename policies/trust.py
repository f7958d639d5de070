"""Who may become a role: never anyone, never an account outside `allowedAccounts`, never a service without
the confused-deputy guard naming an allowed account, never a federated provider's identities without an exact
claim.

AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html (aws:SourceAccount, aws:SourceArn);
GitHub's OIDC claims: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
Services that assume a role with no source in the request (EC2 instances, Lambda functions: see
prowler-cloud/prowler#2810) are listed in `servicesWithoutSourceGuard`."""

from __future__ import annotations

import re

from pulumi_policy import StackValidationArgs

from .access.document import Statement
from .access.reach import condition_values, guarded, literal, principals_of
from .framework import EnvironmentStackPolicy, Report, setting
from .iam import model
from .resource_policies import ACCOUNTS, ORGANIZATIONS, exposure

INSTEAD = (
    "To pass: trust named principals of allowed accounts, a service with aws:SourceAccount or aws:SourceArn of "
    "an allowed account, or a federated provider with StringEquals (or StringLike, no leading wildcard) on the "
    "claim that names the caller (sub, for GitHub naming the repository: repo:<owner>/<repo>:...; SAML:aud for "
    "SAML; aud for Cognito)."
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
        if not values or not literal(values):
            continue
        # GitHub's `sub` starts `repo:<owner>/<repo>:`: a wildcard before that lets every repository in
        # (`repo:*`, `repo:my-org*`), whatever comes after it.
        if claim == f"{GITHUB_OIDC}:sub" and not all(_GITHUB_REPOSITORY.match(v) for v in values):
            continue
        return True
    return False


GITHUB_OIDC = "token.actions.githubusercontent.com"
_GITHUB_REPOSITORY = re.compile(r"^repo:[^*?/:]+/[^*?/:]+:")


def _problem(statement: Statement, accounts: set[str], organizations: set[str], unguarded: set[str]) -> str | None:
    if not statement.allow:
        return None
    # Anyone, other accounts, canonical users: judged apart from the services of the same statement, which the
    # loop below holds to their own guard (a trusted EC2 beside `{"AWS": "*"}` must not hide the `*`).
    exposed = exposure(statement, accounts, organizations, services=False)
    if exposed:
        return f"lets {exposed} assume it"
    for kind, value in principals_of(statement.principal):
        source_keys = ("aws:sourceaccount", "aws:sourcearn")
        if kind == "Service" and value not in unguarded and not guarded(statement, accounts, (), source_keys):
            if "Condition" in statement.unknown_in:  # not known yet is not absent
                return f"trusts {value} under a condition not known at preview (the confused-deputy guard)"
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
