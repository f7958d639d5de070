"""Who may become a role: never anyone, never an account outside `allowedAccounts`, never a service without
the confused-deputy guard naming an allowed account, never a federated provider's identities without an exact
claim.

AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html (aws:SourceAccount, aws:SourceArn);
GitHub's OIDC claims: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
Services that assume a role with no source in the request (EC2 instances, Lambda functions: see
prowler-cloud/prowler#2810) are listed in `servicesWithoutSourceGuard`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import StackValidationArgs

from .access.document import Statement
from .access.model import model
from .access.principals import Model
from .access.reach import condition_values, guarded, literal, principals_of
from .framework import EnvironmentStackPolicy, Finding, Report, report_all
from .resource_policies import ACCOUNTS, ORGANIZATIONS, exposure

INSTEAD = (
    "To pass: trust named principals of allowed accounts, a service with aws:SourceAccount or aws:SourceArn of "
    "an allowed account, or a federated provider with StringEquals (or StringLike, no wildcard unless "
    "allowedClaimWildcards lists the value) on the claim that names the caller (sub, for GitHub naming the "
    "repository: repo:<owner>/<repo>:...; for EKS system:serviceaccount:<namespace>:<name>; SAML:aud for SAML; aud "
    "for Cognito, with amr authenticated; another provider's claim in federatedClaims)."
)


GITHUB_OIDC = "token.actions.githubusercontent.com"
_GITHUB_REPOSITORY = re.compile(
    r"^(repo:[^*?/:$]+/[^*?/:$]+|repository_owner_id:[0-9]+:repository_id:[0-9]+|repository_id:[0-9]+):"
)
"""A GitHub `sub` that names one repository first: by name (the default), or by ID (a customised subject,
which a renamed or re-created repository cannot take over)."""


def github_repository(sub: str) -> str | None:
    """The repository a GitHub `sub` names first, as `allowedGitHubRepositories` lists it: `owner/name` (or
    `<owner id>/<repository id>`, the immutable subject), `repository_owner_id:A:repository_id:B` as `A/B`,
    `repository_id:B` as `*/B` (any owner: matched on the repository ID alone); None when it names none."""
    found = _GITHUB_REPOSITORY.match(sub)
    if found is None:
        return None
    named = found.group(1)
    if named.startswith("repo:"):
        return named.removeprefix("repo:").lower()
    ids = re.findall(r"[0-9]+", named)
    return "/".join(ids) if len(ids) == 2 else f"*/{ids[0]}"


def _listed(repository: str, allowed: set[str]) -> bool:
    if repository.startswith("*/"):
        return any(entry.split("/", 1)[1] == repository[2:] for entry in allowed)
    return repository in allowed


_EKS_OIDC = re.compile(r"^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+$")
COGNITO = "cognito-identity.amazonaws.com"
ROLES_ANYWHERE = "rolesanywhere.amazonaws.com"
_EQUALS = ("stringequals", "stringequalsignorecase")
_LIKE = ("stringlike",)
_ESCAPES = re.compile(r"\$\{[*?$]\}")


def _loose(value: str, like: bool) -> bool:
    """A value that names more than itself: a policy variable (`${aws:UserAgent}`, or the claim's own
    `${...:sub}`: IAM puts a value of the request there, so the caller picks it), or a `*` or `?` where the
    operator reads them as wildcards (StringLike, and both Arn operators). `${*}`, `${?}` and `${$}` are
    characters."""
    rest = _ESCAPES.sub("x", value)
    return "${" in rest or (like and ("*" in rest or "?" in rest))


def _federation(provider: str, configured: dict[str, str]) -> tuple[str, tuple[str, ...]] | None:
    """(the provider's name, the condition keys of the claims that name a caller, any one enough) for a provider
    the pack knows, or one the config names (`federatedClaims`: host -> claim); None for any other (fail closed).

    GitHub (and GitHub Enterprise's `token.actions.githubusercontent.com/<enterprise>` issuer): `sub`,
    `repo:<owner>/<repo>:<context>` (docs.github.com, OIDC claims). EKS: `sub`,
    `system:serviceaccount:<namespace>:<name>`
    (https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html). Cognito: `aud`, the
    identity pool's ID, with `amr` (see `_cognito_guests`). SAML: `SAML:aud`, the sign-in endpoint the IdP's
    assertion is for (the IdP maps its users to roles), or `SAML:sub`, one user
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_saml.html)."""
    if ":saml-provider/" in provider:
        return "SAML", ("saml:aud", "saml:sub")
    if provider.lower() == COGNITO:
        return "Cognito", (f"{COGNITO}:aud",)
    host = provider.split("oidc-provider/", 1)[-1].lower()
    if host == GITHUB_OIDC or host.startswith(f"{GITHUB_OIDC}/"):
        return "GitHub", (f"{host}:sub",)
    if _EKS_OIDC.match(host):
        return "EKS", (f"{host}:sub",)
    claim = {k.lower(): v for k, v in configured.items()}.get(host)
    return (host, (f"{host}:{claim.lower()}",)) if claim else None


def _wildcards(statement: Statement, key: str, allowed: set[str]) -> list[str]:
    """The values the condition gives `key` that name more than themselves (see `_loose`) and that the config
    does not accept as written (`allowedClaimWildcards`)."""
    found = [(v, False) for v in condition_values(statement, key, _EQUALS) or []]
    found += [(v, True) for v in condition_values(statement, key, _LIKE) or []]
    return [v for v, like in found if _loose(v, like) and v not in allowed]


def _claim(
    statement: Statement, provider: str, configured: dict[str, str], allowed: set[str], repositories: set[str]
) -> str | None:
    """Why the statement does not narrow the provider's identities to named callers, or None when it does."""
    known = _federation(provider, configured)
    if known is None:
        return (
            f"trusts {provider}, a provider the pack does not know the caller's claim of (fail closed: name it "
            'in federatedClaims of iam-trust-restricted, host to claim, e.g. {"gitlab.com": "sub"})'
        )
    name, claims = known
    reasons = [_one_claim(statement, provider, name, claim, allowed, repositories) for claim in claims]
    if all(reasons):
        return next(r for r in reasons if r)
    return _cognito_guests(statement, provider) if name == "Cognito" else None


def _one_claim(
    statement: Statement, provider: str, name: str, claim: str, allowed: set[str], repositories: set[str]
) -> str | None:
    values = condition_values(statement, claim, _EQUALS + _LIKE)
    if not values or not literal(values):
        return f"trusts every identity of {provider}: no exact condition on the claim that names the caller ({claim})"
    if name == "GitHub" and not all(_GITHUB_REPOSITORY.match(v) for v in values):
        # `repo:<owner>/<repo>:` must come first and whole: `repo:*`, `repo:my-org*` let every repository in.
        return (
            f"trusts {provider} with no exact condition on the claim that names the caller: {claim} must start "
            "with one repository (repo:<owner>/<repo>:, or its IDs)"
        )
    if name == "GitHub":
        # Any repository on GitHub is a caller outside the account: only those the config names (a look-alike
        # owner, `examp1e-org`, is another repository).
        outside = sorted({r for v in values if not _listed(r := github_repository(v) or "", repositories)})
        if outside:
            return (
                f"trusts {provider} for {', '.join(outside)}, not in allowedGitHubRepositories of "
                "iam-trust-restricted (list each repository, owner/name or <owner id>/<repository id>, that may "
                "assume roles of this account)"
            )
    loose = _wildcards(statement, claim, allowed)
    if loose:
        return (
            f"trusts {provider} for {claim} {', '.join(sorted(loose))}: a wildcard or policy variable in a claim "
            "that names the caller lets in callers nobody named (list the value in allowedClaimWildcards to "
            "accept it as written)"
        )
    return None


def _cognito_guests(statement: Statement, provider: str) -> str | None:
    """Cognito's `amr` holds `authenticated` or `unauthenticated` (a guest: anyone who asks the pool for an ID,
    where the pool allows guests); AWS's trust policy for identity pools requires `authenticated` under
    `ForAnyValue:StringLike` (https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html)."""
    key = f"{COGNITO}:amr"
    values = condition_values(
        statement, key, ("foranyvalue:stringlike", "foranyvalue:stringequals", "stringequals", "stringlike")
    )
    if values and all(v == "authenticated" for v in values):
        return None
    guests = "the pool's guests (unauthenticated identities) may assume it"
    return f'trusts {provider} without {key} "authenticated": {guests}'


def _anchor(statement: Statement, allowed: set[str]) -> str | None:
    """IAM Roles Anywhere: the trust anchor (the CA) must be named, `aws:SourceArn` a trust anchor's ARN with no
    wildcard (https://docs.aws.amazon.com/rolesanywhere/latest/userguide/trust-model.html): `aws:SourceAccount`
    alone trusts every anchor of the account, a CA someone adds later included."""
    values = condition_values(statement, "aws:sourcearn")
    if not values or not all(":trust-anchor/" in v for v in values):
        return f"trusts {ROLES_ANYWHERE} without aws:SourceArn naming its trust anchors (every anchor of the account)"
    loose = [v for v in values if _loose(v, like=True) and v not in allowed]
    if loose:
        named = ", ".join(sorted(loose))
        return f"trusts {ROLES_ANYWHERE} for trust anchors {named}: a wildcard or variable names anchors nobody named"
    return None


@dataclass(frozen=True)
class _Settings:
    accounts: set[str]
    organizations: set[str]
    unguarded: set[str]
    """servicesWithoutSourceGuard, lower-cased (service principals are compared without case)"""
    wildcards: set[str]
    """allowedClaimWildcards"""
    claims: dict[str, str]
    """federatedClaims"""
    repositories: set[str]
    """allowedGitHubRepositories, lower-cased"""


def _problem(statement: Statement, settings: _Settings) -> str | None:
    if not statement.allow:
        return None
    # Anyone, other accounts, canonical users: judged apart from the services of the same statement, which the
    # loop below holds to their own guard (a trusted EC2 beside `{"AWS": "*"}` must not hide the `*`).
    exposed = exposure(statement, settings.accounts, settings.organizations, services=False)
    if exposed:
        return f"lets {exposed} assume it"
    named = principals_of(statement.principal)
    anyone = any(kind == "*" or (kind == "AWS" and value == "*") for kind, value in named)
    only_accounts = ("aws:principalaccount", "aws:principalorgid")
    if anyone and not guarded(statement, settings.accounts, settings.organizations, only_accounts):
        # `*` is every service too: aws:SourceAccount or aws:SourceArn is met by any service acting for a
        # resource of the account (every IAM Roles Anywhere trust anchor, every CA one adds later).
        return (
            "lets anyone (*) assume it with aws:SourceAccount or aws:SourceArn alone, which any service acting for "
            "a resource of the account meets (keep * to callers with aws:PrincipalAccount or aws:PrincipalOrgID)"
        )
    for kind, value in named:
        value = value.lower() if kind == "Service" else value
        if (kind in ("Service", "Federated")) and "Condition" in statement.unknown_in:  # not known is not absent
            return f"trusts {value} under a condition not known at preview"
        source_keys = ("aws:sourceaccount", "aws:sourcearn")
        if (
            kind == "Service"
            and value not in settings.unguarded
            and not guarded(statement, settings.accounts, (), source_keys)
        ):
            return (
                f"trusts {value} without aws:SourceAccount or aws:SourceArn of an allowed account "
                "(the confused-deputy guard)"
            )
        if kind == "Service" and value == ROLES_ANYWHERE:
            anchored = _anchor(statement, settings.wildcards)
            if anchored:
                return anchored
        if kind == "Federated":
            claimed = _claim(statement, value, settings.claims, settings.wildcards, settings.repositories)
            if claimed:
                return claimed
    return None


def trust_settings(config: Mapping[str, Any]) -> _Settings:
    """iam-trust-restricted's settings from its config (each key the pack's default where the config has none)."""

    def value(key: str) -> Any:
        return config.get(key, TRUST.defaults[key])

    return _Settings(
        set(value("allowedAccounts")),
        set(value("allowedOrganizations")),
        {s.lower() for s in value("servicesWithoutSourceGuard")},
        set(value("allowedClaimWildcards")),
        dict(value("federatedClaims")),
        {r.lower() for r in value("allowedGitHubRepositories")},
    )


def trust_findings(found: Model, settings: _Settings) -> Iterator[Finding]:
    """Each trust statement (or trust policy that cannot be read) letting someone outside assume a role."""
    for principal in found.principals.values():
        # A trust policy that cannot be read whole may name anyone: refused here, in every environment, not only
        # by iam-attached-policies-checked (advisory outside prod), since `up` runs a stack policy only after
        # the role is created.
        for reason in principal.trust_gaps:
            yield Finding(
                principal.urn,
                f"{principal.label}: who may assume it cannot be judged: {reason}. {INSTEAD}",
                {"action": "sts:AssumeRole", "reason": reason},
            )
        for statement in principal.trust:
            problem = _problem(statement, settings)
            if problem:
                yield Finding(
                    principal.urn,
                    f"{principal.label}: its trust policy {statement.label} {problem}. {INSTEAD}",
                    {"action": "sts:AssumeRole", "problem": problem, "statements": (statement,)},
                )


def _trust(args: StackValidationArgs, report: Report) -> None:
    report_all(trust_findings(model(args), trust_settings(args.get_config() or {})), report)


TRUST = EnvironmentStackPolicy(
    "iam-trust-restricted",
    "Requires every role's trust policy to name who may assume it: allowed accounts, guarded services, "
    "federated identities narrowed by their claims.",
    _trust,
    config={
        "allowedAccounts": [],
        "allowedOrganizations": [],
        "servicesWithoutSourceGuard": ["ec2.amazonaws.com", "lambda.amazonaws.com"],
        "allowedClaimWildcards": [],
        "federatedClaims": {},
        "allowedGitHubRepositories": [],
    },
    schemas={
        "allowedAccounts": ACCOUNTS,
        "allowedOrganizations": ORGANIZATIONS,
        "allowedClaimWildcards": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "allowedGitHubRepositories": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"},
        },
        "federatedClaims": {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": "^[A-Za-z0-9_:.-]+$"},
        },
    },
)

POLICIES = [TRUST]
