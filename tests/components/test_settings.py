"""Settings: every stack file is valid, and each kind of bad value is one clear line naming file and key."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.settings import SettingsError, StackSettings, parse_settings
from tests.conftest import ROOT, STACKS
from tools.mock_runtime.program import Resource, run_program

PROJECT = "ml-pipelines"
FILE = "stacks/Pulumi.dev.yaml"
BASE: dict[str, Any] = yaml.safe_load((ROOT / FILE).read_text())["config"]


def engine_view(config: dict[str, Any]) -> dict[str, str]:
    """Config as the engine passes it to the program: strings, structured values as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def settings_with(change: Callable[[dict[str, Any]], None], stack: str = "dev") -> StackSettings:
    config = copy.deepcopy(BASE)
    change(config)
    return parse_settings(PROJECT, stack, engine_view(config), FILE)


def pipeline(config: dict[str, Any]) -> dict[str, Any]:
    return config["ml-pipelines:pipelines"][0]


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_is_valid(stack: str) -> None:
    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    settings = parse_settings(PROJECT, stack, engine_view(config), f"stacks/Pulumi.{stack}.yaml")
    assert settings.pipelines and settings.tags


def test_defaults_are_documented_values() -> None:
    settings = settings_with(lambda c: [c.pop(k) for k in ("ml-pipelines:logLevel", "ml-pipelines:logRetentionDays")])
    assert (settings.log_level, settings.log_retention_days, settings.alarm_emails) == ("ERROR", 30, [])
    tumor = settings_with(lambda c: pipeline(c).pop("retry")).pipelines[0]
    assert (tumor.deployment.enabled, tumor.schedule, tumor.quality_gate.direction) == (
        False,
        None,
        "higher-is-better",
    )
    assert (tumor.retry.interval_seconds, tumor.retry.max_attempts, tumor.retry.backoff_rate) == (30, 3, 2.0)


def test_scalar_strings_from_the_engine_are_converted() -> None:
    settings = settings_with(
        lambda c: c.update({"ml-pipelines:tracing": "false", "ml-pipelines:logRetentionDays": "90"})
    )
    assert settings.tracing is False
    assert settings.log_retention_days == 90


BAD_VALUES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "typo at the top",
        lambda c: c.update({"ml-pipelines:logLevl": "ALL"}),
        "ml-pipelines:logLevl: unknown key (a typo?)",
    ),
    (
        "typo nested",
        lambda c: pipeline(c)["training"].update(instanceTyp="ml.m5.large"),
        "ml-pipelines:pipelines[0].training.instanceTyp: unknown key (a typo?)",
    ),
    (
        "log level",
        lambda c: c.update({"ml-pipelines:logLevel": "DEBUG"}),
        "ml-pipelines:logLevel: got 'DEBUG'; accepted: 'ALL', 'ERROR', 'FATAL' or 'OFF'",
    ),
    (
        "retention",
        lambda c: c.update({"ml-pipelines:logRetentionDays": 42}),
        "ml-pipelines:logRetentionDays: 42 is not a CloudWatch Logs retention; accepted: [1, 3, 5, 7, 14, 30, 60, 90, "
        "120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
    ),
    (
        "training instance type (botocore's SageMaker model)",
        lambda c: pipeline(c)["training"].update(instanceType="ml.m5.huge"),
        "ml-pipelines:pipelines[0].training.instanceType: 'ml.m5.huge' is not a SageMaker training instance type "
        "(e.g. ml.m5.xlarge)",
    ),
    (
        "image outside ECR",
        lambda c: pipeline(c)["processing"].update(image="docker.io/library/python:3"),
        "ml-pipelines:pipelines[0].processing.image: 'docker.io/library/python:3' is not an ECR image URI "
        "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>)",
    ),
    (
        "missing gate",
        lambda c: pipeline(c).pop("qualityGate"),
        "ml-pipelines:pipelines[0].qualityGate: required key is missing",
    ),
    (
        "hyperparameter not a string",
        lambda c: pipeline(c)["training"]["hyperparameters"].update(epochs=5),
        "ml-pipelines:pipelines[0].training.hyperparameters: "
        "hyperparameter 'epochs' must be a string (quote it), got 5",
    ),
    (
        "pipeline name",
        lambda c: pipeline(c).update(name="Tumor_1"),
        "ml-pipelines:pipelines[0].name: "
        "'Tumor_1' must be lower-case letters, digits and dashes, starting with a letter",
    ),
    (
        "name too long with the stack",
        lambda c: pipeline(c).update(name="customer-lifetime-val"),
        "ml-pipelines:pipelines[0].name: 'customer-lifetime-val' with stack 'dev' makes the prefix "
        "'customer-lifetime-val-dev' (25 characters); at most 23, as SageMaker job names are limited to 63",
    ),
    (
        "duplicate pipelines",
        lambda c: c["ml-pipelines:pipelines"].append(copy.deepcopy(pipeline(c))),
        "ml-pipelines:pipelines: pipeline names must be unique; repeated: ['tumor']",
    ),
    (
        "boolean",
        lambda c: c.update({"ml-pipelines:tracing": "maybe"}),
        "ml-pipelines:tracing: expected a valid boolean; got 'maybe'",
    ),
    (
        "threshold",
        lambda c: pipeline(c)["qualityGate"].update(threshold="high"),
        "ml-pipelines:pipelines[0].qualityGate.threshold: expected a valid number; got 'high'",
    ),
    (
        "e-mail",
        lambda c: c.update({"ml-pipelines:alarmEmails": ["oncall"]}),
        "ml-pipelines:alarmEmails: 'oncall' is not an e-mail address",
    ),
    (
        "JSON",
        lambda c: c.update({"ml-pipelines:tags": "{owner: x"}),
        "ml-pipelines:tags: not valid JSON (Expecting property name enclosed in double quotes)",
    ),
    (
        "schedule",
        lambda c: pipeline(c).update(schedule={"expression": "every day"}),
        "ml-pipelines:pipelines[0].schedule.expression: 'every day' is not a schedule expression "
        "(rate(...), cron(...) or at(...))",
    ),
    (
        "retries cannot be switched off",
        lambda c: pipeline(c)["retry"].update(maxAttempts=0),
        "ml-pipelines:pipelines[0].retry.maxAttempts: expected greater than or equal to 1; got 0",
    ),
    (
        "no tags",
        lambda c: c.update({"ml-pipelines:tags": {}}),
        "ml-pipelines:tags: at least one tag is required (e.g. owner, cost-center)",
    ),
    (
        "no pipelines",
        lambda c: c.update({"ml-pipelines:pipelines": []}),
        "ml-pipelines:pipelines: at least 1 required; got 0",
    ),
    (
        "no inference container (nothing silently reuses training's)",
        lambda c: pipeline(c).pop("inference"),
        "ml-pipelines:pipelines[0].inference: required key is missing",
    ),
    (
        "endpoint settings where they used to be",
        lambda c: pipeline(c).update(deployment={"enabled": True, "instanceType": "ml.m5.large"}),
        "ml-pipelines:pipelines[0].deployment: instanceType moved to the pipeline's inference settings "
        "(inference.instanceType, inference.instanceCount)",
    ),
    (
        "an approval status a new version cannot start with",
        lambda c: pipeline(c).update(registry={"initialApprovalStatus": "Rejected"}),
        "ml-pipelines:pipelines[0].registry.initialApprovalStatus: got 'Rejected'; accepted: 'Approved' or "
        "'PendingManualApproval'",
    ),
    (
        "a deployment that ends before its rollback window",
        lambda c: pipeline(c).update(
            deployment={"enabled": True, "maxWaitSeconds": 600, "rollbackAlarmWindowSeconds": 600}
        ),
        "ml-pipelines:pipelines[0].deployment: maxWaitSeconds (600) must exceed rollbackAlarmWindowSeconds (600): "
        "the update is watched that long before it ends",
    ),
    (
        "a container variable name SageMaker refuses",
        lambda c: pipeline(c)["inference"].update(environment={"LOG-LEVEL": "info"}),
        "ml-pipelines:pipelines[0].inference.environment: 'LOG-LEVEL' is not an environment variable name "
        "([a-zA-Z_][a-zA-Z0-9_]*)",
    ),
]


@pytest.mark.parametrize(("change", "message"), [case[1:] for case in BAD_VALUES], ids=[case[0] for case in BAD_VALUES])
def test_bad_value_is_one_line_naming_file_key_and_what_is_accepted(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(change)
    assert str(caught.value) == f"{FILE}: {message}"
    assert "\n" not in str(caught.value)


def test_secret_settings_are_refused() -> None:
    with pytest.raises(
        SettingsError,
        match=r"^stacks/Pulumi.dev.yaml: ml-pipelines:logLevel: no setting of this project is secret",
    ):
        parse_settings(PROJECT, "dev", engine_view(BASE), FILE, frozenset({"ml-pipelines:logLevel"}))


def test_the_providers_namespaces_are_accepted() -> None:
    settings = settings_with(lambda c: c.update({"aws:profile": "sandbox", "pulumi:tags": {"team": "ml"}}))
    assert settings.pipelines[0].name == "tumor"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c.update({"ml-pipeline:logLevel": "ALL"}),
            "ml-pipeline:logLevel: 'ml-pipeline' is neither this project's namespace nor a provider's (did you mean "
            "'ml-pipelines'?); accepted: ml-pipelines, aws, pulumi",
        ),
        (
            lambda c: c.update({"other-project:thing": "1"}),
            "other-project:thing: 'other-project' is neither this project's namespace nor a provider's; accepted: "
            "ml-pipelines, aws, pulumi",
        ),
        (
            lambda c: c.update({"aws:region": "eu-west-9"}),
            "aws:region: 'eu-west-9' is not an AWS region (did you mean 'eu-west-3'?)",
        ),
        (
            lambda c: pipeline(c)["qualityGate"].update(threshold=6),
            "ml-pipelines:pipelines[0].qualityGate.threshold: 6 is out of range for auc, which lies in [0, 1]; "
            "no model could pass",
        ),
        (
            lambda c: c.update({"ml-pipelines:tags": {f"t{i}": "x" for i in range(50)}}),
            "ml-pipelines:tags: 50 tags; at most 49 (AWS accepts 50 on a resource, and the jobs carry one more: "
            "execution-arn)",
        ),
    ],
    ids=["a namespace typo", "another project's key", "a region no partition has", "an AUC of 6", "51 tags"],
)
def test_strict_stack_files(change: Callable[[dict[str, Any]], None], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(change)
    assert str(caught.value) == f"{FILE}: {message}"


def test_a_bad_stack_file_stops_the_program_before_any_resource(tmp_path: Path) -> None:
    for item in ("Pulumi.yaml", "__main__.py", "components", "functions", "stacks", "workloads"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / item)
    stack_file = tmp_path / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("logLevel: ALL", "logLevel: VERBOSE"))
    recorded: list[Resource] = []
    with pytest.raises(SettingsError) as caught:
        run_program(tmp_path, "dev", recorded=recorded)
    assert str(caught.value) == (
        "stacks/Pulumi.dev.yaml: ml-pipelines:logLevel: got 'VERBOSE'; accepted: 'ALL', 'ERROR', 'FATAL' or 'OFF'"
    )
    # Only the root stack, which the language host registers before the program runs.
    assert [r.type for r in recorded] == ["pulumi:pulumi:Stack"]


def test_a_project_name_too_long_for_the_bucket_name_is_one_line(tmp_path: Path) -> None:
    for item in ("Pulumi.yaml", "__main__.py", "components", "functions", "stacks", "workloads"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / item)
    project = "p" * 40  # a fork's name: the stack files keep their settings under it
    for path in [tmp_path / "Pulumi.yaml", *(tmp_path / "stacks").glob("Pulumi.*.yaml")]:
        path.write_text(path.read_text().replace("ml-pipelines", project))
    with pytest.raises(pulumi.RunError) as caught:
        run_program(tmp_path, "dev")
    assert str(caught.value).startswith(f"stacks/Pulumi.dev.yaml: bucket name '{project}-dev-")
    assert str(caught.value).endswith("is longer than S3's 63 characters; shorten the project name or 'dev'")
