"""The local run: dev's pipeline trained on the real dataset, gated by the definition's own Choice, served
through the workload's handler; a rejected model, a broken script and bad input, each as a user sees them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import settings_of_stack_file
from tests.conftest import ROOT
from tools.run_local.__main__ import main, version_notes

WORKLOAD = ROOT / "workloads" / "breast-cancer"


def test_dev_trains_a_model_that_passes_the_gate_and_serves_predictions(local_run: dict[str, Any]) -> None:
    assert local_run["code"] == 0
    assert local_run["stack"] == "dev"
    [pipeline] = local_run["pipelines"]
    assert (pipeline["pipeline"], pipeline["metric"], pipeline["threshold"], pipeline["gate"]) == (
        "tumor",
        "auc",
        0.6,
        "passed",
    )
    # A real model on real data: far above chance, and not a constant.
    assert 0.9 < pipeline["value"] <= 1.0
    predictions = pipeline["predictions"]
    assert len(predictions) == 5
    assert all(p["label"] in (0, 1) and 0.0 <= p["probability"] <= 1.0 for p in predictions)
    assert all(p["label"] == int(p["probability"] >= 0.5) for p in predictions)
    # In the state machine's order, each with its time (and the containers with their memory).
    steps = [s["name"] for s in pipeline["steps"]]
    assert steps == ["Preprocess", "Train", "Evaluate", "ReadMetric", "QualityGate", "Serve"]
    assert all(s["seconds"] >= 0 for s in pipeline["steps"])
    assert all(s["peakMemoryMB"] > 10 for s in pipeline["steps"] if s["name"] in ("Preprocess", "Train", "Serve"))


def _project(tmp_path: Path) -> Path:
    """A copy of the project's files the local run reads: the project, its stack files and the workloads."""
    for file in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / file, tmp_path / file)
    for folder in ("stacks", "workloads"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _set_threshold(project: Path, stack: str, threshold: float) -> None:
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["ml-pipelines:pipelines"][0]["qualityGate"]["threshold"] = threshold
    path.write_text(yaml.safe_dump(document))


def test_a_threshold_no_model_reaches_is_rejected_where_the_state_machine_rejects_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    _set_threshold(project, "dev", 1.0)  # AUC 1.0 would take a perfect model; this one is not
    code = main(["--stack", "dev", "--cwd", str(project)])
    out = capsys.readouterr().out
    assert code == 1
    assert "REJECTED auc 0.99" in out and "the gate wants 1.0 (the state machine ends in ModelRejected)" in out
    assert "Serve" not in out  # nothing is registered, so nothing is served


def test_a_broken_script_fails_its_step_with_the_scripts_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    train = project / "workloads" / "breast-cancer" / "train.py"
    train.write_text(
        train.read_text().replace(
            "    train_x, train_y = load_channel(args.train)\n", "    raise ValueError('broken on purpose')\n"
        )
    )
    code = main(["--stack", "dev", "--cwd", str(project), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    [pipeline] = result["pipelines"]
    assert pipeline["gate"] == "failed"
    assert pipeline["error"]["step"] == "Train"
    assert pipeline["error"]["message"] == "training job, train.py failed: ValueError: broken on purpose"
    assert [s["name"] for s in pipeline["steps"]] == ["Preprocess"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "qa"], "stacks/Pulumi.qa.yaml: no such stack file (stacks: dev, prod, staging)"),
        (["--stack", "dev", "--pipeline", "fraud"], "--pipeline: the stack dev has no pipeline 'fraud'"),
        (["--stack", "dev", "--data", "missing.csv"], "--data: missing.csv: no such file"),
        (["--stack", "dev", "--rows", "0"], "--rows: 0; at least 1"),
        (["--pipeline", "tumor"], "the following arguments are required: --stack"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and err.rstrip().endswith(message)


def test_a_stack_without_example_data_asks_for_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    path = project / "stacks" / "Pulumi.prod.yaml"
    document = yaml.safe_load(path.read_text())
    del document["config"]["ml-pipelines:pipelines"][0]["exampleData"]
    path.write_text(yaml.safe_dump(document))
    assert main(["--stack", "prod", "--cwd", str(project)]) == 2
    assert capsys.readouterr().err == (
        "error: the pipeline tumor of prod has no exampleData: pass --data FILE (a raw CSV)\n"
    )


def test_a_library_version_other_than_the_images_is_said_in_one_line() -> None:
    settings = settings_of_stack_file("ml-pipelines", "dev", ROOT / "stacks" / "Pulumi.dev.yaml")
    pipeline = settings.pipelines[0]
    assert version_notes([pipeline]) == []  # scikit-learn 1.2.1 here, as in the 1.2-1 image
    older = pipeline.model_copy(update={"training": pipeline.training.model_copy(update={"version": "1.0-1"})})
    [note] = version_notes([older])
    assert note.startswith("note: scikit-learn 1.2.1 here, 1.0 in the sklearn 1.0-1 image (tumor training)")
    assert "\n" not in note
