"""`ml-pipelines` (ml_pipelines_cli.py, installed by `make install` / `make install-locked`): the offline
commands from any folder of the checkout, every path relative to the shell's folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ml_pipelines_cli import absolute, checkout
from tests.conftest import ROOT

COMMAND = ROOT / ".venv" / "bin" / "ml-pipelines"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(COMMAND), *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_the_command_is_installed_with_the_project() -> None:
    assert COMMAND.is_file(), "make install / make install-locked installs the ml-pipelines command"


def test_help_names_every_command() -> None:
    result = run("--help", cwd=ROOT / "components")
    assert result.returncode == 0
    for command in ("plan", "preview", "simulate", "pack-config", "explain", "run-local", "verify-github"):
        assert f"ml-pipelines {command}" in result.stdout


def test_from_a_subfolder_it_works_on_the_checkout() -> None:
    result = run("simulate", "--stack", "prod", "--list", cwd=ROOT / "components")
    assert result.returncode == 0, result.stderr
    assert "HappyPath: tumor-prod" in result.stdout.splitlines()


def test_plan_without_arguments_checks_every_stack_with_its_config(tmp_path: Path) -> None:
    sarif = tmp_path / "plan.sarif"
    result = run("plan", "--json", "--sarif", str(sarif), cwd=ROOT / "tests")
    assert result.returncode == 0, result.stderr
    assert [d["stack"] for d in json.loads(result.stdout)] == ["dev", "prod", "staging"]
    assert sarif.is_file()


def test_every_path_is_relative_to_the_shells_folder(tmp_path: Path) -> None:
    """`--policy-pack ../policies` from tests/ is the checkout's pack, not one beside `--cwd`."""
    result = run(
        "preview", "--cwd", "tools/offline_preview/fixtures/basic", "--stack", "dev", "--policy-pack", "../policies",
        "--policy-pack-config", "../policies/config/{stack}.json", "--sarif", "dev.sarif", "--json",
        cwd=ROOT / "tests",
    )  # fmt: skip
    try:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["stack"] == "dev"
        assert (ROOT / "tests" / "dev.sarif").is_file()
    finally:
        (ROOT / "tests" / "dev.sarif").unlink(missing_ok=True)


def test_outside_a_checkout_or_with_an_unknown_command_it_is_one_line(tmp_path: Path) -> None:
    outside = run("plan", cwd=tmp_path)
    assert outside.returncode == 2
    assert (
        outside.stderr
        == f"error: {tmp_path} is not inside a checkout of this project (no Pulumi.yaml with tools/ above)\n"
    )
    unknown = run("deploy", cwd=ROOT)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown command 'deploy' (one of plan, preview, simulate")


def test_path_options_are_made_absolute_and_the_rest_left_alone() -> None:
    here = Path("/work/x")
    assert absolute(["--cwd", "..", "--stack", "dev", "--sarif=out.sarif", "--json"], here) == [
        "--cwd", "/work/x/..", "--stack", "dev", "--sarif=/work/x/out.sarif", "--json",
    ]  # fmt: skip
    assert checkout(ROOT / "components") == ROOT


def test_the_offline_previews_answer_files_are_taken_from_the_shells_folder() -> None:
    """`ml-pipelines preview --cwd ../program --invoke-results answers.yaml`: the file beside the shell, as every
    path option of the command (the module itself would take it under --cwd, as the Pulumi CLI does)."""
    here = Path("/work/x")
    assert absolute(["--invoke-results", "a.yaml", "--stack-reference-outputs=b.yaml"], here) == [
        "--invoke-results", "/work/x/a.yaml", "--stack-reference-outputs=/work/x/b.yaml",
    ]  # fmt: skip
