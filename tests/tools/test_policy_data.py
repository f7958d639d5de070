"""The pack's data files match what the installed packages say today."""

from __future__ import annotations

from tools import policy_data


def test_the_committed_policy_data_is_fresh(capsys) -> None:  # type: ignore[no-untyped-def]
    # Fails when moto's managed-policy documents or pulumi_aws's resource types changed after an upgrade:
    # run `python -m tools.policy_data` and review the diff.
    assert policy_data.main(["--check"]) == 0, capsys.readouterr().err


def test_the_named_aws_managed_policies_are_known_to_grant_full_sagemaker() -> None:
    import json

    data = json.loads(policy_data.MANAGED.read_text())["policies"]
    assert {"AmazonSageMakerFullAccess", "PowerUserAccess", "AdministratorAccess"} <= set(data)
    assert "AmazonSageMakerReadOnly" not in data
