"""Every path of every stack's state machine, executed on moto's ASL engine with mocked service responses.

The cases live in MockConfigFile.json (Step Functions Local format) and how each must end in expected.yaml;
this module runs all of them on the definitions the program renders per stack, checks that together they
enter every state, that a task failing for good fails the execution there and a redrive then goes on to the
end, and that the mocked responses have the shapes the real services return (botocore's own API models).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws
from moto.stepfunctions.parser.mocking.mock_config import MockTestCase

from components.arns import pipeline_of_state_machine
from tests.conftest import ROOT, STACKS
from tools.mock_runtime.program import Plan
from tools.simulate import expectations, mock_config
from tools.simulate.engine import run
from tools.simulate.runner import StateMachine, machines_of, names_of, run_case

CONFIG = mock_config.load(ROOT / "simulation" / "MockConfigFile.json")
EXPECTED = expectations.load(ROOT / "simulation" / "expected.yaml")
# What to run is read from the case files alone, so collecting this module runs no program; each test takes its
# state machine from the session's plans (test_every_state_machine_has_cases... checks the two agree).
NAMES = {stack: [n for n in sorted(CONFIG.StateMachines) if pipeline_of_state_machine(n, stack)] for stack in STACKS}
CASES = [(stack, name, case) for stack in STACKS for name in NAMES[stack] for case in CONFIG.cases(name)]


def _machines(plans: dict[str, Plan], stack: str) -> list[StateMachine]:
    return machines_of(plans[stack])


def _machine(plans: dict[str, Plan], stack: str, name: str) -> StateMachine:
    found = [m for m in _machines(plans, stack) if m.name == name]
    assert found, f"MockConfigFile.json has cases for {name}, which stack {stack} does not declare"
    return found[0]


@functools.cache
def _result(machine: StateMachine, case: str) -> Any:
    """A file case run on the engine, once per session (the polling-loop cases take a second or two): its
    expectation checked by one test, the states it enters read by the others."""
    return run_case(machine, case, CONFIG, EXPECTED[machine.name][case])


def _entered(machine: StateMachine, case: str) -> tuple[str, ...]:
    return tuple(_result(machine, case).execution.states)


@pytest.fixture(autouse=True)
def _quiet_engine() -> Iterator[None]:
    # The engine logs every error it handles; a Catch taken is the point of most cases here.
    logger = logging.getLogger("moto")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize(("stack", "name", "case"), CASES, ids=[f"{n}-{c}" for _, n, c in CASES])
def test_case_ends_as_expected(plans: dict[str, Plan], stack: str, name: str, case: str) -> None:
    machine = _machine(plans, stack, name)
    assert EXPECTED.get(machine.name, {}).get(case) is not None, f"expected.yaml has no {machine.name}.{case}"
    assert _result(machine, case).mismatches == []


def test_every_state_machine_has_cases_and_every_case_an_expectation(plans: dict[str, Plan]) -> None:
    names = {m.name for stack in STACKS for m in _machines(plans, stack)}
    assert sorted(n for n in names if not CONFIG.cases(n)) == []
    configured = {(m, c) for m in CONFIG.StateMachines for c in CONFIG.cases(m)}
    expected = {(m, c) for m, cases in EXPECTED.items() for c in cases}
    assert sorted(expected - configured) == [] and sorted(configured - expected) == []
    assert sorted(set(CONFIG.StateMachines) - names) == [], "cases for a state machine no stack declares"


@pytest.mark.parametrize("stack", STACKS)
def test_every_state_is_entered_by_some_case(plans: dict[str, Plan], stack: str) -> None:
    for machine in _machines(plans, stack):
        entered = {state for case in CONFIG.cases(machine.name) for state in _entered(machine, case)}
        assert sorted(set(machine.states) - entered) == [], f"states of {machine.name} no test case reaches"


def _tasks(machine: StateMachine) -> list[str]:
    return [n for n, state in machine.states.items() if state["Type"] == "Task"]


CREATE_NAMES = {"ProcessingJobName.$", "TrainingJobName.$", "ModelName.$", "EndpointConfigName.$"}


@pytest.mark.parametrize(("stack", "name"), [(s, n) for s in STACKS for n in NAMES[s]], ids=lambda v: v)
def test_a_task_failing_for_good_fails_the_execution_there_and_a_redrive_goes_on_to_the_end(
    plans: dict[str, Plan], stack: str, name: str
) -> None:
    """For every Task of every machine: a case that reaches it is replayed with it failing for good. The
    execution fails at that task, with the task's error (no Catch turns it into a Fail state, which a redrive
    would only rerun); redriven with the case's own answers, it goes on from that task and ends as the case
    ends, and a Create* it reruns asks for a name the first attempt did not use.

    The error is one no Retry names (the engine refuses mocked `States.*` errors), so it fails at once.
    """
    machine = _machine(plans, stack, name)
    tasks = [t for t in _tasks(machine) if t != "NotifyDeployed"]  # served is served: its failure is caught
    assert len(tasks) >= 5
    named = [state for state in tasks if _fails_for_good_then_redriven(machine, state)]
    # the jobs (preprocess, train, evaluate), or the model and the endpoint config
    assert len(named) == (2 if machine.name.endswith("-deploy") else 3), named


def _fails_for_good_then_redriven(machine: StateMachine, state: str) -> bool:
    """Replays, checks; whether the state names what it creates (and its names were checked)."""
    reaching = [case for case in CONFIG.cases(machine.name) if state in _entered(machine, case)]
    base = next((c for c in reaching if EXPECTED[machine.name][c].status == "SUCCEEDED"), reaching[0])
    base_expected = EXPECTED[machine.name][base]
    responses = CONFIG.StateMachines[machine.name].TestCases[base].root
    cause = f"{state} failed for good (injected)"
    failing = mock_config.MockConfig.model_validate(
        {
            "StateMachines": {
                machine.name: {
                    "TestCases": {"Injected": {**responses, state: "Injected"}, "Injected@redrive1": responses}
                }
            },
            "MockedResponses": {
                **CONFIG.model_dump(mode="json")["MockedResponses"],
                "Injected": {"0": {"Throw": {"Error": "Injected.PermanentFailure", "Cause": cause}}},
            },
        }
    )
    path = list(_entered(machine, base))
    first = path.index(state)
    expected = expectations.Expected(
        input=base_expected.input,
        status="FAILED",
        states=path[: first + 1],
        error="Injected.PermanentFailure",
        cause=cause,
        redrive=expectations.Expected(
            status=base_expected.status,
            states=path[first:],
            error=base_expected.error,
            cause=base_expected.cause,
            attempts={k: v for k, v in base_expected.attempts.items() if k in path[first:]},
        ),
    )
    result = run_case(machine, "Injected", failing, expected)
    assert result.mismatches == [], (state, base)
    [redriven] = result.redrives
    parameters = machine.states[state]["Parameters"]
    # the name of what the task creates (CreateEndpoint names the config it serves, made by an earlier task)
    name_key = {k for k in CREATE_NAMES & parameters.keys() if "RedriveCount" in parameters[k]}
    if name_key:
        [key] = [k.removesuffix(".$") for k in name_key]
        before = result.execution.steps[-1].parameters[-1][key]
        after = next(s for s in redriven.execution.steps if s.name == state).parameters[0][key]
        # The attempt id, computed here from the context object's fields as the definition's comment says:
        # the MD5 of the execution ARN, the redrive count and the state's retry count.
        execution_arn = machine.arn.replace(":stateMachine:", ":execution:") + ":Injected"
        for name_used, redrive_count in ((before, 0), (after, 1)):
            attempt = hashlib.md5(f"{execution_arn}/{redrive_count}/0".encode(), usedforsecurity=False).hexdigest()
            assert name_used.endswith(f"-{attempt}"), (state, name_used, redrive_count)
        assert before != after
    return bool(name_key)


# -- the mocked responses have the real services' shapes ---------------------------------------------------

_SESSION = botocore.session.get_session()
# Step Functions adds these to a Lambda invoke's response and decodes its Payload from JSON.
_LAMBDA_ENVELOPE = {"SdkHttpMetadata", "SdkResponseMetadata", "Payload"}


def _output_shape(resource: str) -> tuple[str, str]:
    """(service, operation) whose output a Task with this resource receives.

    `arn:aws:states:::sagemaker:createTrainingJob.sync` waits for the job and returns DescribeTrainingJob's
    result; `arn:aws:states:::aws-sdk:sagemaker:listEndpoints` returns ListEndpoints' result.
    """
    integration = resource.split(":::", 1)[1]
    parts = integration.split(":")
    service, action = (parts[1], parts[2]) if parts[0] == "aws-sdk" else (parts[0], parts[1])
    operation = action.removesuffix(".sync")
    operation = operation[0].upper() + operation[1:]
    if action.endswith(".sync"):
        operation = "Describe" + operation.removeprefix("Create")
    return service, operation


def _resources_answered(plans: dict[str, Plan], response: str) -> set[str]:
    """The Task resources of every state some case answers with `response`."""
    found = set()
    for stack, name, case in CASES:
        for state, used in CONFIG.StateMachines[name].TestCases[case].root.items():
            if used == response:
                found.add(_machine(plans, stack, name).states[state]["Resource"])
    return found


RETURNS = sorted(
    (response, attempt)
    for response, attempts in CONFIG.MockedResponses.items()
    for attempt, mocked in attempts.items()
    if mocked.Return is not None
)


@pytest.mark.parametrize(("response", "attempt"), RETURNS, ids=[f"{r}-{a}" for r, a in RETURNS])
def test_mocked_responses_have_the_service_shape(plans: dict[str, Plan], response: str, attempt: str) -> None:
    mocked = CONFIG.MockedResponses[response][attempt].Return
    assert mocked is not None
    resources = _resources_answered(plans, response)
    assert resources, f"{response}: no case uses this mocked response"
    for resource in sorted(resources):
        _has_the_shape(resource, mocked.root)


def _has_the_shape(resource: str, returned: Any) -> None:
    service, operation = _output_shape(resource)
    shape = _SESSION.get_service_model(service).operation_model(operation).output_shape
    body = copy.deepcopy(returned)
    if service == "lambda":
        assert set(body) >= _LAMBDA_ENVELOPE and isinstance(body["Payload"], dict)
        body = {k: v for k, v in body.items() if k not in _LAMBDA_ENVELOPE}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


def test_shape_check_catches_a_wrong_shape() -> None:
    """The check above fails on a Describe result missing what the .sync task's ResultSelector reads."""
    shape = _SESSION.get_service_model("sagemaker").operation_model("DescribeTrainingJob").output_shape
    returned = CONFIG.MockedResponses["TrainingJobCompleted"]["0"].Return
    assert returned is not None
    broken = {k: v for k, v in returned.root.items() if k != "ModelArtifacts"}
    assert "ModelArtifacts" in ParamValidator().validate(broken, shape).generate_report()


@pytest.mark.parametrize("name", ["EvaluationPasses", "EvaluationBelowEveryGate"])
def test_evaluation_payload_is_what_the_function_returns(
    plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The real evaluation Lambda, given the request the simulated ReadMetric state sends (S3 in moto, with the
    report the Evaluate job writes holding the mocked value), returns exactly the mocked Payload, which the
    ResultSelector reads; and the report it reads is the file the Evaluate job's output delivers."""
    from functions.evaluate_model import handler

    machine = _machine(plans, "dev", "tumor-dev")
    payload = CONFIG.MockedResponses[name]["0"].Return
    assert payload is not None
    steps = {s.name: s for s in run_case(machine, "HappyPath", CONFIG, None).execution.steps}
    request = steps["ReadMetric"].parameters[-1]["Payload"]
    [output] = steps["Evaluate"].parameters[-1]["ProcessingOutputConfig"]["Outputs"]
    # evaluate.py writes evaluation.json into the output's LocalPath; SageMaker uploads it to S3Uri.
    assert request["reportUri"] == output["S3Output"]["S3Uri"] + "/evaluation.json"
    assert output["S3Output"]["LocalPath"] == "/opt/ml/processing/evaluation"
    function = plans["dev"].of_type("aws:lambda/function:Function")[0]
    for key, value in function.inputs["environment"]["variables"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    bucket, key = request["reportUri"].removeprefix("s3://").split("/", 1)
    report = {"binary_classification_metrics": {"auc": {"value": payload.root["Payload"]["value"]}}}
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(report).encode())
        returned = handler.handler(request)
    assert returned == mock_config.named(payload.root["Payload"], names_of(machine, "HappyPath"))


def test_a_wrong_result_path_shows_up(plans: dict[str, Plan]) -> None:
    """Train's ResultPath broken in the definition: the case no longer ends as expected, and says where."""
    machine = _machine(plans, "dev", "tumor-dev")
    definition = json.loads(machine.definition)
    definition["States"]["Train"]["ResultPath"] = "$.train"
    broken = StateMachine(machine.name, machine.arn, machine.role_arn, json.dumps(definition), machine.stack)
    result = run_case(broken, "HappyPath", CONFIG, EXPECTED[machine.name]["HappyPath"])
    assert result.execution.status == "FAILED"  # the Evaluate request reads $.training.jobName
    assert "status: expected 'SUCCEEDED', got 'FAILED'" in result.mismatches


def test_a_gate_routing_a_rejected_model_to_registration_shows_up(plans: dict[str, Plan]) -> None:
    machine = _machine(plans, "prod", "tumor-prod")
    definition = json.loads(machine.definition)
    definition["States"]["QualityGate"]["Default"] = "RecordMetadata"
    broken = StateMachine(machine.name, machine.arn, machine.role_arn, json.dumps(definition), machine.stack)
    result = run_case(broken, "BelowThreshold", CONFIG, EXPECTED[machine.name]["BelowThreshold"])
    assert result.execution.status == "SUCCEEDED"
    assert any(m.startswith("states entered: expected [") for m in result.mismatches)


def test_direct_engine_run_is_the_definition_unchanged(plans: dict[str, Plan]) -> None:
    """The simulated definition is the deployed one, `.sync` resources included."""
    machine = _machine(plans, "prod", "tumor-prod")
    assert "arn:aws:states:::sagemaker:createTrainingJob.sync" in machine.definition
    test_case: MockTestCase = CONFIG.test_case(machine.name, "HappyPath")
    execution = run(
        machine.definition,
        state_machine_arn=machine.arn,
        role_arn=machine.role_arn,
        execution_name="Direct",
        execution_input={},
        test_case=test_case,
    )
    assert execution.status == "SUCCEEDED"


def test_the_happy_paths_metric_is_what_devs_real_evaluation_produces(local_run: dict[str, Any]) -> None:
    """The simulation's passing evaluation carries the AUC the workload's evaluate.py gives on dev's settings and
    data (`ml-pipelines run-local --stack dev`), not a made-up number: retrain, and this says the new value."""
    mocked = CONFIG.MockedResponses["EvaluationPasses"]["0"].Return
    assert mocked is not None
    [pipeline] = local_run["pipelines"]
    value = round(pipeline["value"], 4)
    assert mocked.root["Payload"]["value"] == value, (
        f"set EvaluationPasses' value (simulation/MockConfigFile.json) and expected.yaml to {value}"
    )


def test_a_create_retried_after_a_failure_asks_for_a_new_name_each_time_and_succeeds(plans: dict[str, Plan]) -> None:
    """TrainingThrottled: CreateTrainingJob fails twice, then succeeds; each attempt names its job anew (the
    state's retry count is in the name), so a create whose response was lost is never asked for twice."""
    machine = _machine(plans, "dev", "tumor-dev")
    result = run_case(machine, "TrainingThrottled", CONFIG, EXPECTED[machine.name]["TrainingThrottled"])
    assert result.ok, result.mismatches
    train = next(s for s in result.execution.steps if s.name == "Train")
    names = [attempt["TrainingJobName"] for attempt in train.parameters]
    assert len(names) == 3 and len(set(names)) == 3, names
    assert all(n.startswith("tumor-dev-train-") and len(n) <= 63 for n in names)
    # ...while every attempt reads and writes the same run's files.
    assert len({json.dumps(attempt["InputDataConfig"]) for attempt in train.parameters}) == 1
