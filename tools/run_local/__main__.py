"""Run a stack's pipelines on this machine: each step's script under SageMaker's container contract.

    python -m tools.run_local --stack NAME [--pipeline NAME] [--data FILE] [--rows N] [--json] [--cwd DIR]
    ml-pipelines run-local --stack NAME ...        make run-local STACK=NAME

Each pipeline's training state machine is walked as Step Functions runs it: the workload's code and the raw
data (the stack's `exampleData`, or `--data`) are put in a local S3, then Preprocess, Train and Evaluate run
their scripts (tools/run_local/containers.py), ReadMetric reads the metric with the evaluation function's own
code, and the definition's QualityGate decides. A model that passes is served: the first `--rows` held-out rows
go through the workload's inference handler as the serving container calls it.

Exit codes: 0 every gate passed; 1 a gate rejected a model or a step failed (its name and the script's error
said); 2 bad input (a stack, pipeline or file that is not there), one line.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from components import images
from components.arns import AwsContext
from components.files import read_document
from components.ml_pipeline import MlPipelineArgs, pipelines_of, workflow_spec
from components.settings import SettingsError, settings_of_stack_file
from components.workflow_definition import (
    GATE_STATE,
    LAMBDA_INVOKE,
    PROCESSING_JOB_SYNC,
    REGISTER_STATE,
    REJECTED_STATE,
    TRAINING_JOB_SYNC,
    build_definition,
)
from tools.cli import Parser, UsageError
from tools.run_local import containers
from tools.run_local.paths import LocalRunError, choose, parameters, put

PASSED, REJECTED, ERROR = 0, 1, 2
LOCAL_ACCOUNT = "123456789012"
"""The account in the local run's names and ARNs (nothing is sent to AWS)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m tools.run_local", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the stack whose settings the pipelines run with")
    parser.add_argument("--pipeline", help="one pipeline of the stack (default: every one)")
    parser.add_argument("--data", type=Path, help="a raw CSV to use instead of the stack's exampleData")
    parser.add_argument("--rows", type=int, default=5, help="held-out rows to predict on (default 5)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (progress to stderr)")
    parser.add_argument("--cwd", type=Path, default=Path("."), help="the Pulumi project folder (default: .)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        raise UsageError(f"--rows: {args.rows}; at least 1")
    return args


@dataclass
class Step:
    name: str
    what: str
    seconds: float
    peak_mb: float


@dataclass
class Outcome:
    pipeline: str
    metric: str
    threshold: float
    value: float | None = None
    gate: str = "failed"
    predictions: list[Any] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    error: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "pipeline": self.pipeline,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "gate": self.gate,
            "predictions": self.predictions,
            "steps": [
                {"name": s.name, "seconds": round(s.seconds, 3), "peakMemoryMB": round(s.peak_mb, 1)}
                for s in self.steps
            ],
        }
        if self.error is not None:
            found["error"] = self.error
        return found


class StepFailed(Exception):
    def __init__(self, step: str, message: str, detail: str = "") -> None:
        super().__init__(f"{step}: {message}")
        self.step, self.message, self.detail = step, message, detail


def _partition(region: str) -> str:
    import botocore.loaders

    for partition in botocore.loaders.Loader().load_data("partitions")["partitions"]:
        if region in partition["regions"]:
            return str(partition["id"])
    return "aws"


def load(project_dir: Path, stack: str) -> tuple[list[MlPipelineArgs], list[str]]:
    """The stack's pipelines as the program builds them (local account), and notes on library versions."""
    from tools.mock_runtime.program import PlanError, list_stacks, load_project

    try:
        project = load_project(project_dir)
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    path = project.stack_file(stack)
    if not path.is_file():
        raise UsageError(f"{path}: no such stack file (stacks: {', '.join(list_stacks(project))})")
    try:
        settings = settings_of_stack_file(project.name, stack, path, project.directory)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    config = (read_document(path, "stack file", UsageError) or {}).get("config", {})
    region = str(config.get("aws:region", "us-east-1"))
    context = AwsContext(partition=_partition(region), region=region, account_id=LOCAL_ACCOUNT)
    return pipelines_of(project.name, stack, settings, context, project.directory), version_notes(settings.pipelines)


def version_notes(pipelines: list[Any]) -> list[str]:
    """One line per library whose version here differs from the one inside a step's AWS-owned image."""
    notes: dict[str, str] = {}
    for pipeline in pipelines:
        for step in ("processing", "training", "evaluation", "inference"):
            settings = getattr(pipeline, step)
            if settings is None or settings.framework is None or settings.version is None:
                continue
            library = images.LIBRARIES[settings.framework]
            expected = images.library_version(settings.framework, settings.version)
            try:
                installed = importlib.metadata.version(library)
            except importlib.metadata.PackageNotFoundError:
                installed = "not installed"
            if not images.matches(installed, expected):
                notes[library] = (
                    f"note: {library} {installed} here, {expected} in the {settings.framework} {settings.version} "
                    f"image ({pipeline.name} {step}): pip install '{library}=={expected}' to run what the image runs"
                )
    return sorted(notes.values())


class _LocalS3Client:
    """The slice of boto3's S3 client the evaluation function calls, over the local S3."""

    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self, s3: containers.LocalS3) -> None:
        self._s3 = s3

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        path = self._s3.path(f"s3://{Bucket}/{Key}")
        if not path.is_file():
            raise self.exceptions.NoSuchKey(Key)
        body = path.read_bytes()
        return {"Body": io.BytesIO(body), "ContentLength": len(body)}


def _evaluation_function(payload: dict[str, Any], s3: containers.LocalS3) -> dict[str, Any]:
    """The evaluation Lambda's own handler, its S3 the local one."""
    from functions.evaluate_model import handler

    original = handler._client
    handler._client = lambda: _LocalS3Client(s3)
    try:
        return handler.handler(payload)
    except handler.InvalidEvaluationReport as exc:
        raise LocalRunError(f"InvalidEvaluationReport: {exc}") from None
    finally:
        handler._client = original


class Run:
    """One pipeline's execution, walked state by state from the definition."""

    def __init__(self, pipeline: MlPipelineArgs, folder: Path, display: Callable[[Step], None]) -> None:
        self.pipeline, self.folder, self._display = pipeline, folder, display
        self.s3 = containers.LocalS3(folder / "s3")
        spec = workflow_spec(pipeline)
        self.definition = build_definition(spec)
        self.outcome = Outcome(pipeline.settings.name, spec.metric, spec.threshold)
        arn = pipeline.context.arn("states", f"execution:{pipeline.names.state_machine}:local")
        # The context object as a first execution's first attempts see it (no redrive, no retry).
        self.context = {
            "Execution": {"Id": arn, "Name": "local", "RedriveCount": 0},
            "State": {"RetryCount": 0},
            "StateMachine": {"Name": pipeline.names.state_machine},
        }
        self.requests: dict[str, dict[str, Any]] = {}

    def report(self, step: Step) -> None:
        self.outcome.steps.append(step)
        self._display(step)

    def upload(self, data: Path) -> None:
        """What `pulumi up` and the team put in the bucket: the workload's code and the raw data."""
        code = self.pipeline.code
        for path, content in self.pipeline.workload.files:
            self.s3.put(code.files_uri + path, content)
        self.s3.put(code.archive_uri, self.pipeline.workload.archive())
        raw = f"s3://{self.pipeline.bucket_name}/{self.pipeline.names.s3_prefix}data/raw/{data.name}"
        self.s3.put(raw, data.read_bytes())

    def _task(self, name: str, state: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        resource = state["Resource"]
        folder = self.folder / "containers" / name
        ctx = self.pipeline.context
        if resource.endswith(PROCESSING_JOB_SYNC):
            job = request["ProcessingJobName"]
            script = Path(request["AppSpecification"]["ContainerEntrypoint"][-1]).name
            finished = self._container(
                name, f"processing job, {script}", lambda: containers.processing_job(request, self.s3, folder)
            )
            self.report(Step(name, f"processing job, {script}", finished.seconds, finished.peak_mb))
            return {"ProcessingJobName": job, "ProcessingJobArn": ctx.arn("sagemaker", f"processing-job/{job}")}
        if resource.endswith(TRAINING_JOB_SYNC):
            job = request["TrainingJobName"]
            program = json.loads(request["HyperParameters"].get("sagemaker_program", '"train.py"'))
            finished, artifacts = self._container(
                name, f"training job, {program}", lambda: containers.training_job(request, self.s3, folder)
            )
            self.report(Step(name, f"training job, {program}", finished.seconds, finished.peak_mb))
            return {
                "TrainingJobName": job,
                "TrainingJobArn": ctx.arn("sagemaker", f"training-job/{job}"),
                "ModelArtifacts": {"S3ModelArtifacts": artifacts},
            }
        if resource.endswith(LAMBDA_INVOKE):
            import time

            started = time.perf_counter()
            try:
                payload = _evaluation_function(request["Payload"], self.s3)
            except LocalRunError as exc:
                raise StepFailed(name, str(exc)) from None
            self.report(Step(name, "evaluation function", time.perf_counter() - started, 0.0))
            return {"Payload": payload, "StatusCode": 200}
        raise StepFailed(name, f"the local run does not run {resource}")

    def _container(self, name: str, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except containers.ContainerFailed as exc:
            raise StepFailed(name, f"{what} failed: {exc}", exc.stderr) from None
        except LocalRunError as exc:
            raise StepFailed(name, str(exc)) from None

    def walk(self) -> dict[str, Any]:
        """Initialize to the quality gate; the execution's data at the gate's decision."""
        states: dict[str, dict[str, Any]] = self.definition["States"]
        data: dict[str, Any] = {}
        name = self.definition["StartAt"]
        while name != GATE_STATE:
            state = states[name]
            try:
                if state["Type"] == "Pass":
                    result = parameters(state["Parameters"], data, self.context) if "Parameters" in state else data
                elif state["Type"] == "Task":
                    request = parameters(state["Parameters"], data, self.context)
                    self.requests[name] = request
                    response = self._task(name, state, request)
                    selector = state.get("ResultSelector")
                    result = parameters(selector, response, self.context) if selector else response
                else:
                    raise StepFailed(name, f"a {state['Type']} state before the quality gate: not run locally")
            except LocalRunError as exc:
                raise StepFailed(name, str(exc)) from None
            data = put(data, state.get("ResultPath", "$"), result)
            name = state["Next"]
        return data

    def execute(self, data_file: Path, rows: int) -> Outcome:
        outcome = self.outcome
        try:
            self.upload(data_file)
            data = self.walk()
            outcome.value = float(data["evaluation"]["value"])
            decision = choose(self.definition["States"][GATE_STATE], data, self.context)
            outcome.gate = "rejected" if decision == REJECTED_STATE else "passed"
            self.report(
                Step(
                    GATE_STATE, f"{outcome.metric} {outcome.value:.4f} vs {outcome.threshold}: {outcome.gate}", 0.0, 0.0
                )
            )
            if outcome.gate == "passed":
                outcome.predictions = self.serve(data, rows)
        except StepFailed as exc:
            outcome.gate = "failed"
            outcome.error = {"step": exc.step, "message": exc.message}
            if exc.detail:
                outcome.error["stderr"] = exc.detail[-4000:]
        return outcome

    def serve(self, data: dict[str, Any], rows: int) -> list[Any]:
        """The registered container (RegisterModel's own parameters) on held-out rows: the Evaluate job's `test`
        input, its first column (the label, in the workload's format) left out."""
        registered = self.definition["States"][REGISTER_STATE]["Parameters"]["InferenceSpecification"]
        try:
            container = parameters(registered, data, self.context)["Containers"][0]
        except LocalRunError as exc:
            raise StepFailed(REGISTER_STATE, str(exc)) from None
        test = next(
            (
                item["S3Input"]["S3Uri"]
                for item in self.requests.get("Evaluate", {}).get("ProcessingInputs", [])
                if item["InputName"] == "test"
            ),
            None,
        )
        if test is None:
            raise StepFailed("Serve", "the Evaluate job has no input named test to take held-out rows from")
        staged = self.folder / "held-out"
        self.s3.download_prefix(test, staged)
        lines = [line for path in sorted(staged.rglob("*.csv")) for line in path.read_text().splitlines() if line]
        body = "\n".join(line.split(",", 1)[1] for line in lines[:rows]) + "\n"
        finished, response = self._container(
            "Serve",
            "inference handler",
            lambda: containers.serve(
                container, container["ModelDataUrl"], body, self.s3, self.folder / "containers" / "Serve"
            ),
        )
        self.report(Step("Serve", "inference handler", finished.seconds, finished.peak_mb))
        predictions = response.get("predictions") if isinstance(response, dict) else response
        return list(predictions or [])


def _display(console: Console) -> Callable[[Step], None]:
    def show(step: Step) -> None:
        memory = f"  {step.peak_mb:6.0f} MB" if step.peak_mb else ""
        console.print(f"  {step.name:<12} {step.what:<44} {step.seconds:7.2f} s{memory}", highlight=False)

    return show


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        pipelines, notes = load(args.cwd, args.stack)
        if args.pipeline is not None:
            pipelines = [p for p in pipelines if p.settings.name == args.pipeline]
            if not pipelines:
                raise UsageError(f"--pipeline: the stack {args.stack} has no pipeline {args.pipeline!r}")
        if args.data is not None and not args.data.is_file():
            raise UsageError(f"--data: {args.data}: no such file")
        inputs = {p.settings.name: _raw_data(p, args.data, args.stack) for p in pipelines}
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ERROR
    console = Console(stderr=args.json, highlight=False, soft_wrap=True)
    for note in notes:
        console.print(note, style="yellow")
    outcomes = []
    for pipeline in pipelines:
        name = pipeline.settings.name
        console.print(f"[bold]{name}[/bold] ({pipeline.names.prefix}, workload {pipeline.settings.workload})")
        with tempfile.TemporaryDirectory(prefix=f"run-local-{name}-") as folder:
            status = console.status(f"{name}: running", spinner="dots") if console.is_terminal else None
            if status is not None:
                status.start()
            try:
                outcome = Run(pipeline, Path(folder), _display(console)).execute(inputs[name], args.rows)
            finally:
                if status is not None:
                    status.stop()
        outcomes.append(outcome)
        if outcome.error is not None:
            if "stderr" in outcome.error and not args.json:
                console.print(outcome.error["stderr"].rstrip(), style="dim", markup=False, highlight=False)
            console.print(f"  [red]FAILED[/red] {outcome.error['step']}: {outcome.error['message']}")
        elif outcome.gate == "rejected":
            console.print(
                f"  [red]REJECTED[/red] {outcome.metric} {outcome.value:.4f}: the gate wants "
                f"{outcome.threshold} (the state machine ends in {REJECTED_STATE})"
            )
        else:
            first = json.dumps(outcome.predictions[0]) if outcome.predictions else "none"
            console.print(
                f"  [green]PASSED[/green] {outcome.metric} {outcome.value:.4f} (gate {outcome.threshold}); "
                f"{len(outcome.predictions)} held-out predictions, the first {first}",
                highlight=False,
            )
    if args.json:
        result = {"stack": args.stack, "pipelines": [o.as_json() for o in outcomes], "notes": notes}
        print(json.dumps(result, indent=2))
    return PASSED if all(o.gate == "passed" for o in outcomes) else REJECTED


def _raw_data(pipeline: MlPipelineArgs, data: Path | None, stack: str) -> Path:
    if data is not None:
        return data
    example = pipeline.settings.example_data
    if example is None:
        raise UsageError(
            f"the pipeline {pipeline.settings.name} of {stack} has no exampleData: pass --data FILE (a raw CSV)"
        )
    try:
        return example.file()
    except ValueError as exc:
        raise UsageError(f"{pipeline.settings.name} exampleData: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
