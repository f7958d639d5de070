"""Plan Pulumi stacks and policy-check them offline: no Pulumi CLI, no cloud credentials.

    python -m tools.offline_preview [--cwd DIR] --stack NAME [--stack NAME]... [--policy-pack DIR]...
        [--policy-pack-config FILE]... [--stack-tag KEY=VALUE]... [--preview] [--json] [--verbose]
        [--stall-timeout SECONDS] [--invoke-results FILE] [--stack-reference-outputs FILE]

A `{stack}` in a --policy-pack-config path is replaced by each stack's name, so that several stacks are
planned in one run, each with its environment's config (`make plan`).

Exit codes: 0 no mandatory violation; 1 at least one; 2 usage, settings or program errors (one line).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import traceback
from pathlib import Path

from tools.cli import Parser, UsageError
from tools.mock_runtime.answers import AnswerError, load_answers
from tools.mock_runtime.program import STALL_SECONDS, PlanError, load_project, load_stack_config, run_program
from tools.offline_preview.analyzer import PackError, PolicyPack
from tools.offline_preview.check import Stream
from tools.offline_preview.outcome import ERROR, Outcome


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m tools.offline_preview", description=__doc__.splitlines()[0])
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the Pulumi project directory (default: .)")
    parser.add_argument("--stack", action="append", required=True, help="a stack to plan (repeatable)")
    parser.add_argument("--policy-pack", action="append", type=Path, default=[], help="a policy pack directory")
    parser.add_argument(
        "--policy-pack-config",
        action="append",
        default=[],
        help="config for the pack at the same position; {stack} in the path is replaced by each stack's name",
    )
    parser.add_argument(
        "--stack-tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack tag the packs see (repeatable); added to the stack file's pulumi:tags",
    )
    parser.add_argument("--preview", action="store_true", help="leave outputs of resources being created unknown")
    parser.add_argument("--json", action="store_true", help="print one JSON document (an array for several stacks)")
    parser.add_argument("--sarif", type=Path, help="also write the violations as a SARIF 2.1.0 log (code scanning)")
    parser.add_argument("--verbose", action="store_true", help="show the program's traceback on failure")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=STALL_SECONDS,
        metavar="SECONDS",
        help=f"end a program run that waits this long with nothing reaching the engine (default: {STALL_SECONDS:g})",
    )
    parser.add_argument(
        "--invoke-results",
        type=Path,
        metavar="FILE",
        help="results of provider functions the offline preview does not answer itself (YAML or JSON)",
    )
    parser.add_argument(
        "--stack-reference-outputs",
        type=Path,
        metavar="FILE",
        help="outputs of the stacks the program references (YAML or JSON); unknown when not given",
    )
    args = parser.parse_args(argv)
    if not args.stall_timeout > 0:
        raise UsageError(f"--stall-timeout {args.stall_timeout:g}: a number of seconds above 0 is required")
    if args.policy_pack_config and len(args.policy_pack_config) != len(args.policy_pack):
        # As the CLI (MakeLocalPolicyPacks): no config at all, or one per pack, in the same order.
        raise UsageError("give one --policy-pack-config per --policy-pack, in the same order, or none")
    tags: dict[str, str] = {}
    for tag in args.stack_tag:
        key, sep, value = tag.partition("=")
        if not sep or not key:
            raise UsageError(f"--stack-tag {tag!r}: KEY=VALUE is required, e.g. --stack-tag owner=ml-platform")
        tags[key] = value
    args.stack_tags = tags
    return args


def _program_error(exc: BaseException, verbose: bool) -> tuple[str, str | None]:
    """One line naming the cause; the traceback only on request."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, (PlanError, PackError)):
        message = f"the program failed: {type(exc).__name__}: {message}"
    return message, ("".join(traceback.format_exception(exc)) if verbose else None)


def _configure(packs: list[PolicyPack], configs: list[Path]) -> None:
    for index, pack in enumerate(packs):
        pack.configure([configs[index]] if index < len(configs) else [])


def _collect(outcome: Outcome, stream: Stream) -> None:
    try:
        found = stream.result()
    except PackError as exc:
        outcome.error = str(exc)
        return
    outcome.diagnostics.extend(found.diagnostics)
    outcome.remediations.extend(found.remediations)


def stack_tags(config: dict[str, str], path: Path, given: dict[str, str]) -> dict[str, str]:
    """The stack's tags as the engine knows them: the stack file's `pulumi:tags`, then --stack-tag."""
    raw = config.get("pulumi:tags")
    tags: dict[str, str] = {}
    if raw is not None:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise PackError(f"{path}: pulumi:tags: a mapping of tag names to strings is required")
        tags.update(value)
    return {**tags, **given}


def run(args: argparse.Namespace) -> list[Outcome]:
    directory = args.cwd.resolve()
    outcomes: list[Outcome] = []
    try:
        project = load_project(directory)
        # Against --cwd, as every path flag (the CLI chdirs to --cwd first).
        answers = load_answers(
            directory / args.invoke_results if args.invoke_results else None,
            directory / args.stack_reference_outputs if args.stack_reference_outputs else None,
        )
    except (PlanError, AnswerError) as exc:
        return [Outcome(stack, error=str(exc)) for stack in args.stack]
    # Start every pack for every stack first: their start-up overlaps the program runs.
    packs: dict[str, list[PolicyPack]] = {}
    try:
        for stack in args.stack:
            try:
                config, secrets = load_stack_config(project, stack)
            except PlanError:
                config, secrets = {}, set()
            try:
                tags = stack_tags(config, project.stack_file(stack), args.stack_tags)
                packs[stack] = [
                    PolicyPack(
                        (directory / pack) if not pack.is_absolute() else pack,
                        project=project.name,
                        stack=stack,
                        dry_run=args.preview,
                        stack_config=config,
                        secret_keys=secrets,
                        stack_tags=tags,
                    ).start()
                    for pack in args.policy_pack
                ]
            except PackError as exc:
                return [Outcome(name, project=project.name, error=str(exc)) for name in args.stack]
        # Each resource goes to the packs as it is registered, and each stack's AnalyzeStack overlaps the next
        # stack's program run: the packs' work (in their processes) overlaps the programs'.
        streams: list[tuple[Outcome, Stream]] = []
        for stack in args.stack:
            outcome = Outcome(stack, project=project.name)
            outcomes.append(outcome)
            # As the CLI resolves it (`--cwd` chdirs before anything: "as if it had been started in another
            # directory"), against --cwd; absolute now: the program run changes the working directory.
            configs = [(directory / c.replace("{stack}", stack)).resolve() for c in args.policy_pack_config]
            stream = Stream(packs[stack], functools.partial(_configure, packs[stack], configs))
            try:
                outcome.plan = run_program(
                    directory,
                    stack,
                    preview=args.preview,
                    stall_seconds=args.stall_timeout,
                    answers=answers,
                    on_resource=stream.add,
                )
            except (Exception, SystemExit) as exc:
                stream.abandon()  # its findings, or its own failure, are not reported: the program failed
                outcome.error, outcome.detail = _program_error(exc, args.verbose)
                continue
            stream.finish(outcome.plan)
            streams.append((outcome, stream))
        for outcome, stream in streams:
            _collect(outcome, stream)
    finally:
        for running in packs.values():
            for pack in running:
                pack.close()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ERROR
    outcomes = run(args)
    if args.json:
        documents = [o.as_json() for o in outcomes]
        print(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
        for outcome in outcomes:
            for line in (outcome.error or "").splitlines():
                print(f"error: {outcome.stack}: {line}", file=sys.stderr)
    else:
        from tools.offline_preview.render import render

        render(outcomes, preview=args.preview)
    from tools.offline_preview.render import step_summary

    step_summary(outcomes)
    if args.sarif is not None:
        from tools.offline_preview import sarif

        try:
            project = load_project(args.cwd.resolve())
            files = {o.stack: project.stack_file(o.stack) for o in outcomes}
        except PlanError:
            files = {o.stack: args.cwd.resolve() / f"Pulumi.{o.stack}.yaml" for o in outcomes}
        # Every path flag resolves against --cwd, as the CLI's do.
        sarif.write(outcomes, args.cwd.resolve() / args.sarif, files, Path.cwd())
    return max(o.exit_code for o in outcomes)


if __name__ == "__main__":
    # As a command, nothing needs collecting: the imported modules live until exit, and at exit there is
    # nothing left to free. Freezing skips the collector's passes over them (0.3-0.4 s of a 1.5 s run).
    gc.freeze()
    code = main()
    gc.freeze()
    raise SystemExit(code)
