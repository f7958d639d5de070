"""The pack's data files match what the installed packages say today."""

from __future__ import annotations

import pytest

from policies.access import catalog
from tools import policy_data


@pytest.mark.data
def test_the_committed_policy_data_is_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    # Fails when moto's managed-policy documents or pulumi_aws's resource types changed after an upgrade:
    # run `python -m tools.policy_data` and review the diff.
    assert policy_data.main(["--check"]) == 0, capsys.readouterr().err


def test_the_managed_policy_snapshot_has_the_documents_the_pack_judges() -> None:
    assert catalog.managed_snapshot() == "2026-09-30"
    assert catalog.aws_managed_document("AWSDenyAll") is not None
    assert catalog.aws_managed_document("amazonsagemakerfullaccess") is not None  # IAM names: any case
    assert catalog.aws_managed_document("NoSuchPolicy") is None


def test_where_aws_overrides_pulumi_aws_botocore_says_so() -> None:
    """Each input `AWS_SAYS` reads otherwise than pulumi_aws documents it: AWS's own model of the API says what it
    holds (an instance profile, by short name or ARN, for Batch's instanceRole)."""
    import re

    import botocore.session

    member = botocore.session.get_session().get_service_model("batch").shape_for("ComputeResource").members
    documentation = re.sub(r"<[^>]+>", "", member["instanceRole"].documentation)
    assert "instance profile" in documentation and "short name or full Amazon Resource Name" in documentation
    batch = policy_data.AWS_SAYS["aws:batch/computeEnvironment:ComputeEnvironment"]
    assert batch == {"computeresources.instancerole": "profile-name"}
