"""Every path of every stack's state machine, executed on moto's ASL engine with mocked service responses.

The cases live in MockConfigFile.json (Step Functions Local format) and how each must end in expected.yaml;
this module runs all of them on the definitions the program renders per stack, checks that together they
enter every state, that every Catch leads to the failure notification, and that the mocked responses have
the shapes the real services return (botocore's own API models).
"""

from __future__ import annotations

import copy
import functools
import io
import json
import logging
import tarfile
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws
from moto.stepfunctions.parser.mocking.mock_config import MockTestCase

from tests.conftest import ROOT, STACKS
from tools.mock_runtime.program import Plan
from tools.simulate import expectations, mock_config
from tools.simulate.engine import run
from tools.simulate.runner import StateMachine, names_of, run_case, state_machines

CONFIG = mock_config.load(ROOT / "simulation" / "MockConfigFile.json")
EXPECTED = expectations.load(ROOT / "simulation" / "expected.yaml")
MACHINES: dict[str, list[StateMachine]] = {stack: state_machines(ROOT, stack) for stack in STACKS}
CASES = [(machine, case) for stack in STACKS for machine in MACHINES[stack] for case in CONFIG.cases(machine.name)]


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


@pytest.mark.parametrize(("machine", "case"), CASES, ids=[f"{m.name}-{c}" for m, c in CASES])
def test_case_ends_as_expected(machine: StateMachine, case: str) -> None:
    assert EXPECTED.get(machine.name, {}).get(case) is not None, f"expected.yaml has no {machine.name}.{case}"
    assert _result(machine, case).mismatches == []


def test_every_state_machine_has_cases_and_every_case_an_expectation() -> None:
    names = {m.name for machines in MACHINES.values() for m in machines}
    assert sorted(n for n in names if not CONFIG.cases(n)) == []
    configured = {(m, c) for m in CONFIG.StateMachines for c in CONFIG.cases(m)}
    expected = {(m, c) for m, cases in EXPECTED.items() for c in cases}
    assert sorted(expected - configured) == [] and sorted(configured - expected) == []
    assert sorted(set(CONFIG.StateMachines) - names) == [], "cases for a state machine no stack declares"


@pytest.mark.parametrize("stack", STACKS)
def test_every_state_is_entered_by_some_case(stack: str) -> None:
    for machine in MACHINES[stack]:
        entered = {state for case in CONFIG.cases(machine.name) for state in _entered(machine, case)}
        assert sorted(set(machine.states) - entered) == [], f"states of {machine.name} no test case reaches"


def _catching_states(machine: StateMachine) -> list[str]:
    return [
        n for n, state in machine.states.items() if state.get("Catch") and n not in ("NotifyFailure", "NotifyDeployed")
    ]


CATCHING = [(m, s) for stack in STACKS for m in MACHINES[stack] for s in _catching_states(m)]


@pytest.mark.parametrize(("machine", "state"), CATCHING, ids=[f"{m.name}-{s}" for m, s in CATCHING])
def test_every_catch_leads_to_the_notification(machine: StateMachine, state: str) -> None:
    """A case that reaches `state` is replayed with `state` failing for good: notify, then fail as named.

    The error is one no Retry names (the engine refuses mocked `States.*` errors), so it is caught at once.
    """
    base = next(case for case in CONFIG.cases(machine.name) if state in _entered(machine, case))
    responses = CONFIG.StateMachines[machine.name].TestCases[base].root
    cause = f"{state} failed for good (injected)"
    failing = mock_config.MockConfig.model_validate(
        {
            "StateMachines": {machine.name: {"TestCases": {"Injected": {**responses, state: "Injected"}}}},
            "MockedResponses": {
                **CONFIG.model_dump(mode="json")["MockedResponses"],
                "Injected": {"0": {"Throw": {"Error": "Injected.PermanentFailure", "Cause": cause}}},
            },
        }
    )
    execution_input = EXPECTED[machine.name][base].input
    execution = run_case(machine, "Injected", failing, None, execution_input=execution_input).execution
    failed = "DeploymentFailed" if machine.name.endswith("-deploy") else "PipelineFailed"
    entered = execution.states
    assert entered[entered.index(state) + 1 :] == ["NotifyFailure", failed]
    assert (execution.status, execution.error, execution.cause) == ("FAILED", failed, cause)
    notify = next(s for s in execution.steps if s.name == "NotifyFailure")
    assert f"failed: Injected.PermanentFailure: {cause}" in notify.parameters[-1]["Message"]


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


def _mocked_returns() -> Iterator[tuple[str, str, str, Any]]:
    for stack in STACKS:
        for machine in MACHINES[stack]:
            for case in CONFIG.cases(machine.name):
                for state, response in CONFIG.StateMachines[machine.name].TestCases[case].root.items():
                    for attempt, mocked in CONFIG.MockedResponses[response].items():
                        if mocked.Return is not None:
                            resource = machine.states[state]["Resource"]
                            yield response, attempt, resource, mocked.Return.root


RETURNS = sorted({(r, a, res): v for r, a, res, v in _mocked_returns()}.items())


@pytest.mark.parametrize(
    ("key", "returned"), RETURNS, ids=[f"{r}-{a}-{_output_shape(res)[1]}" for (r, a, res), _ in RETURNS]
)
def test_mocked_responses_have_the_service_shape(key: tuple[str, str, str], returned: Any) -> None:
    _, _, resource = key
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
    """The real evaluation Lambda, given the request the simulated Evaluate state sends (S3 in moto, with a
    report holding the mocked value), returns exactly the mocked Payload, which the ResultSelector reads."""
    from functions.evaluate_model import handler

    machine = next(m for m in MACHINES["dev"] if m.name == "churn-dev")
    payload = CONFIG.MockedResponses[name]["0"].Return
    assert payload is not None
    step = next(s for s in run_case(machine, "HappyPath", CONFIG, None).execution.steps if s.name == "Evaluate")
    request = step.parameters[-1]["Payload"]
    function = plans["dev"].of_type("aws:lambda/function:Function")[0]
    for key, value in function.inputs["environment"]["variables"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    bucket, key = request["reportUri"].removeprefix("s3://").split("/", 1)
    report = {"binary_classification_metrics": {"auc": {"value": payload.root["Payload"]["value"]}}}
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        body = json.dumps(report).encode()
        info = tarfile.TarInfo("evaluation.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())
        returned = handler.handler(request)
        assert returned == mock_config.named(payload.root["Payload"], names_of(machine, "HappyPath"))
        # ...and the report the model version's ModelMetrics point at is there, as JSON
        out_bucket, out_key = returned["reportUri"].removeprefix("s3://").split("/", 1)
        assert json.loads(s3.get_object(Bucket=out_bucket, Key=out_key)["Body"].read()) == report


def test_a_wrong_result_path_shows_up() -> None:
    """Train's ResultPath broken in the definition: the case no longer ends as expected, and says where."""
    machine = next(m for m in MACHINES["dev"] if m.name == "churn-dev")
    definition = json.loads(machine.definition)
    definition["States"]["Train"]["ResultPath"] = "$.train"
    broken = StateMachine(machine.name, machine.arn, machine.role_arn, json.dumps(definition), machine.stack)
    result = run_case(broken, "HappyPath", CONFIG, EXPECTED[machine.name]["HappyPath"])
    assert result.execution.status == "FAILED"  # the Evaluate request reads $.training.jobName
    assert "status: expected 'SUCCEEDED', got 'FAILED'" in result.mismatches


def test_a_gate_routing_a_rejected_model_to_registration_shows_up() -> None:
    machine = next(m for m in MACHINES["prod"] if m.name == "churn-prod")
    definition = json.loads(machine.definition)
    definition["States"]["QualityGate"]["Default"] = "RecordMetadata"
    broken = StateMachine(machine.name, machine.arn, machine.role_arn, json.dumps(definition), machine.stack)
    result = run_case(broken, "BelowThreshold", CONFIG, EXPECTED[machine.name]["BelowThreshold"])
    assert result.execution.status == "SUCCEEDED"
    assert any(m.startswith("states entered: expected [") for m in result.mismatches)


def test_direct_engine_run_is_the_definition_unchanged() -> None:
    """The simulated definition is the deployed one, `.sync` resources included."""
    machine = next(m for m in MACHINES["prod"] if m.name == "churn-prod")
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
