"""components/arns.py: every name a pipeline's IAM is scoped by, and the ARNs built from them."""

from __future__ import annotations

import dataclasses

import pytest

from components import arns
from components.arns import AwsContext, PipelineNames

CTX = AwsContext(partition="aws", region="eu-west-1", account_id="123456789012")
GOV = AwsContext(partition="aws-us-gov", region="us-gov-west-1", account_id="123456789012")


def test_every_name_of_a_pipeline_carries_its_prefix() -> None:
    """The deploy roles are scoped to `<pipeline>-<stack>*` names: a name without the prefix would be out of
    their reach (or, worse, shared with another pipeline)."""
    names = PipelineNames.of("tumor", "prod")
    found = {
        field: getattr(names, field)
        for field in dir(PipelineNames)
        if isinstance(getattr(PipelineNames, field), property)
    }
    assert len(found) >= 18
    for field, value in found.items():
        for name in value if isinstance(value, tuple) else (value,):
            assert name.startswith("tumor-prod") or "/tumor-prod" in name, (field, name)


@pytest.mark.parametrize(
    ("name", "stack", "prefix"),
    [
        ("tumor-dev", "dev", "tumor-dev"),
        ("tumor-dev-deploy", "dev", "tumor-dev"),
        ("tumor-staging", "dev", None),
        ("tumor-dev-deploy", "staging", None),
        ("fraud-eu-prod-deploy", "prod", "fraud-eu-prod"),
    ],
)
def test_a_state_machine_name_names_its_pipeline(name: str, stack: str, prefix: str | None) -> None:
    assert arns.pipeline_of_state_machine(name, stack) == prefix
    if prefix is not None:
        assert name in (PipelineNames(prefix).state_machine, PipelineNames(prefix).deploy_state_machine)


def test_arns_follow_the_partition_and_leave_out_what_the_service_leaves_out() -> None:
    assert arns.role_arn(GOV, "r") == "arn:aws-us-gov:iam::123456789012:role/r"  # IAM: no region
    assert arns.policy_arn(CTX, "p") == "arn:aws:iam::123456789012:policy/p"
    assert arns.s3_bucket_arn(CTX, "b") == "arn:aws:s3:::b"  # S3: neither region nor account
    assert arns.state_machine_arn(CTX, "m") == "arn:aws:states:eu-west-1:123456789012:stateMachine:m"
    assert arns.log_group_arn(CTX, "/aws/x") == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/x"
    assert arns.events_rule_arn(CTX, "r") == "arn:aws:events:eu-west-1:123456789012:rule/r"
    # SageMaker lower-cases names in its ARNs: a policy naming the mixed-case ARN would match nothing.
    assert arns.sagemaker_arn(CTX, "training-job", "Tumor-Prod-1") == (
        "arn:aws:sagemaker:eu-west-1:123456789012:training-job/tumor-prod-1"
    )


def test_the_console_link_is_the_partitions_console() -> None:
    assert arns.console_url(GOV, "m").startswith("https://us-gov-west-1.console.amazonaws-us-gov.com/states/")
    assert arns.console_url(CTX, "m").endswith("#/statemachines/view/" + arns.state_machine_arn(CTX, "m"))


def test_the_bucket_name_is_unique_per_account_and_region_and_fits_s3() -> None:
    assert arns.artifacts_bucket_name("ML-Pipelines", "dev", CTX) == "ml-pipelines-dev-123456789012-eu-west-1"
    longest = "s" * (63 - len("ml-pipelines--123456789012-eu-west-1"))
    assert len(arns.artifacts_bucket_name("ml-pipelines", longest, CTX)) == 63
    with pytest.raises(ValueError, match="longer than S3's 63 characters; shorten the project name or 'sss"):
        arns.artifacts_bucket_name("ml-pipelines", longest + "s", CTX)
    assert arns.bucket_name("ml-pipelines", "state-logs", CTX) == "ml-pipelines-state-logs-123456789012-eu-west-1"


def test_contexts_are_values() -> None:
    """Names are derived, never stored: two equal contexts build the same ARNs, and none can be changed."""
    assert AwsContext("aws", "eu-west-1", "123456789012") == CTX
    with pytest.raises(dataclasses.FrozenInstanceError):
        CTX.region = "us-east-1"  # type: ignore[misc]
