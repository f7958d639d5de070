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


OWN_PROGRAM = """\
import json
import pulumi_aws as aws

trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "sagemaker.amazonaws.com"}}]}
role = aws.iam.Role("trainer", name="trainer", assume_role_policy=json.dumps(trust),
                    tags={"owner": "ml", "cost-center": "42", "environment": "prod"})
aws.iam.RolePolicy("everything", role="trainer", policy=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}))
"""


def test_init_writes_a_starting_config_a_user_runs_the_pack_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/policies.md, "Run the pack on your own program", step by step: the config has prod's levels, the
    user's accounts wherever a policy takes allowed accounts and nothing of this project; the offline preview
    run with it stops the headline grant (sagemaker:* on *) in the user's program."""
    from tests.conftest import ROOT
    from tools.offline_preview.__main__ import main as preview

    program = tmp_path / "my-program"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: my-program\nruntime: python\n")
    # Step 1: the stack file names its account, as the AWS provider takes it.
    (program / "Pulumi.prod.yaml").write_text(
        'config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ["111122223333"]\n'
    )
    (program / "__main__.py").write_text(OWN_PROGRAM)
    monkeypatch.chdir(tmp_path)
    assert pack_config.main(["--init", "--cwd", "my-program", "--account", "111122223333"]) == 0
    written = program / "pack-config.json"
    assert capsys.readouterr().out == f"wrote {written}: prod's levels, accounts 111122223333\n"
    config = json.loads(written.read_text())
    prod = json.loads(pack_config.PROD_CONFIG.read_text())
    assert config["all"] == prod["all"] == "mandatory"
    assert config["notifications-reach-someone"] == "advisory"
    with_accounts = {name for name, entry in config.items() if isinstance(entry, dict) and "allowedAccounts" in entry}
    assert with_accounts >= {"resource-policies-not-public", "iam-trust-restricted", "iam-no-privilege-escalation"}
    for name in with_accounts:
        assert config[name]["allowedAccounts"] == ["111122223333"], name
    assert "123456789012" not in written.read_text() and "tumor" not in written.read_text()
    assert "example-org" not in written.read_text()  # nor this project's repository
    code = preview(
        ["--cwd", str(program), "--stack", "prod", "--policy-pack", str(ROOT / "policies"),
         "--policy-pack-config", "pack-config.json", "--preview", "--json"]
    )  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    mandatory = {v["policyName"] for v in document["policyViolations"] if v["enforcementLevel"] == "mandatory"}
    assert "sagemaker-no-full-access-in-prod" in mandatory
    # Its examples are in the user's account and region, never in another account.
    messages = " ".join(v["message"] for v in document["policyViolations"])
    assert ":eu-west-1:111122223333:" in messages and "123456789012" not in messages
    # ...and never over a file already there
    assert pack_config.main(["--init", "--cwd", "my-program", "--account", "111122223333"]) == 2
    assert capsys.readouterr().err == (
        f"error: {written}: already exists; remove it or name another file with --output\n"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--account", "111122223333"],
            "error: --init needs --cwd PROGRAM: the folder of the Pulumi program the config is for\n",
        ),
        (["--cwd", "."], "error: --init needs --account ID (each AWS account the program deploys to, 12 digits)\n"),
        (["--cwd", ".", "--account", "1234"], "error: --account '1234': an AWS account ID is 12 digits\n"),
        (
            ["--cwd", ".", "--account", "111122223333", "--organization", "org-1"],
            "error: --organization 'org-1': an organization ID is o- and 10 to 32 [a-z0-9]\n",
        ),
    ],
)
def test_init_refuses_bad_input_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    monkeypatch.chdir(tmp_path)
    assert pack_config.main(["--init", *args]) == 2
    assert capsys.readouterr().err == error
    assert not (tmp_path / "pack-config.json").exists()


def test_init_says_when_a_stack_file_names_no_account(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without aws:allowedAccountIds the offline preview runs the program in a stand-in account, which the
    user's config does not allow: every ARN built from the caller's identity would be refused."""
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text("")
    assert pack_config.main(["--init", "--cwd", str(tmp_path), "--account", "111122223333"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        f"note: {tmp_path / 'Pulumi.prod.yaml'} sets no aws:allowedAccountIds: the offline preview runs it in "
        'account 123456789012, which this config does not allow; add aws:allowedAccountIds: ["111122223333"] to '
        "its config (docs/policies.md, step 1)"
    )
