"""The workflow simulator: moto's internals it relies on, its harness behaviour, its files and its command."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tools.simulate import __main__ as cli
from tools.simulate import engine, expectations, mock_config

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:tiny"
ROLE = "arn:aws:iam::123456789012:role/tiny"
TINY = {
    "StartAt": "Train",
    "TimeoutSeconds": 15000,
    "States": {
        "Train": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "Parameters": {"TrainingJobName.$": "$.name"},
            "ResultSelector": {"arn.$": "$.TrainingJobArn"},
            "ResultPath": "$.training",
            "Retry": [
                {
                    "ErrorEquals": ["SageMaker.AmazonSageMakerException"],
                    "IntervalSeconds": 3600,
                    "MaxAttempts": 2,
                    "BackoffRate": 3,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Poll",
        },
        "Poll": {"Type": "Wait", "Seconds": 250, "Next": "Poll"},
        "Failed": {"Type": "Fail", "Error": "TinyFailed"},
    },
}
THROTTLED = {"Throw": {"Error": "SageMaker.AmazonSageMakerException", "Cause": "Rate exceeded"}}
TRAINED = {"Return": {"TrainingJobArn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/t"}}


def _config(responses: dict[str, Any], cases: dict[str, dict[str, str]] | None = None) -> mock_config.MockConfig:
    cases = cases if cases is not None else {"Case": {"Train": "Train"}}
    return mock_config.MockConfig.model_validate(
        {"StateMachines": {"tiny": {"TestCases": cases}}, "MockedResponses": responses}
    )


def _run(config: mock_config.MockConfig, case: str = "Case") -> engine.Execution:
    return engine.run(
        json.dumps(TINY),
        state_machine_arn=ARN,
        role_arn=ROLE,
        execution_name=case,
        execution_input={"name": "job"},
        test_case=config.test_case("tiny", case),
    )


# -- moto's internals: fail loudly when they move --------------------------------------------------------


def test_moto_is_the_pinned_version() -> None:
    pins = re.findall(r'"moto\[stepfunctions\]==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pins == [metadata.version("moto")], (
        "tools/simulate/engine.py wires moto's ASL engine internals; re-check them before changing the pin"
    )


def test_moto_internals_the_harness_wires() -> None:
    """Each name engine.py patches or calls, with the signature it relies on (moto 5.2.5)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_unsupported as unsupported,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend.execution_worker import SyncExecutionWorker
    from moto.stepfunctions.parser.mocking import mock_config as moto_mock_config

    assert list(inspect.signature(SyncExecutionWorker.__init__).parameters) == [
        "self",
        "evaluation_details",
        "exec_comm",
        "cloud_watch_logging_session",
        "activity_store",
        "mock_test_case",
    ]
    assert isinstance(unsupported._SUPPORTED_INTEGRATION_PATTERNS, set) and ResourceCondition.Sync == "sync"
    assert retrier_decl.time is time, "the retrier no longer sleeps through its module's `time`"
    assert list(inspect.signature(WaitFunction._wait_interval).parameters) == ["self", "env", "wait_seconds"]
    assert callable(Environment.is_mocked_mode) and callable(Environment.get_current_mocked_response)
    assert engine.UNMOCKED in inspect.getsource(Environment.get_current_mocked_response)
    # One parse per definition: the worker's entry point is the parser's program, built by its preprocessor.
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    entry = inspect.getsource(SyncExecutionWorker._get_evaluation_entrypoint)
    assert "AmazonStateLanguageParser.parse(" in entry and "[0]" in entry
    assert "program = preprocessor.visit(tree)" in inspect.getsource(AmazonStateLanguageParser.parse)
    assert callable(Preprocessor().visit)
    assert list(inspect.signature(moto_mock_config._mock_test_case_from_raw).parameters) == [
        "state_machine_name",
        "test_case_name",
        "raw_mock_config",
    ]


def test_the_engine_is_left_as_found() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_unsupported as unsupported,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    before = Environment.is_mocked_mode
    _run(_config({"Train": {"0-2": THROTTLED}}))
    assert "sync" not in unsupported._SUPPORTED_INTEGRATION_PATTERNS
    assert retrier_decl.time is time and Environment.is_mocked_mode is before


# -- the harness ---------------------------------------------------------------------------------------------


def test_sync_task_runs_mocked_with_retries_on_the_virtual_clock() -> None:
    execution = _run(_config({"Train": {"0-1": THROTTLED, "2": TRAINED}}))
    train, poll = execution.steps[0], execution.steps[1]
    assert (train.name, train.attempts, train.retry_delays) == ("Train", 3, [3600.0, 10800.0])
    assert train.failures == [("SageMaker.AmazonSageMakerException", "Rate exceeded")] * 2
    assert train.output == {
        "name": "job",
        "training": {"arn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/t"},
    }
    # The Wait loop polls every 250 s until the definition's 600 s are used up: the third wait crosses it.
    assert execution.states == ["Train", "Poll", "Poll", "Poll"] and poll.waited == 250.0
    assert execution.status == "TIMED_OUT"


def test_retries_exhausted_then_caught() -> None:
    execution = _run(_config({"Train": {"0-2": THROTTLED}}))
    assert execution.states == ["Train", "Failed"]
    assert execution.steps[0].attempts == 3
    assert (execution.status, execution.error) == ("FAILED", "TinyFailed")


def test_a_state_without_a_mock_is_an_error_not_a_call_to_aws() -> None:
    config = _config({"Train": {"0": TRAINED}}, {"Case": {}})
    with pytest.raises(engine.SimulationError) as raised:
        _run(config)
    assert str(raised.value) == (
        "test case Case of tiny: state Train is entered (attempt 1) but the test case has no mocked response for it"
    )


def test_an_attempt_beyond_the_mocked_ones_is_an_error() -> None:
    with pytest.raises(engine.SimulationError) as raised:
        _run(_config({"Train": {"0": THROTTLED}}))
    assert str(raised.value) == (
        "test case Case of tiny: state Train is entered (attempt 2) but the test case has no mocked response for it"
    )


# -- the files -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
        ('{"StateMachines": {}}', "MockedResponses: Field required"),
        (
            '{"StateMachines": {}, "MockedResponses": {"R": {"0": {}}}}',
            "MockedResponses.R.0: Value error, needs exactly one of Return or Throw",
        ),
        (
            '{"StateMachines": {"m": {"TestCases": {"C": {"S": "Nope"}}}}, "MockedResponses": {}}',
            "StateMachines.m.TestCases.C.S: no mocked response named 'Nope' in MockedResponses",
        ),
        (
            '{"StateMachines": {"m": {"TestCases": {"C": {"S": "R"}}}},'
            ' "MockedResponses": {"R": {"0": {"Return": 1}, "2": {"Return": 2}}}}',
            "m / C: Inconsistent event numbering detected for state 'S': the previous mocked response ended at "
            "event '0' while the next response 'R' starts at event '2'. Mock responses must be consecutively "
            "numbered. Expected the next response to begin at event 1.",
        ),
    ],
)
def test_mock_config_errors_are_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(content)
    with pytest.raises(engine.SimulationError) as raised:
        mock_config.load(path)
    assert str(raised.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("m:\n  C:\n    states: []\n", "m.C.status: Field required"),
        (
            "m:\n  C:\n    status: DONE\n    states: []\n",
            "m.C.status: Input should be 'SUCCEEDED', 'FAILED', 'TIMED_OUT' or 'ABORTED'",
        ),
        (
            "m:\n  C:\n    status: FAILED\n    states: []\n    atempts: {}\n",
            "m.C.atempts: Extra inputs are not permitted",
        ),
        ("- a\n", "expected a mapping of state machine -> test case -> expectation"),
        (
            "m:\n  C:\n    status: FAILED\n    states: []\n    redrive: {status: SUCCEEDED, states: [], input: {}}\n",
            "m.C: Value error, a redrive has no input of its own: it goes on with the unsuccessful step's input",
        ),
    ],
)
def test_expectation_errors_are_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "expected.yaml"
    path.write_text(content)
    with pytest.raises(engine.SimulationError) as raised:
        expectations.load(path)
    assert str(raised.value) == f"{path}: {message}"


def test_expectation_mismatches_name_what_differs() -> None:
    execution = _run(_config({"Train": {"0-2": THROTTLED}}))
    expected = expectations.Expected.model_validate(
        {"status": "FAILED", "states": ["Train", "Failed"], "error": "Other", "attempts": {"Train": 2}}
    )
    assert expected.mismatches(execution) == [
        "error: expected 'Other', got 'TinyFailed'",
        "attempts of Train: expected 2, got 3",
    ]


# -- the command ---------------------------------------------------------------------------------------------


def _write_expectations(tmp_path: Path, machine: str, case: str, change: dict[str, Any]) -> Path:
    expected = yaml.safe_load((ROOT / "simulation/expected.yaml").read_text())
    expected[machine][case].update(change)
    path = tmp_path / "expected.yaml"
    path.write_text(yaml.safe_dump(expected))
    return path


def test_command_prints_the_path_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--cwd", str(ROOT), "--stack", "dev", "--case", "TrainingThrottled"])
    out = capsys.readouterr().out
    assert code == 0
    assert [line.split(". ", 1)[1] for line in out.splitlines() if re.match(r"^\s+\d+\. ", line)] == [
        "Initialize (Pass)",
        "Preprocess (Task)",
        "Train (Task)",
        "Evaluate (Task)",
        "ReadMetric (Task)",
        "QualityGate (Choice)",
        "RecordMetadata (Choice)",
        "Metadata (Pass)",
        "RegisterModel (Task)",
        "PipelineSucceeded (Succeed)",
    ]
    assert "retried 2 times after 5 s, 10 s" in out
    assert out.rstrip().endswith("AS EXPECTED tumor-dev / TrainingThrottled")


def test_command_exits_1_when_the_case_ends_otherwise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_expectations(tmp_path, "tumor-prod", "BelowThreshold", {"status": "SUCCEEDED"})
    code = cli.main(["--cwd", str(ROOT), "--stack", "prod", "--case", "BelowThreshold", "--expectations", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "NOT AS EXPECTED tumor-prod / BelowThreshold:" in out
    assert "  - status: expected 'SUCCEEDED', got 'FAILED'" in out


def test_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--cwd", str(ROOT), "--stack", "prod", "--case", "DeployRollsBack", "--json"])
    (document,) = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (document["stateMachine"], document["status"], document["error"]) == (
        "tumor-prod-deploy",
        "FAILED",
        "EndpointRolledBack",
    )
    assert [s["name"] for s in document["steps"][-2:]] == ["RolledBack", "DeploymentFailed"]
    assert document["asExpected"] is True and document["redrives"] == []


def test_command_shows_a_redrive_going_on_from_the_failed_step(capsys: pytest.CaptureFixture[str]) -> None:
    """The case fails at Train for good; redriven, the execution goes on from Train (Preprocess is not rerun)
    and registers the model."""
    code = cli.main(["--cwd", str(ROOT), "--stack", "prod", "--case", "TrainingRedriven", "--json"])
    (document,) = json.loads(capsys.readouterr().out)
    assert code == 0 and document["asExpected"] is True
    assert (document["status"], document["steps"][-1]["name"]) == ("FAILED", "Train")
    [redrive] = document["redrives"]
    assert redrive["case"] == "TrainingRedriven@redrive1" and redrive["status"] == "SUCCEEDED"
    names = [s["name"] for s in redrive["steps"]]
    assert names[0] == "Train" and "Preprocess" not in names and names[-1] == "PipelineSucceeded"
    code = cli.main(["--cwd", str(ROOT), "--stack", "prod", "--case", "TrainingRedriven"])
    out = capsys.readouterr().out
    assert code == 0 and "redrive 1 (answered by TrainingRedriven@redrive1)" in out


def test_a_redrive_with_no_answers_in_the_mock_config_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    redriven = {"redrive": {"status": "SUCCEEDED", "states": ["Train"]}}
    path = _write_expectations(tmp_path, "tumor-prod", "TrainingKeepsFailing", redriven)
    code = cli.main(
        ["--cwd", str(ROOT), "--stack", "prod", "--case", "TrainingKeepsFailing", "--expectations", str(path)]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        "error: tumor-prod.TrainingKeepsFailing expects redrive 1, but the mock config has no test case "
        "TrainingKeepsFailing@redrive1 to answer it\n"
    )


def test_command_lists_no_redrive_answers_as_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--cwd", str(ROOT), "--stack", "prod", "--list"]) == 0
    out = capsys.readouterr().out
    assert "TrainingRedriven: tumor-prod\n" in out and "@redrive" not in out


def test_a_redrive_answer_without_its_case_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = json.loads((ROOT / "simulation/MockConfigFile.json").read_text())
    cases = config["StateMachines"]["tumor-prod"]["TestCases"]
    cases["Nope@redrive1"] = cases.pop("TrainingRedriven@redrive1")
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(config))
    code = cli.main(["--cwd", str(ROOT), "--stack", "prod", "--case", "HappyPath", "--mock-config", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"error: {path}: StateMachines.tumor-prod.TestCases.Nope@redrive1: a redrive's answers are named "
        "<case>@redrive<N> (N from 1) after a test case of the same state machine\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "prod"], "error: name a test case with --case, or list them: --stack prod --list"),
        (["--stack", "prod", "--case", "Nope"], "no test case Nope for stack prod (cases: BelowThreshold, "),
        (["--stack", "qa", "--case", "HappyPath"], "qa"),
        (
            ["--stack", "prod", "--case", "HappyPath", "--state-machine", "x"],
            "error: stack prod has no state machine named x",
        ),
    ],
)
def test_command_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--cwd", str(ROOT), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err


def test_list_prints_one_line_per_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--cwd", str(ROOT), "--stack", "dev", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "HappyPath: tumor-dev" in lines
    assert all(": tumor-dev" in line for line in lines)


def test_a_state_machine_without_cases_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pipeline added to a stack without cases must not be silently left out of the simulation."""
    config = json.loads((ROOT / "simulation/MockConfigFile.json").read_text())
    config["StateMachines"]["fraud-prod"] = config["StateMachines"].pop("tumor-prod")
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(config))
    assert cli.main(["--cwd", str(ROOT), "--stack", "prod", "--case", "HappyPath", "--mock-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: no test cases for tumor-prod; add them under StateMachines.tumor-prod.TestCases" in err


def test_every_pipeline_of_a_stack_is_simulated_with_its_own_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second pipeline in a stack runs beside the first, and the shared mocked responses name its resources
    (`{stateMachine}`, `{stack}`), not the first pipeline's."""
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("components", "functions", "stacks", "workloads"):
        shutil.copytree(ROOT / folder, project / folder, ignore=ignore)
    for file in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / file, project / file)
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    document = yaml.safe_load(stack_file.read_text())
    pipelines = document["config"]["ml-pipelines:pipelines"]
    pipelines.append({**pipelines[0], "name": "fraud"})
    stack_file.write_text(yaml.safe_dump(document))
    config = json.loads((ROOT / "simulation/MockConfigFile.json").read_text())
    config["StateMachines"]["fraud-dev"] = config["StateMachines"]["tumor-dev"]
    mock = tmp_path / "MockConfigFile.json"
    mock.write_text(json.dumps(config))
    expected = yaml.safe_load((ROOT / "simulation/expected.yaml").read_text())
    happy = expected["tumor-dev"]["HappyPath"]
    expected["fraud-dev"] = {
        "HappyPath": {"status": happy["status"], "states": happy["states"], "output": happy["output"]}
    }
    expectations = tmp_path / "expected.yaml"
    expectations.write_text(yaml.safe_dump(expected))
    argv = ["--cwd", str(project), "--stack", "dev", "--case", "HappyPath", "--mock-config", str(mock)]
    assert cli.main([*argv, "--expectations", str(expectations), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert sorted(r["stateMachine"] for r in runs) == ["fraud-dev", "tumor-dev"]
    fraud = next(r for r in runs if r["stateMachine"] == "fraud-dev")
    assert fraud["output"]["preprocess"]["jobName"].startswith("fraud-dev-prep-")
    assert "tumor" not in json.dumps(fraud["output"])
