"""Run one execution of a state machine on moto's ASL engine (LocalStack's interpreter), fully mocked.

This is the only module that touches moto's internals; `moto` is pinned exactly in pyproject.toml and
`tests/tools/simulate/test_main.py` (`test_moto_internals_the_harness_wires`) fails loudly if any name used here
changes. What is wired, and why:

- `SyncExecutionWorker` with a `MockTestCase`: the engine's own Step Functions Local mock support, which
  moto's public API leaves unwired (its mock-config loader returns None).
- `.sync` on SageMaker: the engine checks integration patterns before it looks at mocks, and refuses
  `.sync` on services it does not implement. While simulating, `.sync` is accepted for those services; a
  mocked `.sync` task returns its mocked response (the `Describe*` result the real `.sync` yields) and the
  definition runs unchanged.
- Every Task state counts as mocked: a state the test case does not mock fails with the engine's own
  "No mocked response definition" instead of calling AWS, and the harness reports it.
- A virtual clock: Retry intervals and Wait states are recorded, not slept (the engine sleeps for real).
- Redrive (`redrive`): the execution goes on from its unsuccessful step, with the input that step had, the same
  execution ARN and `$$.Execution.RedriveCount` one higher; the steps that succeeded are not rerun and the
  execution-level timeout starts again ("Redriving executions", Step Functions developer guide). The engine has
  no redrive, so the same definition is run with `StartAt` set to that step.
- One parse per definition: the engine parses the definition (ANTLR, most of an execution's time) on every
  execution; the parse tree is kept and only the evaluation components, which carry an execution's state,
  are built anew from it each time (`_worker`).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_unsupported
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import (
    AWSExecutionDetails,
    EvaluationDetails,
    ExecutionDetails,
    StateMachineDetails,
)
from moto.stepfunctions.parser.backend.execution_worker_comm import ExecutionWorkerCommunication
from moto.stepfunctions.parser.mocking.mock_config import MockTestCase

START_TIME = "2026-01-01T00:00:00+00:00"
UNMOCKED = "No mocked response definition for state"


class SimulationError(Exception):
    """The simulation itself could not run as asked (not: the execution failed). One line."""


@dataclass
class Step:
    """One state entered, in order; a Task's attempts, failures and requests over all of its retries."""

    name: str
    type: str
    input: Any
    output: Any = None
    attempts: int = 0
    parameters: list[Any] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    retry_delays: list[float] = field(default_factory=list)
    waited: float | None = None


@dataclass
class Execution:
    status: str  # SUCCEEDED, FAILED, TIMED_OUT or ABORTED, as DescribeExecution says
    steps: list[Step]
    output: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def states(self) -> list[str]:
        return [step.name for step in self.steps]


class _Clock:
    """Retry intervals and Wait durations, recorded in the order the engine asked for them.

    Virtual time is what they add up to: when it passes the definition's TimeoutSeconds, the execution
    times out as it would in AWS (a polling loop that never ends is bounded by it, not by the test runner).
    """

    def __init__(self, timeout_seconds: float | None) -> None:
        self.retries: list[float] = []
        self.waits: list[float] = []
        self.timeout_seconds = timeout_seconds
        self.elapsed = 0.0

    def sleep(self, seconds: float) -> None:  # stands in for `time` inside the retrier
        self.retries.append(float(seconds))
        self.elapsed += float(seconds)

    def wait(self, env: Environment, seconds: float) -> None:
        self.waits.append(float(seconds))
        self.elapsed += float(seconds)
        if self.timeout_seconds is not None and self.elapsed > self.timeout_seconds:
            env.set_timed_out()


_lock = threading.Lock()


@contextmanager
def _simulating(clock: _Clock) -> Iterator[None]:
    patterns: set[Any] = state_task_service_unsupported._SUPPORTED_INTEGRATION_PATTERNS
    added = ResourceCondition.Sync not in patterns
    saved_time = retrier_decl.time
    saved_wait = WaitFunction._wait_interval
    saved_mocked = Environment.is_mocked_mode

    def wait(self: WaitFunction, env: Environment, wait_seconds: int) -> None:
        clock.wait(env, wait_seconds)

    def mocked(self: Environment) -> bool:
        return self.mock_test_case is not None

    with _lock:
        patterns.add(ResourceCondition.Sync)
        retrier_decl.time = clock  # type: ignore[assignment]
        WaitFunction._wait_interval = wait  # type: ignore[method-assign]
        Environment.is_mocked_mode = mocked  # type: ignore[method-assign]
        try:
            yield
        finally:
            if added:
                patterns.discard(ResourceCondition.Sync)
            retrier_decl.time = saved_time
            WaitFunction._wait_interval = saved_wait  # type: ignore[method-assign]
            Environment.is_mocked_mode = saved_mocked  # type: ignore[method-assign]


class _Done(ExecutionWorkerCommunication):
    def terminated(self) -> None:
        pass


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _steps(events: list[dict[str, Any]], clock: _Clock) -> list[Step]:
    steps: list[Step] = []
    for event in events:
        kind = str(getattr(event["type"], "value", event["type"]))
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            steps.append(Step(details["name"], kind.removesuffix("StateEntered"), _json(details.get("input"))))
        elif kind.endswith("StateExited"):
            steps[-1].output = _json(event["stateExitedEventDetails"].get("output"))
        elif kind == "TaskScheduled":
            steps[-1].attempts += 1
            steps[-1].parameters.append(_json(event["taskScheduledEventDetails"].get("parameters")))
        elif kind == "TaskFailed":
            details = event["taskFailedEventDetails"]
            steps[-1].failures.append((details.get("error", ""), details.get("cause", "")))
    retries = iter(clock.retries)
    waits = iter(clock.waits)
    for step in steps:
        step.retry_delays = [next(retries) for _ in range(max(0, step.attempts - 1))]
        if step.type == "Wait":
            step.waited = next(waits, None)
    return steps


@functools.lru_cache(maxsize=64)
def _parse_tree(definition: str) -> Any:
    """The definition's parse tree, checked for syntax errors (the engine's own parser); only ever read."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    return AmazonStateLanguageParser.parse(definition)[1]


@functools.cache
def _worker() -> type[Any]:
    """The engine's worker, one parse per definition. Imported on first use: the parser brings in moto's Batch
    and EC2 models (most of a second), which importing this module for its types need not pay."""
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.backend.execution_worker import SyncExecutionWorker

    class Worker(SyncExecutionWorker):
        redrive_count = 0
        """What `$$.Execution.RedriveCount` says (the context object has it; moto's engine leaves it out)."""

        def _get_evaluation_entrypoint(self) -> EvalComponent:
            tree = _parse_tree(self._evaluation_details.state_machine_details.definition)
            return Preprocessor().visit(tree)  # fresh components: no state carries over between executions

        def _get_evaluation_environment(self) -> Any:
            env = super()._get_evaluation_environment()
            execution: dict[str, Any] = env.states.context_object.context_object_data["Execution"]  # type: ignore[assignment]
            execution["RedriveCount"] = self.redrive_count
            return env

    return Worker


def unsuccessful_step(execution: Execution) -> Step:
    """Where a redrive of `execution` goes on: the state it ended in (a Task that failed for good, a Fail state,
    or the state running when it timed out or was aborted)."""
    if execution.status == "SUCCEEDED":
        raise SimulationError("a succeeded execution cannot be redriven (RedriveExecution: ExecutionNotRedrivable)")
    if not execution.steps:
        raise SimulationError("the execution ended before entering any state: nothing to redrive")
    return execution.steps[-1]


def redrive(
    definition: str,
    previous: Execution,
    *,
    state_machine_arn: str,
    role_arn: str,
    execution_name: str,
    test_case: MockTestCase,
    redrive_count: int,
) -> Execution:
    """Redrive `previous` (an execution of `definition` named `execution_name`): go on from its unsuccessful step
    with that step's input, every Task answered from `test_case`; the steps of the redrive only."""
    step = unsuccessful_step(previous)
    restarted = {**json.loads(definition), "StartAt": step.name}
    return run(
        json.dumps(restarted),
        state_machine_arn=state_machine_arn,
        role_arn=role_arn,
        execution_name=execution_name,
        execution_input=step.input,
        test_case=test_case,
        redrive_count=redrive_count,
    )


def run(
    definition: str,
    *,
    state_machine_arn: str,
    role_arn: str,
    execution_name: str,
    execution_input: Any,
    test_case: MockTestCase,
    redrive_count: int = 0,
) -> Execution:
    """Run one execution of `definition` with every Task answered from `test_case` (`redrive_count`: what
    `$$.Execution.RedriveCount` says)."""
    arn_parts = state_machine_arn.split(":")
    if len(arn_parts) != 7 or arn_parts[5] != "stateMachine":
        raise SimulationError(f"{state_machine_arn!r} is not a state machine ARN")
    partition, region, account, name = arn_parts[1], arn_parts[3], arn_parts[4], arn_parts[6]
    execution_arn = f"arn:{partition}:states:{region}:{account}:execution:{name}:{execution_name}"
    try:
        timeout = json.loads(definition).get("TimeoutSeconds")
    except (json.JSONDecodeError, AttributeError):
        raise SimulationError(f"the definition of {name} is not a JSON object") from None
    clock = _Clock(timeout)
    worker = _worker()(
        EvaluationDetails(
            AWSExecutionDetails(account=account, region=region, role_arn=role_arn),
            ExecutionDetails(
                arn=execution_arn, name=execution_name, role_arn=role_arn, inpt=execution_input, start_time=START_TIME
            ),
            StateMachineDetails(arn=state_machine_arn, name=name, typ=StateMachineType.STANDARD, definition=definition),
        ),
        _Done(),
        None,
        {},
        mock_test_case=test_case,
    )
    worker.redrive_count = redrive_count
    with _simulating(clock):
        worker.start()
    assert worker.env is not None
    events: list[Any] = list(worker.env.event_manager.get_event_history())
    steps = _steps(events, clock)
    last = events[-1]
    final_cause = str(last.get("executionFailedEventDetails", {}).get("cause", ""))
    for step in steps:
        for _, cause in [*step.failures, ("", final_cause)]:
            if UNMOCKED in cause and f"'{step.name}'" in cause:
                raise SimulationError(
                    f"test case {test_case.test_case_name} of {name}: state {step.name} is entered "
                    f"(attempt {step.attempts or 1}) but the test case has no mocked response for it"
                )
    kind = str(getattr(last["type"], "value", last["type"]))
    if kind == "ExecutionSucceeded":
        return Execution("SUCCEEDED", steps, output=_json(last["executionSucceededEventDetails"].get("output")))
    if kind == "ExecutionFailed":
        details = last["executionFailedEventDetails"]
        return Execution("FAILED", steps, error=details.get("error"), cause=details.get("cause"))
    if kind == "ExecutionTimedOut":
        return Execution("TIMED_OUT", steps)
    if kind == "ExecutionAborted":
        return Execution("ABORTED", steps)
    raise SimulationError(f"the execution of {name} ended without a final event (last: {kind})")
