"""The CLI targets say in one line what is missing, instead of failing somewhere inside pulumi."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No AWS credentials anywhere (an empty home), no passphrase, no backend: a fresh laptop."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true", **extra}


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    """Our message; make itself adds a `make: *** [...] Error 2` trailer after it."""
    return result.stderr.splitlines()[0]


@pytest.mark.parametrize("target", ["preview", "policy", "up", "refresh", "destroy"])
def test_cli_targets_without_the_cli_fail_with_one_line(target: str) -> None:
    result = make(target, "STACK=prod", "PULUMI=pulumi-cli-not-installed")
    assert result.returncode == 2
    assert first_line(result) == (
        "error: the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/); 'make plan' checks the stacks "
        "and their policies offline, with no CLI"
    )


def test_cli_targets_name_the_missing_stack_file() -> None:
    result = make("preview", "STACK=qa", "PULUMI=true")
    assert result.returncode == 2
    assert first_line(result) == "error: stacks/Pulumi.qa.yaml does not exist (stacks: dev prod staging)"


def test_cli_targets_need_a_stack() -> None:
    result = make("up", "PULUMI=true")
    assert result.returncode == 2
    assert first_line(result) == "error: name a stack: make up STACK=<dev|prod|staging>"


def test_help_lists_every_documented_target() -> None:
    listed = {line.split()[0] for line in make("help").stdout.splitlines() if line.strip()}
    assert {
        "install",
        "test",
        "test-fast",
        "test-data",
        "lint",
        "fmt",
        "typecheck",
        "pre-commit",
        "plan",
        "plan-bootstrap",
        "simulate",
        "preview",
        "policy",
        "up",
        "refresh",
        "destroy",
    } <= listed


@pytest.mark.parametrize("target", ["preview", "policy", "up", "refresh", "destroy"])
def test_cli_targets_without_credentials_fail_with_one_line(target: str, tmp_path: Path) -> None:
    result = make(target, "STACK=dev", "PULUMI=true", env=bare_env(tmp_path))
    assert result.returncode == 2
    assert first_line(result) == (
        "error: no AWS credentials (set AWS_PROFILE, run 'aws sso login', or export "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); 'make plan' needs none"
    )


def test_local_backend_needs_a_passphrase(tmp_path: Path) -> None:
    env = bare_env(tmp_path, AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="example")
    result = make("up", "STACK=dev", "PULUMI=true", env=env)
    assert result.returncode == 2
    assert first_line(result) == (
        f"error: the local backend (file://{ROOT}/.pulumi-state) encrypts secrets with a passphrase: "
        "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"
    )


@pytest.mark.parametrize(
    ("target", "commands"),
    [
        ("preview", ["stack select --create dev", "preview --stack dev --diff"]),
        (
            "policy",
            [
                "stack select --create dev",
                "preview --stack dev --diff --policy-pack policies --policy-pack-config policies/config/dev.json",
            ],
        ),
        (
            "up",
            [
                "stack select --create dev",
                "up --stack dev --policy-pack policies --policy-pack-config policies/config/dev.json",
            ],
        ),
        ("refresh", ["refresh --stack dev"]),
        ("destroy", ["destroy --stack dev"]),
    ],
)
def test_cli_targets_run_these_commands_on_the_local_backend(target: str, commands: list[str], tmp_path: Path) -> None:
    """With PULUMI=echo the targets print the CLI calls they would make, under the backend they export."""
    env = bare_env(tmp_path, AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="example")
    env["PULUMI_CONFIG_PASSPHRASE"] = "example"
    result = make("-s", target, "STACK=dev", "PULUMI=echo", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == commands
    backend = make("-s", "--eval=show:\n\t@echo $$PULUMI_BACKEND_URL", "show", env=env)
    assert backend.stdout.strip() == f"file://{ROOT}/.pulumi-state"
