"""The whole pack, run as the CLI runs it (a subprocess speaking the Analyzer protocol), per environment."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.policies.conftest import UNKNOWN
from tools.mock_runtime.program import Plan
from tools.offline_preview.analyzer import PackError, PolicyPack, StackResource
from tools.offline_preview.check import check

PACK = ROOT / "policies"
STARTING = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFunction", "sagemaker:*"], "Resource": "*"}],
    }
)


def started(stack: str, config: list[Path] | None = None, dry_run: bool = True) -> PolicyPack:
    pack = PolicyPack(PACK, project="ml-pipelines", stack=stack, dry_run=dry_run).start()
    try:
        pack.configure(config or [])
    except BaseException:
        pack.close()
        raise
    return pack


Running = Callable[..., PolicyPack]


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    """`started()`, one pack process per (stack, config files, dry run) for the module: a pack keeps no state
    between analyses, so the tests that only read one share it."""
    cache: dict[tuple[str, tuple[Path, ...], bool], PolicyPack] = {}

    def get(stack: str, config: list[Path] | None = None, dry_run: bool = True) -> PolicyPack:
        key = (stack, tuple(config or ()), dry_run)
        if key not in cache:
            cache[key] = started(stack, config, dry_run)
        return cache[key]

    yield get
    for pack in cache.values():
        pack.close()


@pytest.fixture(scope="module")
def packs(running: Running) -> dict[str, PolicyPack]:
    found = {stack: running(stack) for stack in ("prod", "live", "prd", "production-eu", "dev")}
    return {**found, "dev-with-config": running("dev", [PACK / "config" / "dev.json"])}


def role_policy(stack: str, document: str) -> StackResource:
    type_ = "aws:iam/rolePolicy:RolePolicy"
    return StackResource(
        f"urn:pulumi:{stack}::ml-pipelines::{type_}::wide", type_, "wide", {"role": "r", "policy": document}
    )


def role_with(stack: str, document: str) -> list[StackResource]:
    type_ = "aws:iam/role:Role"
    role = StackResource(f"urn:pulumi:{stack}::ml-pipelines::{type_}::r", type_, "r", {"name": "r"})
    return [role, role_policy(stack, document)]


@pytest.mark.parametrize(
    ("stack", "level"),
    [
        ("prod", "mandatory"),
        ("live", "mandatory"),
        ("prd", "mandatory"),
        ("production-eu", "mandatory"),
        ("dev", "mandatory"),  # no config: held to prod's levels, whatever the name
        ("dev-with-config", "advisory"),
    ],
)
def test_levels_fail_closed_and_come_from_the_environments_config(
    packs: dict[str, PolicyPack], stack: str, level: str
) -> None:
    # AWS refuses what is over its limits in every environment, and a trust or resource policy turned outward
    # is as open from dev as from prod: those policies are mandatory in every config.
    everywhere = {
        k: v["enforcementLevel"]
        for k, v in packs[stack].policies.items()
        if k.startswith("aws-limits-") or k in OUTWARD
    }
    assert set(everywhere.values()) == {"mandatory"} and len(everywhere) == 4
    assert {v["enforcementLevel"] for k, v in packs[stack].policies.items() if k != "all" and k not in everywhere} == {
        level
    }
    name = stack.removesuffix("-with-config")
    [found] = packs[stack].analyze_stack(role_with(name, STARTING))[:1]
    assert (found.policy_name, found.enforcement_level) == ("sagemaker-no-full-access-in-prod", level)
    assert found.policy_pack_name == "ml-pipelines-guardrails"


OUTWARD = ("resource-policies-not-public", "iam-trust-restricted")
"""The rules that keep every trust inside the allowed accounts: a nonprod deploy role may write trust and
resource policies on its environment's own resources (bootstrap/github_access.py), so these hold in nonprod too."""


@pytest.mark.parametrize("config", ["dev", "staging"])
def test_nonprod_blocks_trust_and_resource_policies_naming_another_account(running: Running, config: str) -> None:
    pack = running(config, [PACK / "config" / f"{config}.json"])
    outside = "arn:aws:iam::999988887777:root"
    trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": outside}, "Action": "sts:AssumeRole"}]})
    shared = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": outside},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::artifacts/*",
                }
            ]
        }
    )
    role_type, bucket_type = "aws:iam/role:Role", "aws:s3/bucketPolicy:BucketPolicy"
    resources = [
        StackResource(f"urn:pulumi:{config}::p::{role_type}::r", role_type, "r", {"assumeRolePolicy": trust}),
        StackResource(
            f"urn:pulumi:{config}::p::{bucket_type}::b", bucket_type, "b", {"bucket": "artifacts", "policy": shared}
        ),
    ]
    found = [d for r in resources for d in pack.analyze(r)] + pack.analyze_stack(resources)
    assert {(d.policy_name, d.enforcement_level) for d in found} >= {
        ("iam-trust-restricted", "mandatory"),
        ("resource-policies-not-public", "mandatory"),
    }
    assert all("999988887777" in d.message for d in found if d.policy_name in OUTWARD)


def test_the_starting_grant_is_blocked_in_prod(packs: dict[str, PolicyPack]) -> None:
    by_policy = {d.policy_name: d for d in packs["prod"].analyze_stack(role_with("prod", STARTING))}
    # sagemaker:* on * also opens a notebook as its role (the escalation rule names the method), and reaches
    # every resource of each SageMaker type (the data-plane rule names one).
    # The role, not kept to its policies by exclusive resources, may be an existing one adopted with import_.
    assert set(by_policy) == {
        "sagemaker-no-full-access-in-prod",
        "iam-no-privilege-escalation",
        "iam-no-data-plane-reach",
        "iam-grant-sets-declared",
    }
    assert "aws.iam.RolePoliciesExclusive" in by_policy["iam-grant-sets-declared"].message
    assert "CreatePresignedSageMakerNotebookUrl" in by_policy["iam-no-privilege-escalation"].message
    assert "allowed lambda:InvokeFunction on every function" in by_policy["iam-no-data-plane-reach"].message
    message = by_policy["sagemaker-no-full-access-in-prod"].message
    assert message.startswith(
        "Forbids any principal every SageMaker action on every SageMaker resource, however the grant is written or "
        'split across policies.\naws:iam/role:Role "r": allowed every SageMaker action IAM publishes'
    )
    assert (
        by_policy["sagemaker-no-full-access-in-prod"].resource_urn
        == "urn:pulumi:prod::ml-pipelines::aws:iam/role:Role::r"
    )
    least = {d.policy_name for d in packs["prod"].analyze(role_policy("prod", STARTING))}
    assert least == {"iam-least-privilege-in-prod"}


def test_an_unknown_document_in_a_prod_preview_is_mandatory_and_never_an_advisory(packs: dict[str, PolicyPack]) -> None:
    found = packs["prod"].analyze_stack(role_with("prod", UNKNOWN)) + packs["prod"].analyze(
        role_policy("prod", UNKNOWN)
    )
    assert ("iam-attached-policies-checked", "mandatory") in {(d.policy_name, d.enforcement_level) for d in found}
    assert not any("during preview" in d.message for d in found)


def test_a_pack_started_without_a_stack_treats_it_as_prod() -> None:
    pack = PolicyPack(PACK, project="ml-pipelines", stack="", dry_run=True).start()
    try:
        pack.configure([])
        assert {v["enforcementLevel"] for v in pack.policies.values()} == {"mandatory"}
    finally:
        pack.close()


def test_config_files_set_levels_and_settings(tmp_path: Path) -> None:
    config = tmp_path / "relaxed.json"
    config.write_text(
        json.dumps({"sagemaker-no-full-access-in-prod": "advisory", "required-tags": {"requiredTags": ["team"]}})
    )
    pack = started("prod", [config])
    try:
        assert pack.policies["sagemaker-no-full-access-in-prod"]["enforcementLevel"] == "advisory"
        assert pack.policies["required-tags"] == {"enforcementLevel": "mandatory", "requiredTags": ["team"]}
        found = pack.analyze_stack(role_with("prod", STARTING)) + pack.analyze(role_policy("prod", STARTING))
        assert {(d.policy_name, d.enforcement_level) for d in found} == {
            ("sagemaker-no-full-access-in-prod", "advisory"),
            ("iam-no-privilege-escalation", "mandatory"),
            ("iam-no-data-plane-reach", "mandatory"),
            ("iam-least-privilege-in-prod", "mandatory"),
            ("iam-grant-sets-declared", "mandatory"),
        }
    finally:
        pack.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            {"all": "blocking"},
            '{config}: parsing enforcement level for "all": "blocking" is not a valid enforcement level '
            "(accepted: advisory, mandatory, remediate, disabled)",
        ),
        (
            {"required-tags": {"requiredTags": "owner"}},
            "validating policy config: ml-pipelines-guardrails 0.1.0  required-tags: requiredTags: "
            "Invalid type. Expected: array, given: string",
        ),
        (
            {"resource-policies-not-public": {"allowedAccounts": ["12345"]}},
            "validating policy config: ml-pipelines-guardrails 0.1.0  resource-policies-not-public: "
            "allowedAccounts.0: Does not match pattern '^[0-9]{{12}}$'",
        ),
        (
            {"required-tags": {"requiredTags": ["owner", 3]}},
            "validating policy config: ml-pipelines-guardrails 0.1.0  required-tags: requiredTags.1: "
            "Invalid type. Expected: string, given: integer",
        ),
    ],
)
def test_bad_config_files_fail_as_the_engine_says(tmp_path: Path, content: dict, message: str) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps(content))
    with pytest.raises(PackError) as caught:
        started("dev", [config]).close()
    assert str(caught.value) == message.format(config=config)


@pytest.mark.parametrize("path", sorted((PACK / "config").glob("*.json")), ids=lambda p: p.name)
def test_the_project_config_files_name_only_real_policies_and_settings(path: Path, running: Running) -> None:
    """The engine passes a misspelt policy or setting through silently (its schema allows any property), so a
    typo in an environment's config would quietly leave a policy at its default: this repository refuses it."""
    info = running("prod").info()
    settings = {p.name: set(p.schema_properties or {}) for p in info.policies}
    for name, value in json.loads(path.read_text()).items():
        assert name == "all" or name in settings, f"{path.name}: {name} is not a policy of the pack"
        if isinstance(value, dict):
            assert set(value) - {"enforcementLevel"} <= settings.get(name, set()), f"{path.name}: {name}: {value}"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
@pytest.mark.parametrize("preview", [True, False])
def test_the_project_stacks_pass_with_their_config(
    stack: str, preview: bool, plans: dict[str, Plan], preview_plans: dict[str, Plan], running: Running
) -> None:
    plan = (preview_plans if preview else plans)[stack]  # the session's runs of the program, shared
    found = check(plan, [running(stack, [PACK / "config" / f"{stack}.json"], dry_run=preview)])
    assert [d for d in found.diagnostics if d.enforcement_level == "mandatory"] == []
    # The one thing said: the shipped stacks' alarm e-mails reach nobody (none in dev, example.com elsewhere).
    assert [(d.policy_name, d.enforcement_level) for d in found.diagnostics] == [
        ("notifications-reach-someone", "advisory")
    ]
    assert found.remediations == []


def test_the_policy_docs_list_every_rule_with_its_level_in_each_environment(running: Running) -> None:
    rows: dict[str, list[str]] = {}
    for line in (ROOT / "docs" / "policies.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 5 and cells[-1] in ("advisory", "mandatory"):
            rows[cells[0].strip("`")] = cells[2:]
    levels: dict[str, list[str]] = {}
    for environment in ("dev", "staging", "prod"):
        pack = running(environment, [ROOT / "policies" / "config" / f"{environment}.json"])
        for name, settings in pack.policies.items():
            if name != "all":
                levels.setdefault(name, []).append(settings["enforcementLevel"])
    assert rows == levels
