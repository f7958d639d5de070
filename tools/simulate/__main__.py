"""Run a test case on a stack's state machines, offline, and show the path it took, state by state.

    python -m tools.simulate --stack NAME --case NAME [--state-machine NAME] [--cwd DIR]
        [--mock-config FILE] [--expectations FILE] [--json]
    python -m tools.simulate --stack NAME --list

The state machines are those the program declares for the stack (run under Pulumi's mock runtime); the
case's mocked responses come from the mock config (Step Functions Local format) and how it must end from
the expectations file beside it. Exit codes: 0 every execution ended as expected; 1 one did not; 2 the
simulation could not run (one line naming the cause).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from components.arns import pipeline_of_state_machine
from components.files import read_document
from tools.cli import Parser, UsageError
from tools.simulate import REDRIVE_MARK

if TYPE_CHECKING:
    from tools.simulate.engine import Execution
    from tools.simulate.runner import Result

OK, NOT_AS_EXPECTED, ERROR = 0, 1, 2
DEFAULT_MOCK_CONFIG = Path("simulation/MockConfigFile.json")
DEFAULT_EXPECTATIONS = Path("simulation/expected.yaml")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m tools.simulate", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the stack whose state machines run")
    parser.add_argument("--case", help="the test case (a key under TestCases in the mock config)")
    parser.add_argument("--list", action="store_true", help="list the stack's test cases, one a line, and exit")
    parser.add_argument("--state-machine", help="only this state machine of the stack (default: every one)")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the Pulumi project directory (default: .)")
    parser.add_argument("--mock-config", type=Path, help=f"default: <cwd>/{DEFAULT_MOCK_CONFIG}")
    parser.add_argument("--expectations", type=Path, help=f"default: <cwd>/{DEFAULT_EXPECTATIONS}")
    parser.add_argument("--json", action="store_true", help="print the executions as JSON")
    args = parser.parse_args(argv)
    if not args.case and not args.list:
        raise UsageError(f"name a test case with --case, or list them: --stack {args.stack} --list")
    return args


def cases_of(mock_config: Path, stack: str) -> dict[str, list[str]]:
    """Case -> the state machines of the stack that have it, read from the mock config's raw JSON: quick, before
    anything heavy is imported (moto, the program)."""
    raw = read_document(mock_config, "mock config file", UsageError)
    found: dict[str, list[str]] = {}
    machines = raw.get("StateMachines", {}) if isinstance(raw, dict) else {}
    for machine, spec in sorted(machines.items()):
        if pipeline_of_state_machine(machine, stack) is None:
            continue
        for case in spec.get("TestCases", {}) if isinstance(spec, dict) else ():
            if REDRIVE_MARK not in case:  # the answers to a redrive of a case, not a case
                found.setdefault(case, []).append(machine)
    return found


def _compact(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _changes(before: Any, after: Any) -> str:
    """A state's output as what it added or changed at the top level (the rest is its input, passed on)."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return _compact(after)
    changed = {k: v for k, v in after.items() if before.get(k, object()) != v}
    dropped = sorted(set(before) - set(after))
    parts = [f"+{k}={_compact(v, 300)}" for k, v in changed.items()] + [f"-{k}" for k in dropped]
    return "  ".join(parts) or "(input passed on unchanged)"


def _render_execution(execution: Execution, console: Console) -> None:
    for number, step in enumerate(execution.steps, 1):
        console.print(f"  {number:3d}. [cyan]{step.name}[/] ({step.type})", soft_wrap=True)
        console.print(f"       in:  {escape(_compact(step.input, 160))}", soft_wrap=True)
        if step.parameters:
            console.print(f"       request: {escape(_compact(step.parameters[-1], 300))}", soft_wrap=True)
        for attempt, (error, cause) in enumerate(step.failures, 1):
            console.print(
                f"       [yellow]attempt {attempt} failed[/]: {escape(error)}: {escape(cause)}", soft_wrap=True
            )
        if step.retry_delays:
            delays = ", ".join(f"{d:g} s" for d in step.retry_delays)
            console.print(f"       retried {len(step.retry_delays)} times after {delays}", soft_wrap=True)
        if step.waited is not None:
            console.print(f"       waited {step.waited:g} s", soft_wrap=True)
        if step.output is not None:
            console.print(f"       out: {escape(_changes(step.input, step.output))}", soft_wrap=True)
    ending = execution.status
    if execution.status == "FAILED":
        ending += f": {execution.error}: {execution.cause}"
    elif execution.status == "SUCCEEDED":
        ending += f": {_compact(execution.output)}"
    console.print(f"  [bold]{escape(ending)}[/]", soft_wrap=True)


def _render(results: list[Result], console: Console) -> None:
    for result in results:
        console.print(f"[bold]{result.state_machine}[/] / [bold]{result.case}[/]")
        _render_execution(result.execution, console)
        for number, redriven in enumerate(result.redrives, 1):
            console.print(f"  [bold]redrive {number}[/] (answered by {escape(redriven.case)})", soft_wrap=True)
            _render_execution(redriven.execution, console)
        if result.ok:
            console.print(f"[green]AS EXPECTED[/] {result.state_machine} / {result.case}", soft_wrap=True)
        else:
            console.print(f"[red]NOT AS EXPECTED[/] {result.state_machine} / {result.case}:", soft_wrap=True)
            for mismatch in result.mismatches:
                console.print(f"  - {escape(mismatch)}", soft_wrap=True)


def _execution_json(execution: Execution) -> dict[str, Any]:
    return {
        "status": execution.status,
        "error": execution.error,
        "cause": execution.cause,
        "output": execution.output,
        "steps": [
            {
                "name": s.name,
                "type": s.type,
                "input": s.input,
                "output": s.output,
                "attempts": s.attempts,
                "failures": [{"error": e, "cause": c} for e, c in s.failures],
                "retryDelays": s.retry_delays,
            }
            for s in execution.steps
        ],
    }


def _as_json(result: Result) -> dict[str, Any]:
    return {
        "stateMachine": result.state_machine,
        "case": result.case,
        **_execution_json(result.execution),
        # each redrive of the execution (empty when the case has none), in order
        "redrives": [{"case": r.case, **_execution_json(r.execution)} for r in result.redrives],
        "asExpected": result.ok,
        "mismatches": result.mismatches,
    }


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ERROR
    directory = args.cwd.resolve()
    mock_config = args.mock_config or directory / DEFAULT_MOCK_CONFIG
    try:
        cases = cases_of(mock_config, args.stack)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ERROR
    if args.list:
        for case, machines in sorted(cases.items()):
            print(f"{case}: {', '.join(machines)}")
        return OK
    if args.case not in cases and args.state_machine is None:
        known = ", ".join(sorted(cases)) or "none"
        print(
            f"error: {mock_config}: no test case {args.case} for stack {args.stack} (cases: {known})", file=sys.stderr
        )
        return ERROR
    from tools.simulate.engine import SimulationError
    from tools.simulate.runner import simulate

    # The engine logs every failure it handles (a Catch is normal here); the path printed says it all.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    try:
        results = simulate(
            directory,
            args.stack,
            args.case,
            mock_config,
            args.expectations or directory / DEFAULT_EXPECTATIONS,
            only=args.state_machine,
        )
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ERROR
    if args.json:
        print(json.dumps([_as_json(r) for r in results], indent=2))
    else:
        _render(results, Console(highlight=False))
    return OK if all(r.ok for r in results) else NOT_AS_EXPECTED


if __name__ == "__main__":
    raise SystemExit(main())
