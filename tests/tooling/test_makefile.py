"""The CLI targets say in one line what is missing, instead of failing somewhere inside pulumi."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    """Our message; make itself adds a `make: *** [...] Error 2` trailer after it."""
    return result.stderr.splitlines()[0]


@pytest.mark.parametrize("target", ["preview", "up"])
def test_cli_targets_without_the_cli_fail_with_one_line(target: str) -> None:
    result = make(target, "STACK=prod", "PULUMI=pulumi-cli-not-installed")
    assert result.returncode == 2
    assert first_line(result) == (
        "error: the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/); 'make test' needs no CLI"
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
    assert {"install", "test", "lint", "fmt", "typecheck", "preview", "up"} <= listed
