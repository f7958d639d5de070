"""`policies/trust.py`: who may assume a role."""

from __future__ import annotations

import json

import pytest

from policies.trust import TRUST
from tests.policies.conftest import UNKNOWN, Stack
from tests.policies.rules import ACCOUNT, ROLE, reported

ALLOWED = {
    "allowedAccounts": [ACCOUNT],
    "allowedOrganizations": ["o-a1b2c3d4e5"],
    "allowedGitHubRepositories": ["o/r", "1234/5678"],
}


def role(statement: dict) -> Stack:
    document = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", **statement}]}
    return Stack().add(ROLE, "r", {"name": "r", "assumeRolePolicy": json.dumps(document)})


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ({"Principal": {"AWS": "*"}}, "lets anyone (*) assume it"),
        ({"Principal": {"AWS": "arn:aws:iam::999999999999:root"}}, "(account 999999999999) assume it"),
        (
            {"Principal": {"Service": "sagemaker.amazonaws.com"}},
            "trusts sagemaker.amazonaws.com without aws:SourceAccount",
        ),
        (
            {
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            },
            "no exact condition on the claim that names the caller",
        ),
    ],
)
def test_open_trust_is_reported(statement: dict, words: str) -> None:
    [message] = reported(TRUST, role(statement), ALLOWED)
    assert words in message


GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            {"Principal": {"AWS": "*", "Service": "ec2.amazonaws.com"}},
            "lets anyone (*) assume it",
        ),
        (
            {"Principal": {"AWS": "arn:aws:iam::999999999999:root", "Service": "lambda.amazonaws.com"}},
            "(account 999999999999) assume it",
        ),
        (
            {
                "Principal": {"Federated": GITHUB},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}},
            },
            "no exact condition on the claim",
        ),
        (
            {
                "Principal": {"Federated": GITHUB},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org*"}},
            },
            "no exact condition on the claim",
        ),
    ],
    ids=["anyone beside an exempt service", "another account beside one", "any repository", "a repository prefix"],
)
def test_what_hides_beside_a_trusted_service_or_in_a_wildcard_claim_is_reported(statement: dict, words: str) -> None:
    [message] = reported(TRUST, role(statement), ALLOWED)
    assert words in message


@pytest.mark.parametrize(
    "statement",
    [
        {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}},
        {"Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
        {
            "Principal": {"Service": "states.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
        {"Principal": {"Service": "lambda.amazonaws.com"}},
        {
            "Principal": {"Federated": GITHUB},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:sub": "repo:o/r:environment:prod",
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                }
            },
        },
    ],
    ids=["a role of the account", "organisation-scoped", "a guarded service", "an exempt service", "OIDC claims"],
)
def test_restricted_trust_passes(statement: dict) -> None:
    assert reported(TRUST, role(statement), ALLOWED) == []


def test_a_guard_not_known_at_preview_is_not_read_as_absent() -> None:
    """A trust document given as an object (a typed provider's) with its guard's value not known yet."""
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Condition": {"StringEquals": {"aws:SourceAccount": UNKNOWN}},
            }
        ]
    }
    [message] = reported(TRUST, Stack().add(ROLE, "r", {"name": "r", "assumeRolePolicy": document}), ALLOWED)
    assert "trusts sagemaker.amazonaws.com under a condition not known at preview" in message


# -- federated callers: every provider the pack knows, a wildcard in any segment of the claim that names them --
EKS = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
EKS_HOST = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
SAML = f"arn:aws:iam::{ACCOUNT}:saml-provider/corporate"
ANCHOR = f"arn:aws:rolesanywhere:eu-west-1:{ACCOUNT}:trust-anchor/0a1b2c3d-1111-2222-3333-444455556666"


def _federated(provider: str, condition: dict, action: str = "sts:AssumeRoleWithWebIdentity") -> dict:
    return {"Principal": {"Federated": provider}, "Action": action, "Condition": condition}


def _like(key: str, value: object) -> dict:
    return {"StringLike": {key: value}}


_SUB = "token.actions.githubusercontent.com:sub"


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (_federated(GITHUB, _like(_SUB, "repo:o/r:*")), "repo:o/r:*"),
        (_federated(GITHUB, _like(_SUB, "repo:o/r:environment:*")), "a wildcard or policy variable in a claim"),
        (_federated(GITHUB, _like(_SUB, "repo:o/r:environment:pro?")), "a wildcard or policy variable in a claim"),
        (_federated(GITHUB, _like(_SUB, "repo:o/r:ref:refs/heads/*")), "a wildcard or policy variable in a claim"),
        (_federated(GITHUB, _like(_SUB, ["repo:o/r:environment:prod", "repo:o/r:pull_request*"])), "pull_request*"),
        (_federated(GITHUB, _like(_SUB, "repo:o/*:environment:prod")), "must start with one repository"),
        (_federated(GITHUB, {"ForAllValues:StringLike": {_SUB: "repo:o/r:environment:prod"}}), "no exact condition"),
        (_federated(GITHUB, {"StringEqualsIfExists": {_SUB: "repo:o/r:environment:prod"}}), "no exact condition"),
        (
            _federated(EKS, _like(f"{EKS_HOST}:sub", "system:serviceaccount:*:*")),
            "a wildcard or policy variable in a claim",
        ),
        (
            _federated(EKS, _like(f"{EKS_HOST}:sub", "system:serviceaccount:kube-system:*")),
            "a wildcard or policy variable in a claim",
        ),
        (
            _federated(EKS, _like(f"{EKS_HOST}:sub", "system:serviceaccount:team-?:app")),
            "a wildcard or policy variable in a claim",
        ),
        (_federated(EKS, {"StringEquals": {f"{EKS_HOST}:aud": "sts.amazonaws.com"}}), "no exact condition"),
        (
            _federated(
                "cognito-identity.amazonaws.com",
                {"StringEquals": {"cognito-identity.amazonaws.com:aud": "eu-west-1:0a1b"}},
            ),
            "guests (unauthenticated identities)",
        ),
        (
            _federated(
                "cognito-identity.amazonaws.com",
                {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": "eu-west-1:0a1b"},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "unauthenticated"},
                },
            ),
            "guests (unauthenticated identities)",
        ),
        (
            _federated(
                "cognito-identity.amazonaws.com",
                {
                    "StringLike": {"cognito-identity.amazonaws.com:aud": "eu-west-1:*"},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
                },
            ),
            "a wildcard or policy variable in a claim",
        ),
        (_federated(SAML, _like("SAML:aud", "https://signin.aws.amazon.com/*"), "sts:AssumeRoleWithSAML"), "wildcard"),
        (_federated("accounts.google.com", {"StringEquals": {"accounts.google.com:sub": "1234"}}), "does not know"),
        (
            _federated(f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com", {"StringEquals": {"gitlab.com:sub": "x"}}),
            "does not know",
        ),
        (
            {
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            },
            "without aws:SourceArn naming its trust anchors",
        ),
        (
            {
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:aws:rolesanywhere:eu-west-1:{ACCOUNT}:trust-anchor/*"}
                },
            },
            "a wildcard or variable names anchors nobody named",
        ),
        # An attacker's review: a policy variable is the caller's value, whatever the operator.
        (
            _federated(
                "cognito-identity.amazonaws.com",
                {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": "${cognito-identity.amazonaws.com:aud}"},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
                },
            ),
            "policy variable",
        ),
        (_federated(EKS, {"StringEquals": {f"{EKS_HOST}:sub": f"${{{EKS_HOST}:sub}}"}}), "policy variable"),
        (
            _federated(EKS, {"StringEquals": {f"{EKS_HOST}:sub": "system:serviceaccount:${aws:UserAgent}"}}),
            "policy variable",
        ),
        (_federated(GITHUB, {"StringEquals": {_SUB: "repo:o/r:${aws:UserAgent}"}}), "policy variable"),
        (_federated(GITHUB, {"StringEquals": {_SUB: "repo:o/r:${aws:UserAgent, 'x'}"}}), "policy variable"),
        (_federated(SAML, {"StringEquals": {"SAML:aud": "${SAML:aud}"}}, "sts:AssumeRoleWithSAML"), "policy variable"),
        (
            {
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Condition": {"ArnEquals": {"aws:SourceArn": ANCHOR.rsplit("/", 1)[0] + "/${aws:PrincipalTag/x}"}},
            },
            "a wildcard or variable names anchors nobody named",
        ),
        # `*` is every service too: a source condition is met by any service acting for the account's resources.
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}, "lets anyone (*)"),
        ({"Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}, "lets anyone (*)"),
        (
            {"Principal": "*", "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:*:*:{ACCOUNT}:*"}}},
            "lets anyone (*)",
        ),
        (
            {
                "Principal": {"Service": "RolesAnywhere.amazonaws.com"},
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            },
            "without aws:SourceArn naming its trust anchors",
        ),
    ],
    ids=[
        "GitHub: any context",
        "GitHub: any environment",
        "GitHub: one character of the environment",
        "GitHub: any branch",
        "GitHub: one wildcard among exact values",
        "GitHub: any repository of an owner",
        "GitHub: ForAllValues holds with no sub",
        "GitHub: IfExists holds with no sub",
        "EKS: every service account",
        "EKS: every service account of a namespace",
        "EKS: one character of the namespace",
        "EKS: audience only",
        "Cognito: no amr",
        "Cognito: guests",
        "Cognito: any pool of a region",
        "SAML: any audience",
        "Google: unknown provider",
        "GitLab: unknown provider",
        "Roles Anywhere: every anchor of the account",
        "Roles Anywhere: a wildcard anchor",
        "Cognito: the caller's own pool",
        "EKS: the caller's own subject",
        "EKS: the caller's user agent",
        "GitHub: the caller's user agent",
        "GitHub: a variable with a default",
        "SAML: the caller's own audience",
        "Roles Anywhere: an anchor the certificate picks",
        "anyone, with the account as source",
        "anyone (AWS *), with the account as source",
        "anyone, with any resource of the account as source",
        "Roles Anywhere spelt in capitals",
    ],
)
def test_federated_trust_that_does_not_name_its_callers_is_reported(statement: dict, words: str) -> None:
    [message] = reported(TRUST, role(statement), ALLOWED)
    assert words in message


@pytest.mark.parametrize(
    ("statement", "config"),
    [
        (_federated(GITHUB, {"StringEquals": {_SUB: "repo:o/r:*"}}), {}),  # StringEquals: `*` is a character
        (
            _federated(GITHUB, _like(_SUB, "repo:o/r:ref:refs/heads/*")),
            {"allowedClaimWildcards": ["repo:o/r:ref:refs/heads/*"]},
        ),
        (_federated(EKS, {"StringEquals": {f"{EKS_HOST}:sub": "system:serviceaccount:ml:trainer"}}), {}),
        (
            _federated(
                "cognito-identity.amazonaws.com",
                {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": "eu-west-1:0a1b"},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
                },
            ),
            {},
        ),
        (
            _federated(
                SAML, {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}, "sts:AssumeRoleWithSAML"
            ),
            {},
        ),
        (
            _federated("accounts.google.com", {"StringEquals": {"accounts.google.com:sub": "1234"}}),
            {"federatedClaims": {"accounts.google.com": "sub"}},
        ),
        (
            {
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Condition": {"ArnEquals": {"aws:SourceArn": ANCHOR}},
            },
            {},
        ),
        (
            _federated(
                GITHUB, {"StringEquals": {_SUB: "repository_owner_id:1234:repository_id:5678:environment:prod"}}
            ),
            {},
        ),
        (_federated(GITHUB, {"StringEqualsIgnoreCase": {_SUB: "repo:o/r:environment:prod"}}), {}),
        (_federated(GITHUB, {"StringLike": {_SUB: "repo:o/r:environment:pr${*}d"}}), {}),  # an escaped star
        (_federated(SAML, {"StringEquals": {"SAML:sub": "alice@example.com"}}, "sts:AssumeRoleWithSAML"), {}),
        (
            _federated(
                f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com/example-enterprise",
                {
                    "StringEquals": {
                        "token.actions.githubusercontent.com/example-enterprise:sub": "repo:o/r:environment:prod"
                    }
                },
            ),
            {},
        ),
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}, {}),
    ],
    ids=[
        "GitHub: a literal star",
        "GitHub: a wildcard the config accepts as written",
        "EKS: one service account",
        "Cognito: authenticated identities of one pool",
        "SAML: the sign-in endpoint",
        "Google: a provider the config names",
        "Roles Anywhere: one anchor",
        "GitHub: the repository by its IDs",
        "GitHub: StringEqualsIgnoreCase",
        "GitHub: an escaped star is a character",
        "SAML: one user",
        "GitHub Enterprise's issuer",
        "anyone of the account (aws:PrincipalAccount)",
    ],
)
def test_federated_trust_that_names_its_callers_passes(statement: dict, config: dict) -> None:
    assert reported(TRUST, role(statement), {**ALLOWED, **config}) == []


def test_a_wildcard_the_config_accepts_is_accepted_as_written_only() -> None:
    statement = _federated(GITHUB, _like(_SUB, "repo:o/r:ref:refs/heads/*"))
    config = {**ALLOWED, "allowedClaimWildcards": ["repo:o/r:ref:refs/heads/main*"]}
    [message] = reported(TRUST, role(statement), config)
    assert "repo:o/r:ref:refs/heads/*" in message


@pytest.mark.parametrize(
    ("sub", "repositories", "refused"),
    [
        ("repo:examp1e-org/ml-pipelines:ref:refs/heads/main", ["example-org/ml-pipelines"], "examp1e-org/ml-pipelines"),
        ("repo:example-org/fork:environment:prod", ["example-org/ml-pipelines"], "example-org/fork"),
        ("repository_owner_id:99:repository_id:5678:environment:prod", ["1234/5678"], "99/5678"),
        ("repository_id:4321:environment:prod", ["1234/5678"], "*/4321"),
        ("repo:o/r:environment:prod", [], "o/r"),  # none listed: every repository is outside (fail closed)
    ],
    ids=["a look-alike owner", "another repository of the owner", "the repository ID under another owner",
         "another repository ID", "no repository listed"],
)  # fmt: skip
def test_github_trust_names_only_the_repositories_the_config_lists(
    sub: str, repositories: list[str], refused: str
) -> None:
    """A repository on GitHub is a caller outside the account, however exact its claim: another owner's (a
    look-alike name), a fork, a repository ID under another owner ID."""
    config = {**ALLOWED, "allowedGitHubRepositories": repositories}
    [message] = reported(TRUST, role(_federated(GITHUB, {"StringEquals": {_SUB: sub}})), config)
    assert f"for {refused}, not in allowedGitHubRepositories of iam-trust-restricted" in message


@pytest.mark.parametrize(
    "sub",
    [
        "repo:Example-Org/ML-Pipelines:environment:prod",  # GitHub's names are not case-sensitive
        "repository_owner_id:1234:repository_id:5678:environment:prod",
        "repository_id:5678:environment:prod",
    ],
)
def test_a_listed_repository_is_trusted_by_name_or_id(sub: str) -> None:
    config = {**ALLOWED, "allowedGitHubRepositories": ["example-org/ml-pipelines", "1234/5678"]}
    assert reported(TRUST, role(_federated(GITHUB, {"StringEquals": {_SUB: sub}})), config) == []


@pytest.mark.parametrize(
    ("trust", "words"),
    [
        (UNKNOWN, "the document is not known at preview"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": UNKNOWN}}]},
            "its Principal not known at preview",
        ),
        ('{"Statement": [', "the document cannot be read"),
        (
            '{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "'
            + f'arn:aws:iam::{ACCOUNT}:root"'
            + '}, "Principal": {"AWS": "*"}}]}',
            "the document repeats",
        ),
    ],
    ids=["document not known", "principal not known", "unreadable", "a key written twice"],
)
def test_a_trust_policy_that_cannot_be_judged_is_refused_by_the_trust_rule_itself(trust: object, words: str) -> None:
    """`up` runs a stack policy only once the role exists: a trust that may name another account once known must
    be refused at preview by the rule that is mandatory in every environment, not only by the one that is
    advisory outside prod (iam-attached-policies-checked)."""
    stack = Stack().add(ROLE, "r", {"name": "r", "assumeRolePolicy": trust})
    messages = reported(TRUST, stack, ALLOWED)
    assert any("who may assume it cannot be judged" in m and words in m for m in messages), messages
