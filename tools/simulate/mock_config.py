"""AWS Step Functions Local mock configs (`MockConfigFile.json`), read and checked, as moto's engine takes them.

    {"StateMachines": {"<state machine>": {"TestCases": {"<case>": {"<state>": "<mocked response>"}}}},
     "MockedResponses": {"<mocked response>": {"0": {"Return": ...}, "1-2": {"Throw": {"Error", "Cause"}}}}}

The keys are those of Step Functions Local, so the same file drives it too. The numbered keys are attempts
of the state (0 the first, "1-2" the second and third). `{stateMachine}`, `{stack}`, `{pipeline}` (the pipeline's
prefix), `{runId}` (the MD5 of the execution ARN, as `States.Hash` gives it) and `{codeDigest}` (the digest in
the definition's code keys) in a response stand for the execution's own names (`named`), so one response serves
every stack and pipeline.

A test case named `<case>@redrive<N>` answers the tasks of the Nth redrive of `<case>`'s execution (engine.redrive):
it is not a case of its own, and `cases` leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moto.stepfunctions.parser.mocking.mock_config import MockTestCase, _mock_test_case_from_raw
from pydantic import BaseModel, ConfigDict, RootModel, ValidationError, model_validator

from components.files import read_document
from tools.simulate import REDRIVE_MARK
from tools.simulate.engine import SimulationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Returned(RootModel[Any]):
    """The service's response, as the task receives it before ResultSelector/ResultPath."""


class Thrown(_Strict):
    Error: str
    Cause: str = ""


class MockedResponse(_Strict):
    Return: Returned | None = None
    Throw: Thrown | None = None

    @model_validator(mode="after")
    def _one(self) -> MockedResponse:
        if (self.Return is None) == (self.Throw is None):
            raise ValueError("needs exactly one of Return or Throw")
        return self


class TestCase(RootModel[dict[str, str]]):
    """State name -> name of a mocked response."""


class StateMachine(_Strict):
    TestCases: dict[str, TestCase]


class MockConfig(_Strict):
    StateMachines: dict[str, StateMachine]
    MockedResponses: dict[str, dict[str, MockedResponse]]

    def test_case(self, state_machine: str, case: str, names: Mapping[str, str] | None = None) -> MockTestCase:
        """The engine's form of one test case (moto's own converter checks the attempt numbering), with the
        responses' placeholders (`{stateMachine}`, `{stack}`) filled from `names`."""
        config = self if not names else MockConfig.model_validate(named(self.model_dump(), names))
        try:
            return _mock_test_case_from_raw(state_machine, case, config)
        except (RuntimeError, ValueError) as exc:
            raise SimulationError(f"{state_machine} / {case}: {exc}") from None

    def cases(self, state_machine: str) -> list[str]:
        """The test cases an execution starts from (not the answers to redrives)."""
        machine = self.StateMachines.get(state_machine)
        return [c for c in machine.TestCases if REDRIVE_MARK not in c] if machine else []


def redrive_case(case: str, number: int) -> str:
    """The test case answering the `number`th redrive of `case`'s execution."""
    return f"{case}{REDRIVE_MARK}{number}"


def named(value: Any, names: Mapping[str, str]) -> Any:
    """`value` with every `{name}` in its strings replaced by `names[name]`: mocked responses and expectations
    written once (`{stateMachine}-train-...`, `ml-pipelines-{stack}-...`) name each stack's own resources."""
    if isinstance(value, str):
        for key, replacement in names.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: named(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [named(v, names) for v in value]
    return value


def _location(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"] if part not in ("root",)) or "(top level)"


def load(path: Path) -> MockConfig:
    """Read and check a mock config; every problem is one line naming the file and the key."""
    raw = read_document(path, "mock config file", SimulationError)
    try:
        config = MockConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SimulationError(f"{path}: {_location(first)}: {first['msg']}") from None
    for machine_name, machine in config.StateMachines.items():
        for case_name, case in machine.TestCases.items():
            base, mark, number = case_name.partition(REDRIVE_MARK)
            if mark and (base not in machine.TestCases or not number.isdigit() or int(number) < 1):
                raise SimulationError(
                    f"{path}: StateMachines.{machine_name}.TestCases.{case_name}: a redrive's answers are named "
                    f"<case>{REDRIVE_MARK}<N> (N from 1) after a test case of the same state machine"
                )
            for state, response in case.root.items():
                if response not in config.MockedResponses:
                    raise SimulationError(
                        f"{path}: StateMachines.{machine_name}.TestCases.{case_name}.{state}: no mocked response "
                        f"named {response!r} in MockedResponses"
                    )
            try:
                config.test_case(machine_name, case_name)
            except SimulationError as exc:
                raise SimulationError(f"{path}: {exc}") from None
    return config
