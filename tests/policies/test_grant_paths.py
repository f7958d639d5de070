"""Every class of over-grant this repository knows, written as a Pulumi program and run through the offline
preview with the real pack at prod's config: with known values and as a first preview (`--preview`).

The program is tests/policies/programs/grants: one resource group per case, named after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools.offline_preview.__main__ import Outcome, parse_args, run

PROGRAM = Path(__file__).parent / "programs" / "grants"
CONFIG = ROOT / "policies" / "config"
FULL, DECIDABLE = "sagemaker-no-full-access-in-prod", "iam-attached-policies-checked"
EXPOSED, TRUST, FOREIGN = "resource-policies-not-public", "iam-trust-restricted", "iam-compute-runs-as-own-roles"
ESCALATION, PASSROLE, REACH = "iam-no-privilege-escalation", "iam-passrole-scoped", "iam-no-data-plane-reach"
GRANT_SETS = "iam-grant-sets-declared"

# (case, the policy that must block it, the resource it is reported on, the words it must use); in both modes.
BLOCKED = [
    ("letter-prefix globs, actions and resources", FULL, "letters", "allowed every SageMaker action"),
    ("split over two policies of one role", FULL, "split", "allowed every SageMaker action"),
    ("an attached customer policy and an inline one", FULL, "attached", "allowed every SageMaker action"),
    ("an aws-native role", FULL, "native", "allowed every SageMaker action"),
    ("a CloudFormation template", FULL, "cfn", "allowed every SageMaker action"),
    ("a template given by URL", DECIDABLE, "cfn-url", "the template is given by URL"),
    ("a dynamic resource", DECIDABLE, "dynamic", "the pack cannot read a pulumi-python:dynamic:Resource"),
    ("an ambiguous document", DECIDABLE, "ambiguous-policy-0", "the document repeats 'Action' and 'action'"),
    ("a trust policy nested 5,000 deep", DECIDABLE, "deep", "nested deeper than a JSON reader follows"),
    ("a bucket policy open to anyone", EXPOSED, "public-bucket-policy", "allows anyone (*) s3:GetObject"),
    ("a bucket policy open to another account", EXPOSED, "cross-account-bucket-policy", "(account 999999999999) s3:*"),
    ("a model package group open to anyone", EXPOSED, "public-package-group", "allows anyone (*) sagemaker:*"),
    ("a role anyone may assume", TRUST, "anyone-trust", "lets anyone (*) assume it"),
    (
        "compute running as a role the stack does not define",
        FOREIGN,
        "foreign-lambda",
        "runs as arn:aws:iam::123456789012:role/OrganizationAccountAccessRole, a role the stack does not define",
    ),
    (
        "a role adopted with import_, run as by a function",
        GRANT_SETS,
        "adopted",
        "aws.iam.RolePoliciesExclusive and aws.iam.RolePolicyAttachmentsExclusive",
    ),
    ("an access key of an existing user", GRANT_SETS, "user-key", "creates a credential of the user 'ci-admin'"),
    ("PassRole to a role the stack does not define", PASSROLE, "foreign-passrole", "role/Admin, a role the stack"),
    ("PassRole to any service", PASSROLE, "passrole-to-anyone", "without iam:PassedToService restricted by"),
    ("role writes on role/*", ESCALATION, "role-writes", "iam:PutRolePolicy on arn:aws:iam::123456789012:role/"),
    ("policy versions on policy/*", ESCALATION, "policy-versions", "CreateNewPolicyVersion"),
    ("every object of every bucket", REACH, "every-object", "allowed s3:GetObject on every object"),
    ("any role of any account", REACH, "every-role", "allowed sts:AssumeRole on every role"),
    ("every secret of the account", REACH, "every-secret", "allowed secretsmanager:GetSecretValue on every Secret"),
]
BLOCKED += [
    # At a first preview the inline policy's permission set (`permission_set.arn`) is not known: what it grants
    # is judged on every permission set it may name, the stack's own among them.
    ("an SSO permission set", FULL, "sso", "allowed every SageMaker action"),
]
# Known values decide these; a first preview cannot, and says so.
KNOWN = [
    ("AdministratorAccess swapped in behind a policy's ARN", FULL, "swap", "AWS-managed policy AdministratorAccess"),
]
PREVIEW = [
    (
        "an ARN swapped in by an apply",
        DECIDABLE,
        "swap-attachment",
        "the policy it attaches is not known at preview "
        '(it is built from an output of aws:iam/policy:Policy "swap-benign")',
    ),
    ("a document unknown at preview", DECIDABLE, "unknown-document-policy-0", "the document is not known at preview"),
]


def plan(*argv: str) -> list[Outcome]:
    return run(parse_args(["--cwd", str(PROGRAM), "--policy-pack", str(ROOT / "policies"), *argv]))


@pytest.fixture(scope="module", params=[False, True], ids=["known values", "first preview"])
def planned(request: pytest.FixtureRequest) -> Iterator[tuple[bool, dict[str, Outcome]]]:
    argv = ["--stack", "prod", "--stack", "clean", "--policy-pack-config", str(CONFIG / "prod.json")]
    outcomes = plan(*argv, *(["--preview"] if request.param else []))
    yield request.param, {o.stack: o for o in outcomes}


def mandatory(outcome: Outcome) -> list[tuple[str, str, str]]:
    assert outcome.error is None, outcome.error
    return [
        (d.policy_name, d.resource_urn.rsplit("::", 1)[-1], d.message)
        for d in outcome.diagnostics
        if d.enforcement_level == "mandatory"
    ]


def test_every_class_is_blocked(planned: tuple[bool, dict[str, Outcome]]) -> None:
    preview, outcomes = planned
    found = mandatory(outcomes["prod"])
    for case, policy, resource, words in BLOCKED + (PREVIEW if preview else KNOWN):
        assert any(p == policy and r == resource and words in m for p, r, m in found), f"{case} passed"


def test_a_prod_preview_never_downgrades_to_advisory(planned: tuple[bool, dict[str, Outcome]]) -> None:
    _, outcomes = planned
    assert not any("can't run policy" in d.message for d in outcomes["prod"].diagnostics)
    assert {d.enforcement_level for d in outcomes["prod"].diagnostics} == {"mandatory"}


def test_scoped_grants_pass(planned: tuple[bool, dict[str, Outcome]]) -> None:
    _, outcomes = planned
    assert mandatory(outcomes["clean"]) == []


def test_environments_fail_closed() -> None:
    """Prod's levels for every stack not run with a non-prod config, whatever its name."""
    outcomes = {o.stack: o for o in plan("--stack", "live", "--stack", "prd", "--stack", "production-eu")}
    for stack, outcome in outcomes.items():
        assert (FULL, "letters") in {(p, r) for p, r, _ in mandatory(outcome)}, stack
    [dev] = plan("--stack", "dev", "--policy-pack-config", str(CONFIG / "dev.json"))
    assert mandatory(dev) == []
    assert (FULL, "advisory") in {(d.policy_name, d.enforcement_level) for d in dev.diagnostics}


def test_an_organisation_scoped_trust_passes_where_the_config_names_the_organisation(tmp_path: Path) -> None:
    config = json.loads((CONFIG / "prod.json").read_text())
    with_org = tmp_path / "prod-with-org.json"
    config["iam-trust-restricted"]["allowedOrganizations"] = ["o-a1b2c3d4e5"]
    with_org.write_text(json.dumps(config))
    [allowed] = plan("--stack", "org", "--policy-pack-config", str(with_org))
    assert mandatory(allowed) == []
    [unknown] = plan("--stack", "org", "--policy-pack-config", str(CONFIG / "prod.json"))
    assert [(p, r) for p, r, _ in mandatory(unknown)] == [(TRUST, "org-trust")]
