"""AWS-owned images: the copy of the SageMaker SDK's data is the SDK's, URIs are built as the SDK builds them,
and a stack names a framework and version, or an image of its own, never a placeholder."""

from __future__ import annotations

import json
import re

import pytest

from components import images
from components.settings import SettingsError, image_repository, settings_of_stack_file
from tests.components.test_settings import FILE, pipeline, settings_with
from tests.conftest import ROOT, STACKS
from tools import image_data


def test_the_copy_is_the_installed_sdks_data() -> None:
    for framework in images.FRAMEWORKS:
        assert image_data.render(image_data.sdk_data(framework)) == (images.DATA_DIR / f"{framework}.json").read_text()


SKLEARN = "sagemaker-scikit-learn:1.2-1-cpu-py3"


@pytest.mark.parametrize(
    ("framework", "version", "region", "scope", "uri"),
    [
        # SageMaker developer guide, "Docker Registry Paths and Example Code", eu-west-1: account 141502667606.
        ("sklearn", "1.2-1", "eu-west-1", "training", f"141502667606.dkr.ecr.eu-west-1.amazonaws.com/{SKLEARN}"),
        ("sklearn", "1.2-1", "us-east-1", "inference", f"683313688378.dkr.ecr.us-east-1.amazonaws.com/{SKLEARN}"),
        ("sklearn", "1.2-1", "cn-north-1", "training", f"450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/{SKLEARN}"),
        (
            "xgboost",
            "1.7-1",
            "eu-west-1",
            "training",
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        ),
    ],
)
def test_uris_are_the_sdks(framework: str, version: str, region: str, scope: str, uri: str) -> None:
    assert images.image_uri(framework, version, region, scope=scope, instance_type="ml.m5.large") == uri


def test_every_region_the_sdk_knows_gets_its_own_accounts_image() -> None:
    data = json.loads((images.DATA_DIR / "sklearn.json").read_text())
    registries = data["training"]["versions"]["1.2-1"]["registries"]
    assert len(registries) > 30
    for region, account in registries.items():
        uri = images.image_uri("sklearn", "1.2-1", region, scope="training", instance_type="ml.m5.large")
        assert uri.startswith(f"{account}.dkr.ecr.{region}."), uri
        # ...and the program can name its repository in the execution role's policy.
        assert image_repository(uri) == (account, region, "sagemaker-scikit-learn")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: pipeline(c)["training"].update(version="9.9-9"),
            "ml-pipelines:pipelines[0].training.version: sklearn has no training image version '9.9-9'; accepted: "
            "0.20.0, 0.23-1, 1.0-1, 1.2-1, 1.4-2, 1.4-2-py312, 1.9-0",
        ),
        (
            lambda c: c.update({"aws:region": "ap-southeast-7"}),
            "ml-pipelines:pipelines[0].processing.version: sklearn 1.2-1 has no image in 'ap-southeast-7' (the "
            "SageMaker SDK's data names 37 regions); set image: to an image in your own ECR",
        ),
        (
            lambda c: pipeline(c)["inference"].update(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1"),
            "ml-pipelines:pipelines[0].inference: set either image (a container of your own) or framework and "
            "version, not both",
        ),
        (
            lambda c: pipeline(c)["training"].pop("version"),
            "ml-pipelines:pipelines[0].training: set framework and version (an AWS-owned image, e.g. sklearn 1.2-1) "
            "or image",
        ),
        (
            lambda c: pipeline(c)["training"].update(framework="pytorch"),
            "ml-pipelines:pipelines[0].training.framework: got 'pytorch'; accepted: 'sklearn' or 'xgboost'",
        ),
    ],
)
def test_a_framework_image_that_cannot_be_had_is_one_line(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as caught:
        settings_with(change)
    assert str(caught.value) == f"{FILE}: {message}"


def test_an_image_of_your_own_keeps_working() -> None:
    own = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud-train:1.0"
    settings = settings_with(
        lambda c: (
            pipeline(c)["training"].update(image=own)
            or [pipeline(c)["training"].pop(k) for k in ("framework", "version")]
        )
    )
    assert settings.pipelines[0].training.resolved_image() == own


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_use_aws_owned_images_of_their_region(stack: str) -> None:
    text = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    assert "111122223333" not in text
    settings = settings_of_stack_file("ml-pipelines", stack, ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    sdk = json.loads((images.DATA_DIR / "sklearn.json").read_text())
    for p in settings.pipelines:
        for step in (p.processing, p.training, p.evaluation, p.inference):
            assert step is not None and step.framework == "sklearn"
            account, region = re.match(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.", step.resolved_image()).groups()  # type: ignore[union-attr]
            assert account == sdk["training"]["versions"][step.version]["registries"][region]
