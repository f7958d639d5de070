"""Test cases run against the state machines a stack's program renders, and checked against expectations."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.arns import DEPLOY_SUFFIX
from tools.mock_runtime.program import Plan, PlanError, run_program
from tools.simulate import engine, expectations, mock_config

STATE_MACHINE_TYPE = "aws:sfn/stateMachine:StateMachine"


@dataclass(frozen=True)
class StateMachine:
    """One state machine as the program declares it for a stack (update mode: every ARN known)."""

    name: str
    arn: str
    role_arn: str
    definition: str
    stack: str = ""

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        return dict(json.loads(self.definition)["States"])


def state_machines(directory: Path, stack: str) -> list[StateMachine]:
    try:
        plan = run_program(directory, stack, preview=False)
    except PlanError as exc:
        raise engine.SimulationError(str(exc)) from None
    found = machines_of(plan)
    if not found:
        raise engine.SimulationError(f"stack {stack} declares no state machine")
    return found


def machines_of(plan: Plan) -> list[StateMachine]:
    """The state machines a planned stack declares, by name (the program registers them concurrently)."""
    found = [
        StateMachine(
            r.wire_inputs["name"],
            str(r.outputs["arn"]),
            r.wire_inputs["roleArn"],
            r.wire_inputs["definition"],
            plan.stack,
        )
        for r in plan.resources
        if r.type == STATE_MACHINE_TYPE
    ]
    return sorted(found, key=lambda m: m.name)


@dataclass(frozen=True)
class Redriven:
    """A redrive of the case's execution: the test case that answered it, and how it went."""

    case: str
    execution: engine.Execution


@dataclass
class Result:
    state_machine: str
    case: str
    execution: engine.Execution
    expected: expectations.Expected | None
    mismatches: list[str] = field(default_factory=list)
    redrives: list[Redriven] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.expected is not None and not self.mismatches


_CODE_KEY = re.compile(r"/pipelines/[a-z0-9-]+/code/([0-9a-f]+)/")


def names_of(machine: StateMachine, case: str) -> dict[str, str]:
    """What the placeholders of mocked responses and expectations stand for in one execution of `case`."""
    execution_arn = machine.arn.replace(":stateMachine:", ":execution:") + f":{case}"
    names = {
        "stateMachine": machine.name,
        "stack": machine.stack,
        "pipeline": machine.name.removesuffix(DEPLOY_SUFFIX),  # a deployment machine is `<prefix>-deploy`
        # what `States.Hash($$.Execution.Id, 'MD5')` gives this execution: the names it creates end with it
        "runId": hashlib.md5(execution_arn.encode(), usedforsecurity=False).hexdigest(),
    }
    # The workload code's digest, as the definition names its code (`.../code/<digest>/`): it changes with the code.
    code = _CODE_KEY.search(machine.definition)
    if code is not None:
        names["codeDigest"] = code.group(1)
    return names


def run_case(
    machine: StateMachine,
    case: str,
    config: mock_config.MockConfig,
    expected: expectations.Expected | None,
    execution_input: Any = None,
) -> Result:
    names = names_of(machine, case)
    if expected is not None:
        expected = expected.model_validate(
            mock_config.named(expected.model_dump(by_alias=True, exclude_unset=True), names)
        )
    if execution_input is None:
        execution_input = expected.input if expected is not None else {}
    execution = engine.run(
        machine.definition,
        state_machine_arn=machine.arn,
        role_arn=machine.role_arn,
        execution_name=case,
        execution_input=execution_input,
        test_case=config.test_case(machine.name, case, names),
    )
    mismatches = expected.mismatches(execution) if expected is not None else []
    result = Result(machine.name, case, execution, expected, mismatches)
    # Each redrive goes on from the last execution's unsuccessful step, as the same execution (same name and
    # ARN, so the same run id), with the redrive count one higher.
    step = expected.redrive if expected is not None else None
    while step is not None:
        number = len(result.redrives) + 1
        if execution.status == "SUCCEEDED":
            result.mismatches.append(f"redrive {number}: the execution succeeded, nothing to redrive")
            break
        answers = mock_config.redrive_case(case, number)
        if answers not in config.StateMachines[machine.name].TestCases:
            raise engine.SimulationError(
                f"{machine.name}.{case} expects redrive {number}, but the mock config has no test case {answers} "
                "to answer it"
            )
        execution = engine.redrive(
            machine.definition,
            execution,
            state_machine_arn=machine.arn,
            role_arn=machine.role_arn,
            execution_name=case,
            test_case=config.test_case(machine.name, answers, names),
            redrive_count=number,
        )
        result.redrives.append(Redriven(answers, execution))
        result.mismatches += [f"redrive {number} ({answers}): {m}" for m in step.mismatches(execution)]
        step = step.redrive
    return result


def simulate(
    directory: Path,
    stack: str,
    case: str,
    mock_config_path: Path,
    expectations_path: Path,
    only: str | None = None,
) -> list[Result]:
    """Run `case` on every state machine of `stack` (or the one named `only`) that the mock config covers."""
    config = mock_config.load(mock_config_path)
    expected = expectations.load(expectations_path)
    machines = [m for m in state_machines(directory, stack) if only is None or m.name == only]
    if not machines:
        raise engine.SimulationError(f"stack {stack} has no state machine named {only}")
    untested = [m.name for m in machines if not config.cases(m.name)]
    if untested:
        # A pipeline added to the stack file without cases would otherwise be silently left out.
        raise engine.SimulationError(
            f"{mock_config_path}: no test cases for {', '.join(untested)}; add them under StateMachines."
            f"{untested[0]}.TestCases (and their expectations), as for the other pipelines"
        )
    covered = [m for m in machines if case in config.cases(m.name)]
    if not covered:
        known = sorted({c for m in machines for c in config.cases(m.name)})
        raise engine.SimulationError(
            f"{mock_config_path}: no test case {case} for {', '.join(m.name for m in machines)} "
            f"(cases: {', '.join(known) or 'none'})"
        )
    results = []
    for machine in covered:
        case_expected = expected.get(machine.name, {}).get(case)
        if case_expected is None:
            raise engine.SimulationError(f"{expectations_path}: {machine.name}.{case}: no expectation for this case")
        results.append(run_case(machine, case, config, case_expected))
    return results
