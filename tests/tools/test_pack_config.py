"""prod's pack config names exactly the pipelines' resources bootstrap's deploy roles manage (tools/pack_config)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import pack_config


def test_prod_config_is_in_step_with_the_stack_files() -> None:
    assert pack_config.main(["--check"]) == 0


def test_a_stale_list_is_one_line_naming_the_file_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = json.loads(pack_config.PROD_CONFIG.read_text())
    config["iam-passrole-scoped"]["allowedRoles"].append("OrganizationAccountAccessRole")
    stale = tmp_path / "policies" / "config" / "prod.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps(config))
    monkeypatch.setattr(pack_config, "ROOT", tmp_path)
    monkeypatch.setattr(pack_config, "PROD_CONFIG", stale)
    assert pack_config.main(["--check"]) == 1
    assert capsys.readouterr().err == (
        "error: policies/config/prod.json: allowedRoles / deployedResources differ from the stack files; "
        "run: python -m tools.pack_config\n"
    )
    assert pack_config.main([]) == 0
    rewritten = json.loads(stale.read_text())
    assert "OrganizationAccountAccessRole" not in rewritten["iam-passrole-scoped"]["allowedRoles"]
    assert rewritten["resource-policies-not-public"] == config["resource-policies-not-public"]


def test_names_come_from_every_stack_file_and_are_never_patterns() -> None:
    roles, resources = pack_config.deployed()
    assert "tumor-prod-sfn" in roles and "tumor-dev-sagemaker" in roles
    assert {"lambda:function:tumor-prod-evaluate", "states:stateMachine:tumor-prod"} <= set(resources)
    assert not any("*" in n or "?" in n for n in resources)
    assert {f"iam:role/{role}" for role in roles} <= set(resources)
