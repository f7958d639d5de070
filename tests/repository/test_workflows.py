"""The GitHub workflows, checked from the YAML itself: schema, zizmor, and the safety properties they promise.

They cannot run here (no GitHub, no AWS); what they do is asserted statically, property by property.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted(GITHUB.glob("actions/*/action.yml"))
VENV_BIN = ROOT / ".venv" / "bin"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True; GitHub means the string.
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return dict(document)


DOCS = {path.name: load(path) for path in WORKFLOWS}


def jobs(name: str) -> dict[str, dict[str, Any]]:
    return dict(DOCS[name]["jobs"])


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def test_the_workflows_are_there() -> None:
    assert sorted(DOCS) == ["audit.yml", "ci.yml", "deploy.yml", "drift.yml", "preview.yml", "pulumi-up.yml"]


def test_workflows_and_actions_match_githubs_schemas() -> None:
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)):
        result = subprocess.run(
            [VENV_BIN / "check-jsonschema", "--builtin-schema", schema, *files],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing() -> None:
    result = subprocess.run(
        [VENV_BIN / "zizmor", "--offline", "--format", "plain", str(GITHUB)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "No findings to report" in result.stdout


def test_zizmor_auditor_persona_reports_nothing_of_medium_severity_or_more() -> None:
    """The auditor persona accepts false positives; what it rates medium or high is fixed, not suppressed
    (secrets only in environments, for instance)."""
    result = subprocess.run(
        [VENV_BIN / "zizmor", "--offline", "--persona", "auditor", "--min-severity", "medium", "--format", "plain",
         str(GITHUB)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "No findings to report" in result.stdout


def test_secrets_are_read_only_in_jobs_of_an_environment() -> None:
    """A repository secret is readable by every workflow of every branch; an environment secret only by jobs
    in that environment (whose rules and reviewers hold prod's)."""
    for name in DOCS:
        for job_name, job in jobs(name).items():
            if "secrets." in str(job):
                assert job.get("environment"), f"{name}: {job_name} reads a secret outside an environment"


def test_no_permissions_by_default() -> None:
    for name, document in DOCS.items():
        assert document["permissions"] == {}, name
        for job_name, job in jobs(name).items():
            assert "permissions" in job, f"{name}: {job_name} declares no permissions"
            assert "write-all" not in str(job["permissions"])


def _assumes_a_role(name: str, job: dict[str, Any]) -> bool:
    if any(str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@") for s in steps(job)):
        return True
    called = str(job.get("uses", ""))
    return called.startswith("./.github/workflows/") and any(
        _assumes_a_role(called, j) for j in jobs(Path(called).name).values()
    )


def test_id_token_only_where_a_role_is_assumed() -> None:
    for name in DOCS:
        for job_name, job in jobs(name).items():
            wants = job["permissions"].get("id-token") == "write"
            assert wants == _assumes_a_role(name, job), f"{name}: {job_name}"


def test_pull_requests_write_only_where_a_comment_is_written() -> None:
    for name in DOCS:
        for job_name, job in jobs(name).items():
            writes = job["permissions"].get("pull-requests") == "write"
            assert writes == ("tools.ci.pr_comment" in runs(job)), f"{name}: {job_name}"


def test_issues_write_only_where_an_issue_is_kept() -> None:
    for name in DOCS:
        for job_name, job in jobs(name).items():
            writes = job["permissions"].get("issues") == "write"
            keeps = any(f"tools.ci.{tool}" in runs(job) for tool in ("drift_issue", "audit_issue"))
            assert writes == keeps, f"{name}: {job_name}"


def test_third_party_actions_pinned_to_a_commit_with_its_version() -> None:
    for path in [*WORKFLOWS, *ACTIONS]:
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
            if not match or match[1].startswith("./"):
                continue
            assert PINNED.match(match[1]), f"{path.name}: {match[1]} is not pinned to a full commit SHA"
            assert re.match(r"^\s+# v\d+\.\d+\.\d+$", match[2]), f"{path.name}: {match[1]} has no '# vX.Y.Z' comment"


def test_no_pull_request_target_and_no_expansion_in_scripts() -> None:
    for path in [*WORKFLOWS, *ACTIONS]:
        text = path.read_text()
        assert "pull_request_target" not in text, path.name
        document = load(path)
        all_steps = [s for j in document.get("jobs", {}).values() for s in steps(j)]
        all_steps += document.get("runs", {}).get("steps", [])
        for step in all_steps:
            assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name')}: expression inside run:"


def test_forks_get_no_credentials() -> None:
    for job_name, job in jobs("ci.yml").items():
        assert "secrets." not in str(job) and "id-token" not in job["permissions"], job_name
    preview, comment = jobs("preview.yml")["preview"], jobs("preview.yml")["comment"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert comment["if"] == "always() && github.event.pull_request.head.repo.full_name == github.repository"
    assert set(DOCS["preview.yml"]["on"]) == {"pull_request"}
    # The only other workflow with secrets runs on pushes and dispatches, never on pull requests.
    assert "pull_request" not in DOCS["deploy.yml"]["on"]
    assert set(DOCS["pulumi-up.yml"]["on"]) == {"workflow_call"}


def _pulumi_commands(script: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if re.match(r"^\s*pulumi (preview|up)\b", line)]


def test_every_preview_and_update_runs_the_policy_pack_with_the_stack_config() -> None:
    commands = [c for name in DOCS for job in jobs(name).values() for c in _pulumi_commands(runs(job))]
    assert len(commands) == 4  # the PR preview, the drift check, and the deploy's preview then update
    for command in commands:
        assert '--stack "$STACK_NAME" --policy-pack policies' in command, command
        assert '--policy-pack-config "policies/config/$STACK.json"' in command, command


def test_ci_runs_the_developer_targets() -> None:
    check = jobs("ci.yml")["check"]
    assert check["permissions"] == {"contents": "read"}
    assert [s["run"] for s in steps(check) if "run" in s] == [
        "make lint",
        "make typecheck",
        "make test",
        "make test-data",
        "make pre-commit",
        "make plan SARIF=plan.sarif",
    ]


def test_the_policy_violations_reach_code_scanning_from_a_job_that_runs_no_pr_code() -> None:
    """The SARIF log of `make plan` is uploaded by a job that holds only `security-events: write`, checks out
    nothing, and sends the artifact with `gh api` (the documented code-scanning SARIF upload)."""
    upload = jobs("ci.yml")["code-scanning"]
    assert upload["needs"] == "check"
    assert upload["permissions"] == {"security-events": "write"}
    download, send = steps(upload)
    assert "download-artifact@" in download["uses"] and download["with"] == {"name": "plan-sarif"}
    assert not any("checkout@" in str(s.get("uses", "")) for s in steps(upload))
    assert "code-scanning/sarifs" in send["run"] and "-F sarif=@plan.sarif.gz.b64" in send["run"]
    assert "gzip -c plan.sarif | base64 -w0" in send["run"]


def test_dependencies_come_from_the_repositorys_pins() -> None:
    (action,) = ACTIONS
    runs_in_action = [s.get("run", "").strip() for s in yaml.safe_load(action.read_text())["runs"]["steps"]]
    assert "make install-locked" in runs_in_action  # requirements-ci.txt, every file hash-checked
    for path in [*WORKFLOWS, *ACTIONS]:
        assert "pip install" not in path.read_text(), path.name


def test_deploy_order_and_gates() -> None:
    deploy = jobs("deploy.yml")
    assert {n: j["with"]["stack"] for n, j in deploy.items()} == {"dev": "dev", "staging": "staging", "prod": "prod"}
    assert all(j["uses"] == "./.github/workflows/pulumi-up.yml" for j in deploy.values())
    assert deploy["staging"]["needs"] == "dev"
    assert "refs/heads/main" in deploy["dev"]["if"] and "refs/heads/main" in deploy["staging"]["if"]
    prod_if = " ".join(deploy["prod"]["if"].split())
    # The release is a dispatch on main; no tag deploys (the prod role trusts only a run on main).
    assert prod_if == (
        "github.event_name == 'workflow_dispatch' && inputs.stack == 'prod' && github.ref == 'refs/heads/main'"
    )
    assert DOCS["deploy.yml"]["on"]["push"] == {"branches": ["main"]}


def test_each_update_is_behind_its_environment_one_at_a_time_previewed_first() -> None:
    (up,) = jobs("pulumi-up.yml").values()
    assert up["environment"] == "${{ inputs.stack }}"  # prod: the environment with required reviewers
    assert up["concurrency"] == {"group": "deploy-${{ inputs.stack }}", "cancel-in-progress": False}
    names = [s.get("name", s.get("uses", "")) for s in steps(up)]
    preview = next(i for i, s in enumerate(steps(up)) if "pulumi preview" in s.get("run", ""))
    update = next(i for i, s in enumerate(steps(up)) if "pulumi up" in s.get("run", ""))
    assert preview < update, names
    assert 'pulumi stack output --stack "$STACK_NAME" --json' in runs(up)
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs(up)


def test_the_cli_reads_stacks_dir_for_real() -> None:
    """pulumi/actions drives the Automation API (pulumi/pulumi#10305: stackConfigDir reported ignored); the
    workflows run the CLI itself, and check that the stack's config was read before any preview or update."""
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["stackConfigDir"] == "stacks"
    for path in [*WORKFLOWS, *ACTIONS]:
        assert "pulumi/actions@" not in path.read_text(), path.name
    for name in ("preview.yml", "pulumi-up.yml"):
        for job in jobs(name).values():
            script = runs(job)
            if "pulumi preview" not in script:  # the comment job: no CLI
                continue
            guard = script.index('pulumi config get ml-pipelines:pipelines --stack "$STACK_NAME"')
            assert guard < script.index("pulumi preview"), name


def test_every_stack_is_previewed_on_pull_requests() -> None:
    preview = jobs("preview.yml")["preview"]
    stacks = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
    assert sorted(i["stack"] for i in preview["strategy"]["matrix"]["include"]) == stacks
    assert sorted(jobs("preview.yml")["comment"]["strategy"]["matrix"]["stack"]) == stacks
    assert preview["strategy"]["fail-fast"] is False
    roles = {i["stack"]: i["role"] for i in preview["strategy"]["matrix"]["include"]}
    assert roles == {s: f"AWS_PREVIEW_ROLE_ARN_{s.upper()}" for s in stacks}


@pytest.mark.parametrize("name", sorted(DOCS))
def test_jobs_have_timeouts_and_checkout_keeps_no_credentials(name: str) -> None:
    for job_name, job in jobs(name).items():
        if "uses" in job:  # a call to a reusable workflow: the timeout is in the called job
            continue
        assert isinstance(job.get("timeout-minutes"), int), f"{name}: {job_name}"
        for step in steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env)
    return result.stdout.strip()


def test_prod_runs_only_a_commit_on_main_checked_before_any_credentials(tmp_path: Path) -> None:
    """The guard step, run for real against a repository where main has moved on and a tag sits elsewhere."""
    (up,) = jobs("pulumi-up.yml").values()
    all_steps = steps(up)
    checkout = next(s for s in all_steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # origin/main must be there to compare with
    guard = next(i for i, s in enumerate(all_steps) if "merge-base --is-ancestor" in s.get("run", ""))
    assert all_steps[guard]["if"] == "inputs.stack == 'prod'"
    setup = next(i for i, s in enumerate(all_steps) if s.get("uses") == "./.github/actions/setup")
    creds = next(i for i, s in enumerate(all_steps) if "configure-aws-credentials@" in str(s.get("uses", "")))
    assert guard < setup < creds  # nothing installed, no credentials, before the commit is known to be main's

    _git(tmp_path, "init", "-q", "-b", "main")
    for message in ("one", "two"):
        _git(tmp_path, "commit", "-q", "--allow-empty", "-m", message)
    merged = _git(tmp_path, "rev-parse", "HEAD~1")
    _git(tmp_path, "checkout", "-q", "-b", "unreviewed")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "pushed with a v* tag, never merged")
    unreviewed = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "update-ref", "refs/remotes/origin/main", "main")

    def guard_on(sha: str) -> subprocess.CompletedProcess[str]:
        script = all_steps[guard]["run"]
        env = {"GITHUB_SHA": sha, "PATH": "/usr/bin:/bin"}
        command = ["bash", "-e", "-c", script]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)

    assert guard_on(merged).returncode == 0
    refused = guard_on(unreviewed)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"::error::prod deploys only commits on main: {unreviewed} is not an ancestor of origin/main"
    ]
    # A writer pushes a tag named `origin/main` on their commit: git prefers tags for the short name.
    _git(tmp_path, "tag", "origin/main", unreviewed)
    assert guard_on(unreviewed).returncode == 1


def test_a_dispatch_of_staging_alone_runs() -> None:
    """`needs: dev` skips staging with a skipped dev unless its condition says otherwise; after a failed dev
    it must still be skipped."""
    staging_if = " ".join(jobs("deploy.yml")["staging"]["if"].split())
    assert staging_if.startswith("!failure() && !cancelled() && (")
    assert "inputs.stack == 'staging'" in staging_if


def test_dependabot_keeps_every_pin_current() -> None:
    path = GITHUB / "dependabot.yml"
    result = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.dependabot", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    updates = {u["package-ecosystem"]: u for u in yaml.safe_load(path.read_text())["updates"]}
    action_dirs = {"/"} | {"/" + str(a.parent.relative_to(ROOT)) for a in ACTIONS}
    assert set(updates["github-actions"]["directories"]) == action_dirs
    pip_dirs = {"/" + str(p.parent.relative_to(ROOT)).removeprefix(".") for p in ROOT.glob("*/requirements*.txt")}
    assert set(updates["pip"]["directories"]) == {"/"} | pip_dirs  # "/": pyproject.toml
    assert all(u["cooldown"]["default-days"] >= 7 for u in updates.values())


def test_the_roles_trust_the_workflow_files_that_assume_them() -> None:
    """The bootstrap pins each role's trust to one workflow file (through the `sub` subject template); the
    role must be assumed in that file and no other, in a job of the context the trust names."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("github_access", ROOT / "bootstrap" / "github_access.py")
    assert spec is not None and spec.loader is not None
    access = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(access)
    assert access.SUBJECT_CLAIMS == ("repo", "context", "ref", "job_workflow_ref")
    assert access.preview_environment("prod") == "preview-prod"

    def assuming(variable: str) -> set[str]:
        return {n for n in DOCS if variable in (GITHUB / "workflows" / n).read_text()}

    assert assuming("vars.AWS_DEPLOY_ROLE_ARN") == {access.DEPLOY_WORKFLOW}
    (up,) = jobs(access.DEPLOY_WORKFLOW).values()
    assert up["environment"] == "${{ inputs.stack }}"  # context environment:<stack>
    assert assuming("AWS_PREVIEW_ROLE_ARN_") == {access.PREVIEW_WORKFLOW, access.DRIFT_WORKFLOW}
    assert list(DOCS[access.PREVIEW_WORKFLOW]["on"]) == ["pull_request"]
    assert sorted(DOCS[access.DRIFT_WORKFLOW]["on"]) == ["schedule", "workflow_dispatch"]
    for name, job_name in ((access.PREVIEW_WORKFLOW, "preview"), (access.DRIFT_WORKFLOW, "drift")):
        # context environment:preview-<stack>: the job that assumes the role is in the stack's preview
        # environment, and the job that holds a write token (comment, issue) is in none and assumes nothing.
        for other_name, job in jobs(name).items():
            assert job.get("environment") == ("preview-${{ matrix.stack }}" if other_name == job_name else None)
            assert ("vars[matrix.role]" in str(job)) == (other_name == job_name)
    prod = " ".join(jobs("deploy.yml")["prod"]["if"].split())
    assert "github.ref == 'refs/heads/main'" in prod and access.PROD_REFS == ("refs/heads/main",)
    # The audit role: audit.yml on main, in no environment (context `ref:refs/heads/main`); the job that assumes
    # it picks it by `vars[matrix.role]`, the report job (the write token) assumes nothing.
    assert assuming("AWS_AUDIT_ROLE_ARN_") == {access.AUDIT_WORKFLOW}
    assert access.AUDIT_CONTEXT == "ref:refs/heads/main"
    assert sorted(DOCS[access.AUDIT_WORKFLOW]["on"]) == ["schedule", "workflow_dispatch"]
    for job_name, job in jobs(access.AUDIT_WORKFLOW).items():
        assert "environment" not in job, job_name
        assert ("vars[matrix.role]" in str(job)) == (job_name == "audit")


def test_the_pull_requests_code_never_runs_with_a_write_token() -> None:
    """The preview job runs the PR's program and pack: read-only role, no write token, and it hands over its
    output as an artifact. The comment job holds `pull-requests: write`, checks out the base commit, installs
    nothing and runs nothing but the base branch's comment tool on that artifact."""
    preview, comment = jobs("preview.yml")["preview"], jobs("preview.yml")["comment"]
    assert preview["permissions"] == {"contents": "read", "id-token": "write"}
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert comment["needs"] == "preview"
    upload = next(s for s in steps(preview) if "upload-artifact@" in str(s.get("uses", "")))
    assert upload["with"] == {"name": "preview-${{ matrix.stack }}", "path": "preview-result/", "retention-days": 3}
    checkout, download, post = steps(comment)
    assert checkout["with"] == {"ref": "${{ github.event.pull_request.base.sha }}", "persist-credentials": False}
    assert "download-artifact@" in download["uses"] and download["with"]["name"] == "preview-${{ matrix.stack }}"
    assert download["continue-on-error"] is True and post["if"] == "steps.result.outcome == 'success'"
    assert " ".join(post["run"].replace("\\\n", " ").split()) == (
        'EXIT_CODE="$(head -c 16 preview-result/exit-code)" python3 -m tools.ci.pr_comment '
        '--stack "$STACK" --output preview-result/output.txt'
    )
    assert "secrets." not in str(comment) and "setup" not in str(comment)
    assert "GH_TOKEN" not in str(preview) and "pr_comment" not in str(preview)


def test_drift_is_checked_daily_read_only_and_reported_without_running_the_program() -> None:
    drift, report = jobs("drift.yml")["drift"], jobs("drift.yml")["report"]
    assert DOCS["drift.yml"]["on"]["schedule"] == [{"cron": "17 5 * * *"}]
    (command,) = _pulumi_commands(runs(drift))
    assert command.endswith(' --refresh --expect-no-changes --diff --non-interactive > "$RUNNER_TEMP/output.txt" 2>&1')
    assert "pulumi up" not in runs(drift) and "pulumi refresh" not in runs(drift)
    assert drift["permissions"] == {"contents": "read", "id-token": "write"}
    assert drift["if"] == report["if"].removeprefix("always() && ") == "github.ref == 'refs/heads/main'"
    stacks = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
    assert sorted(i["stack"] for i in drift["strategy"]["matrix"]["include"]) == stacks
    assert sorted(report["strategy"]["matrix"]["stack"]) == stacks
    assert report["permissions"] == {"contents": "read", "issues": "write"} and report["needs"] == "drift"
    post = steps(report)[-1]
    assert " ".join(post["run"].replace("\\\n", " ").split()) == (
        'EXIT_CODE="$(head -c 16 drift-result/exit-code)" python3 -m tools.ci.drift_issue '
        '--stack "$STACK" --output drift-result/output.txt'
    )
    assert "setup" not in str(report) and "secrets." not in str(report)


def test_each_account_is_audited_daily_read_only_and_reported_without_running_the_audit() -> None:
    audit, report = jobs("audit.yml")["audit"], jobs("audit.yml")["report"]
    assert DOCS["audit.yml"]["on"]["schedule"] == [{"cron": "43 5 * * *"}]
    assert audit["permissions"] == {"contents": "read", "id-token": "write"}
    assert audit["if"] == report["if"].removeprefix("always() && ") == "github.ref == 'refs/heads/main'"
    accounts = sorted(p.name.split(".")[1] for p in (ROOT / "bootstrap").glob("Pulumi.*.yaml"))
    include = audit["strategy"]["matrix"]["include"]
    assert sorted(i["account"] for i in include) == accounts == sorted(report["strategy"]["matrix"]["account"])
    assert {i["account"]: i["role"] for i in include} == {a: f"AWS_AUDIT_ROLE_ARN_{a.upper()}" for a in accounts}
    # prod's config, the one `make plan-bootstrap` holds bootstrap to (every environment's allow-lists)
    assert {i["config"] for i in include} == {"prod"}
    assert '.venv/bin/ml-pipelines audit-account --live --config "policies/config/$CONFIG.json" --json' in runs(audit)
    assert "pulumi" not in runs(audit)
    assert report["permissions"] == {"contents": "read", "issues": "write"} and report["needs"] == "audit"
    post = steps(report)[-1]
    assert " ".join(post["run"].replace("\\\n", " ").split()) == (
        'EXIT_CODE="$(head -c 16 audit-result/exit-code)" python3 -m tools.ci.audit_issue '
        '--account "$ACCOUNT" --result audit-result/result.json'
    )
    assert "setup" not in str(report) and "secrets." not in str(report) and "secrets." not in str(audit)
