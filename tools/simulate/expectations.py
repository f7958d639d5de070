"""How each test case must end: `expected.yaml`, beside the mock config, keyed like it.

<state machine>:
  <test case>:
    input: {}                        # the execution input (default {})
    status: SUCCEEDED                # or FAILED, TIMED_OUT, ABORTED
    states: [Initialize, ...]        # every state entered, in order; a loop as {repeat: [A, B], times: N}
    error: PipelineFailed            # FAILED only: the execution's error and cause
    cause: "..."
    attempts: {Train: 3}             # Task states not listed must have been attempted exactly once
    retryDelays: {Train: [5, 10]}    # seconds the engine waited before each retry of the state
    output: {model: {...}}           # each key listed: the output's value under it, exactly
    requests: {Train: {...}}         # each key listed: the state's last request's value, exactly
    redrive:                         # then redrive the execution (it must not have succeeded), its tasks
      status: SUCCEEDED              #   answered by the mock config's test case `<test case>@redrive1`, and
      states: [Train, ...]           #   how the redrive must end, as above (from the unsuccessful step on);
      redrive: ...                   #   a redrive of the redrive uses `@redrive2`, and so on
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from components.files import read_document
from tools.simulate.engine import Execution, SimulationError


class Repeat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repeat: list[str]
    times: int = Field(ge=1)


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    input: Any = Field(default_factory=dict)
    status: Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    states: list[str | Repeat]
    error: str | None = None
    cause: str | None = None
    attempts: dict[str, int] = Field(default_factory=dict)
    retry_delays: dict[str, list[float]] = Field(default_factory=dict, alias="retryDelays")
    output: dict[str, Any] = Field(default_factory=dict)
    requests: dict[str, dict[str, Any]] = Field(default_factory=dict)
    redrive: Expected | None = None

    @model_validator(mode="after")
    def _redrive_has_no_input(self) -> Expected:
        if self.redrive is not None and "input" in self.redrive.model_fields_set:
            raise ValueError("a redrive has no input of its own: it goes on with the unsuccessful step's input")
        return self

    @property
    def path(self) -> list[str]:
        """The states expected to be entered, loops unrolled."""
        return [
            name for item in self.states for name in ([item] if isinstance(item, str) else item.repeat * item.times)
        ]

    def mismatches(self, execution: Execution) -> list[str]:
        """What differs between this expectation and the execution; empty when it ended as expected."""
        found: list[str] = []

        def differ(what: str, expected: Any, actual: Any) -> None:
            if expected != actual:
                found.append(f"{what}: expected {expected!r}, got {actual!r}")

        differ("status", self.status, execution.status)
        differ("states entered", self.path, execution.states)
        if self.status == "FAILED" or execution.status == "FAILED":
            differ("error", self.error, execution.error)
            differ("cause", self.cause, execution.cause)
        tasks = {step.name: step for step in execution.steps if step.type == "Task"}
        for name, step in tasks.items():
            differ(f"attempts of {name}", self.attempts.get(name, 1), step.attempts)
        for name in sorted(set(self.attempts) - set(tasks)):
            found.append(f"attempts of {name}: expected {self.attempts[name]}, but the state was never entered")
        for name, delays in self.retry_delays.items():
            differ(f"retry delays of {name}", delays, tasks[name].retry_delays if name in tasks else None)
        for key, value in self.output.items():
            output = execution.output if isinstance(execution.output, dict) else {}
            differ(f"output.{key}", value, output.get(key, "<missing>"))
        for name, fields in self.requests.items():
            sent = tasks[name].parameters[-1] if name in tasks and tasks[name].parameters else {}
            for key, value in fields.items():
                differ(f"request of {name}: {key}", value, sent.get(key, "<missing>"))
        return found


Expected.model_rebuild()


def load(path: Path) -> dict[str, dict[str, Expected]]:
    """State machine -> test case -> expectation; every problem is one line naming the file and the key."""
    raw = read_document(path, "expectations file", SimulationError)
    if not isinstance(raw, dict):
        raise SimulationError(f"{path}: expected a mapping of state machine -> test case -> expectation")
    result: dict[str, dict[str, Expected]] = {}
    for machine, cases in raw.items():
        if not isinstance(cases, dict):
            raise SimulationError(f"{path}: {machine}: expected a mapping of test case -> expectation")
        result[machine] = {}
        for case, body in cases.items():
            try:
                result[machine][case] = Expected.model_validate(body)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in (machine, case, *first["loc"]))
                raise SimulationError(f"{path}: {where}: {first['msg']}") from None
    return result
