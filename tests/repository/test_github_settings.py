"""Repository settings as code: the code owners of what decides access, and the `main` ruleset in the shape
GitHub's REST API takes (`POST /repos/{owner}/{repo}/rulesets`; the pull_request rule's parameters as GitHub's
OpenAPI description names them: required_approving_review_count, dismiss_stale_reviews_on_push,
require_code_owner_review, require_last_push_approval, required_review_thread_resolution)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.repository.test_workflows import DOCS, GITHUB

GITHUB_ACTIONS_APP = 15368
"""The app ID of GitHub Actions: the `app.id` of every check run a workflow job creates
(`gh api repos/O/R/commits/<sha>/check-runs --jq '.check_runs[].app.id'`). A required check pinned to it cannot be
satisfied by a commit status anyone with write access can post."""


def _owned(path: str) -> bool:
    """Whether an anchored CODEOWNERS pattern (`/dir/` or `/file`) with an owner covers `path`."""
    for line in (GITHUB / "CODEOWNERS").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0].startswith("/") and all(o.startswith("@") for o in fields[1:]):
            pattern = fields[0].lstrip("/")
            if path == pattern or (pattern.endswith("/") and path.startswith(pattern)):
                return True
    return False


def test_code_owners_cover_what_decides_access() -> None:
    for path in (
        ".github/workflows/pulumi-up.yml",
        ".github/CODEOWNERS",
        ".github/rulesets/main.json",
        "bootstrap/github_access.py",
        "policies/config/prod.json",
        "policies/access/principals.py",
        "stacks/Pulumi.prod.yaml",
        # what the prod deploy job installs and runs, and the code that runs under the pipelines' roles
        "Makefile",
        "requirements-ci.txt",
        "pyproject.toml",
        "tools/ci/install_pulumi_cli.sh",
        # what the prod job imports around them (`python3 -m tools.ci...` runs tools/__init__.py; verify-github
        # imports tools/cli.py) and installs into the .venv the program and the pack run from
        "tools/__init__.py",
        "tools/cli.py",
        "requirements-image-data.txt",
        "__main__.py",
        "components/iam_documents.py",
        "functions/evaluate_model/handler.py",
        "workloads/breast-cancer/train.py",
    ):
        assert (ROOT / path).is_file(), path
        assert _owned(path), path
    assert not _owned("stacks/Pulumi.dev.yaml")  # dev's settings need no code owner


def test_the_main_ruleset_requires_a_fresh_independent_code_owner_review_and_the_checks() -> None:
    ruleset = json.loads((GITHUB / "rulesets" / "main.json").read_text())
    assert (ruleset["target"], ruleset["enforcement"]) == ("branch", "active")
    assert ruleset["conditions"]["ref_name"]["include"] == ["~DEFAULT_BRANCH"]
    assert ruleset["bypass_actors"] == []  # no one merges around it, admins neither
    rules = {rule["type"]: rule.get("parameters") for rule in ruleset["rules"]}
    assert {"deletion", "non_fast_forward"} <= set(rules)
    review = rules["pull_request"]
    assert review["required_approving_review_count"] >= 1
    assert review["dismiss_stale_reviews_on_push"] is True
    assert review["require_code_owner_review"] is True
    assert review["require_last_push_approval"] is True
    checks = rules["required_status_checks"]
    assert checks["strict_required_status_checks_policy"] is True
    assert {c["integration_id"] for c in checks["required_status_checks"]} == {GITHUB_ACTIONS_APP}
    # The check names are the jobs' as GitHub shows them: ci.yml's job, and preview.yml's per stack.
    preview = DOCS["preview.yml"]["jobs"]["preview"]
    stacks = [entry["stack"] for entry in preview["strategy"]["matrix"]["include"]]
    expected = {DOCS["ci.yml"]["jobs"]["check"]["name"]}
    expected |= {preview["name"].replace("${{ matrix.stack }}", stack) for stack in stacks}
    assert {c["context"] for c in checks["required_status_checks"]} == expected
    assert sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("*")) == sorted(
        stacks
    )


def test_every_step_that_assumes_a_role_masks_the_account_id_in_the_logs() -> None:
    """aws-actions/configure-aws-credentials masks no account ID by default since v3; a public repository's logs
    would show it in every ARN the preview prints."""
    found = 0
    for name, document in DOCS.items():
        for job in document["jobs"].values():
            for step in job.get("steps", []):
                if "aws-actions/configure-aws-credentials@" in str(step.get("uses", "")):
                    found += 1
                    assert step["with"].get("mask-aws-account-id") is True, name
    assert found == 4  # the deploy, the preview, the drift check and the account audit


def test_the_tag_ruleset_keeps_every_tag_where_it_was_pushed() -> None:
    """Tags release nothing (prod deploys a dispatch on `main`, and no role trusts a tag's ref), but a tag names
    what was released: once pushed it is never moved, forced or deleted, by anyone."""
    ruleset = json.loads((GITHUB / "rulesets" / "tags.json").read_text())
    assert (ruleset["target"], ruleset["enforcement"]) == ("tag", "active")
    assert ruleset["conditions"]["ref_name"] == {"include": ["~ALL"], "exclude": []}
    assert ruleset["bypass_actors"] == []
    assert {rule["type"] for rule in ruleset["rules"]} == {"update", "deletion", "non_fast_forward"}
    # Nothing on a tag reaches an account: a workflow that runs on a push names its branches, and no tag.
    pushed = {name: document["on"]["push"] for name, document in DOCS.items() if "push" in document["on"]}
    assert set(pushed) == {"ci.yml", "deploy.yml"}
    for name, push in pushed.items():
        assert push == {"branches": ["main"]}, name


def _step(workflow: str, name_starts: str) -> dict[str, Any]:
    [step] = [
        step
        for job in DOCS[workflow]["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("name", "")).startswith(name_starts)
    ]
    return step


PRINTED = "+ aws:sns/topicSubscription:TopicSubscription alarm endpoint: oncall@corp.example.org\n"
PRINTED += "    arn: arn:aws:sns:eu-west-1:210987654321:tumor-prod-failures\n"


@pytest.mark.parametrize(
    ("workflow", "step", "kept"),
    [
        ("preview.yml", "pulumi preview with the policy pack", "preview-result/output.txt"),
        ("drift.yml", "pulumi preview --refresh", "drift-result/output.txt"),
        ("pulumi-up.yml", "pulumi preview of this commit", None),
        ("pulumi-up.yml", "Stack outputs in the job summary", "summary.md"),
    ],
)
def test_what_a_public_repository_shows_of_a_preview_holds_no_account_id_or_address(
    tmp_path: Path, workflow: str, step: str, kept: str | None
) -> None:
    """The step's own script, run by bash as GitHub runs it (`bash -e`), with a `pulumi` that prints what a real
    preview of prod prints (an alarm address, ARNs): its log, its artifact and the job summary are public."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(f"#!/bin/sh\ncat <<'OUT'\n{PRINTED}OUT\n")
    fake.chmod(0o755)
    (tmp_path / "runner").mkdir()
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "STACK": "prod",
        "STACK_NAME": "prod",
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_SHA": "0" * 40,
    }
    script = _step(workflow, step)["run"]
    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    shown = [result.stdout + result.stderr] + ([(tmp_path / kept).read_text()] if kept else [])
    assert "tumor-prod-failures" in shown[-1]  # what the reader needs stays
    for text in shown:
        assert "210987654321" not in text and "oncall@corp.example.org" not in text
    assert list((tmp_path / "runner").iterdir()) == []  # no raw copy left behind for a later step


def test_what_a_public_repository_shows_of_an_audit_holds_no_account_id_or_address(tmp_path: Path) -> None:
    """The audit step's own script, with an `ml-pipelines` that prints what an audit of prod prints (the account,
    ARNs, an address in a witness) and an error: its log and its artifact hold neither, and the artifact is still
    the command's JSON."""
    fake = tmp_path / ".venv" / "bin" / "ml-pipelines"
    fake.parent.mkdir(parents=True)
    result = {
        "account": "210987654321",
        "principals": 2,
        "findings": [
            {
                "principal": "arn:aws:iam::210987654321:role/ci-admin",
                "policyName": "iam-no-privilege-escalation",
                "enforcementLevel": "mandatory",
                "message": "arn:aws:iam::210987654321:role/ci-admin can attach any policy to itself",
                "witness": {"trusts": "arn:aws:iam::210987654321:user/oncall@corp.example.org"},
            }
        ],
    }
    fake.write_text(
        f"#!/bin/sh\ncat <<'OUT'\n{json.dumps(result)}\nOUT\n"
        "echo 'warning: account 210987654321, oncall@corp.example.org' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    (tmp_path / "runner").mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "CONFIG": "prod",
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
    }
    script = _step("audit.yml", "ml-pipelines audit-account --live")["run"]
    run = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    kept = (tmp_path / "audit-result" / "result.json").read_text()
    assert json.loads(kept)["findings"][0]["principal"] == "arn:aws:iam::<account>:role/ci-admin"
    assert (tmp_path / "audit-result" / "exit-code").read_text() == "1\n"
    assert "1 finding(s) among 2 principals" in run.stdout and "ci-admin" not in run.stdout
    for text in (run.stdout + run.stderr, kept):
        assert "210987654321" not in text and "oncall@corp.example.org" not in text
    assert list((tmp_path / "runner").iterdir()) == []


def test_artifacts_of_a_preview_are_kept_three_days_at_most() -> None:
    uploads = [
        step
        for document in DOCS.values()
        for job in document["jobs"].values()
        for step in job.get("steps", [])
        if "actions/upload-artifact@" in str(step.get("uses", ""))
    ]
    assert len(uploads) >= 2
    assert all(step["with"]["retention-days"] <= 3 for step in uploads)


SETTINGS = json.loads((GITHUB / "settings.json").read_text())


def test_the_committed_settings_are_those_the_roles_and_workflows_rely_on() -> None:
    """`.github/settings.json`, what verify-github holds the live repository to, says what the rest assumes: the
    subject template the roles trust, every environment a workflow runs in, the branches each deploy role
    trusts (bootstrap's deployBranches), every committed ruleset."""
    from bootstrap.github_access import DEPLOY_BRANCHES, SUBJECT_CLAIMS

    assert SETTINGS["oidcSubjectClaimKeys"] == list(SUBJECT_CLAIMS)
    assert SETTINGS["workflowPermissions"] == {
        "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": False,
    }
    assert sorted(SETTINGS["rulesets"]) == sorted(f"rulesets/{p.name}" for p in (GITHUB / "rulesets").glob("*.json"))
    stacks = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
    environments = SETTINGS["environments"]
    assert sorted(environments) == sorted([*stacks, *(f"preview-{s}" for s in stacks)])
    for account in ("nonprod", "prod"):
        config = yaml.safe_load((ROOT / "bootstrap" / f"Pulumi.{account}.yaml").read_text())["config"]
        branches = config.get("ml-pipelines-bootstrap:deployBranches") or list(DEPLOY_BRANCHES)
        for stack in config["ml-pipelines-bootstrap:environments"]:
            assert environments[stack]["deploymentBranches"] == (["main"] if stack == "prod" else branches), stack
    assert environments["prod"]["requiredReviewers"] is True


def test_the_prod_deploy_checks_the_live_settings_before_any_install_or_credential() -> None:
    steps = DOCS["pulumi-up.yml"]["jobs"]["up"]["steps"]
    names = [str(step.get("name") or step.get("uses")) for step in steps]
    [verify] = [i for i, step in enumerate(steps) if "tools.ci.verify_github" in str(step.get("run", ""))]
    assert steps[verify]["if"] == "inputs.stack == 'prod'"
    assert steps[verify]["run"] == 'python3 -m tools.ci.verify_github --repo "$GITHUB_REPOSITORY"'
    assert steps[verify]["env"] == {"GH_TOKEN": "${{ secrets.GITHUB_SETTINGS_TOKEN }}"}
    first_install = next(i for i, n in enumerate(names) if "actions/setup" in n or "configure-aws-credentials" in n)
    assert verify < first_install


def test_every_guarantee_of_the_delivery_docs_names_tests_that_exist() -> None:
    """docs/delivery.md's guarantees table: each row names at least one `path::test`, and each is a test of that
    file; a renamed or deleted test leaves no guarantee standing on nothing."""
    text = (ROOT / "docs" / "delivery.md").read_text()
    table = text[text.index("#### Guarantees, and what proves each") : text.index("#### Bootstrapping an AWS account")]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Guarantee")]
    assert len(rows) >= 15
    for row in rows:
        named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", row)
        assert named, row
        for path, test in named:
            assert re.search(rf"^def {test}\(", (ROOT / path).read_text(), flags=re.MULTILINE), f"{path}::{test}"
