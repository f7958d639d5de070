"""SageMaker's containers, run locally: the folders, files and environment variables each job's container is
given, with `/opt/ml` laid out under a temporary folder and S3 as a folder of its own (LocalS3).

- Processing ("How Amazon SageMaker Processing Runs Your Processing Container Image"): each input's S3 objects
  copied to its LocalPath, the entrypoint run with its arguments, each output's LocalPath uploaded at the end.
- Training (the `sagemaker-training` toolkit that AWS's framework images run, sagemaker_training/environment.py
  and mapping.py): `input/config/hyperparameters.json` (string values, as CreateTrainingJob takes them) and
  `inputdataconfig.json`; `input/data/<channel>/`; the source archive named by `sagemaker_submit_directory`
  unpacked into `code/` and `sagemaker_program` run there with the other hyperparameters, JSON-decoded, as
  sorted `--name value` arguments; SM_MODEL_DIR, SM_OUTPUT_DATA_DIR, SM_CHANNEL_<NAME>, SM_CHANNELS, SM_HPS and
  SM_HP_<NAME>. `model/` is packed into `<S3OutputPath>/<job>/output/model.tar.gz`, `output/data/` into
  `output.tar.gz` beside it.
- Serving (sagemaker_sklearn_container/serving.py, sagemaker_containers): SAGEMAKER_PROGRAM imported from the
  unpacked SAGEMAKER_SUBMIT_DIRECTORY, `model_fn` on the unpacked model.tar.gz, then per request `input_fn`,
  `predict_fn`, `output_fn`; a (body, content type) tuple is the response.

Every container is a process of its own (this machine's Python), timed, with its peak memory read from the
kernel (`os.wait4`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.run_local.paths import LocalRunError

CONTAINER_ROOT = "/opt/ml"
_SERVE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
handler = importlib.import_module(sys.argv[2])
model = handler.model_fn(sys.argv[3])
body = sys.stdin.read()
data = handler.input_fn(body, "text/csv")
prediction = handler.predict_fn(data, model)
response = handler.output_fn(prediction, "application/json")
body, content_type = response if isinstance(response, tuple) else (response, "application/json")
sys.stdout.write(json.dumps({"contentType": content_type, "body": body if isinstance(body, str) else body.decode()}))
"""


@dataclass(frozen=True)
class Finished:
    """A container's run: how long it took, its peak resident memory, what it printed."""

    seconds: float
    peak_mb: float
    stdout: str


class ContainerFailed(Exception):
    """A container's process exited non-zero; the message is its last lines of standard error."""

    def __init__(self, code: int, stderr: str) -> None:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        super().__init__(lines[-1] if lines else f"exited with code {code}")
        self.code, self.stderr = code, stderr


class LocalS3:
    """S3 as a folder: `s3://bucket/key` is `<root>/bucket/key`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, uri: str) -> Path:
        if not uri.startswith("s3://"):
            raise LocalRunError(f"{uri!r} is not an s3:// URI")
        return self.root / uri.removeprefix("s3://")

    def put(self, uri: str, content: bytes) -> None:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    def download_prefix(self, uri: str, folder: Path) -> int:
        """S3Prefix: every object whose key starts with the prefix, under its key's remainder (the object's
        own name when the prefix is a whole key); how many there were."""
        prefix = self.path(uri)
        matches = [p for p in prefix.parent.rglob("*") if p.is_file() and str(p).startswith(str(prefix))]
        folder.mkdir(parents=True, exist_ok=True)
        for source in matches:
            relative = str(source)[len(str(prefix)) :].lstrip("/") or source.name
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return len(matches)

    def upload_folder(self, folder: Path, uri: str) -> None:
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            self.put(f"{uri.rstrip('/')}/{source.relative_to(folder).as_posix()}", source.read_bytes())


def run(command: list[str], *, cwd: Path, env: dict[str, str], stdin: str | None = None) -> Finished:
    """One container process: timed, its peak memory (ru_maxrss, KiB on Linux) from the kernel as it is reaped."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    streams: dict[str, str] = {}

    def drain(name: str, stream: Any) -> None:
        streams[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
    ]
    for reader in readers:
        reader.start()
    assert process.stdin is not None
    try:
        process.stdin.write(stdin or "")
        process.stdin.close()
    except BrokenPipeError:  # the process ended without reading its input: its exit says why
        pass
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    if process.returncode != 0:
        raise ContainerFailed(process.returncode, streams.get("stderr", ""))
    return Finished(time.perf_counter() - started, usage.ru_maxrss / 1024, streams.get("stdout", ""))


def _environment(extra: dict[str, str]) -> dict[str, str]:
    # The container's own environment, not the caller's virtualenv variables beyond what Python needs.
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
    return {**keep, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", **extra}


def in_container(root: Path, path: str) -> Path:
    """Where a container path (`/opt/ml/...`) is in this run's folder."""
    if not path.startswith(CONTAINER_ROOT + "/"):
        raise LocalRunError(f"{path!r} is not under {CONTAINER_ROOT}/: the local run lays out only that folder")
    return root / path.lstrip("/")


def _command(root: Path, words: list[str]) -> list[str]:
    """The container's command, its paths under `root`, `python3` this machine's Python."""
    command = []
    for word in words:
        if word in ("python3", "python"):
            command.append(sys.executable)
        elif word.startswith(CONTAINER_ROOT + "/"):
            command.append(str(in_container(root, word)))
        else:
            command.append(word)
    return command


def processing_job(request: dict[str, Any], s3: LocalS3, root: Path) -> Finished:
    """CreateProcessingJob's request, run: inputs downloaded, the entrypoint run, outputs uploaded."""
    application = request["AppSpecification"]
    if "ContainerEntrypoint" not in application:
        raise LocalRunError("a processing job without ContainerEntrypoint runs the image's own: not locally")
    for item in request.get("ProcessingInputs", []):
        source = item["S3Input"]
        if not s3.download_prefix(source["S3Uri"], in_container(root, source["LocalPath"])):
            raise LocalRunError(f"input {item['InputName']}: nothing at {source['S3Uri']}")
    outputs = request.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for item in outputs:
        in_container(root, item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
    words = [*application["ContainerEntrypoint"], *application.get("ContainerArguments", [])]
    finished = run(_command(root, words), cwd=root, env=_environment({}))
    for item in outputs:
        s3.upload_folder(in_container(root, item["S3Output"]["LocalPath"]), item["S3Output"]["S3Uri"])
    return finished


def _decoded(value: str) -> Any:
    """As the toolkit reads a hyperparameter: JSON where it parses, the string itself otherwise."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _argument(value: Any) -> str:
    """mapping.to_cmd_args's rendering of a decoded value."""
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return value if isinstance(value, str) else json.dumps(value)


def training_job(request: dict[str, Any], s3: LocalS3, root: Path) -> tuple[Finished, str]:
    """CreateTrainingJob's request, run in script mode; (the run, the model artifacts' S3 URI)."""
    opt = root / CONTAINER_ROOT.lstrip("/")
    hyperparameters: dict[str, str] = dict(request.get("HyperParameters", {}))
    decoded = {key: _decoded(value) for key, value in hyperparameters.items()}
    program, directory = decoded.get("sagemaker_program"), decoded.get("sagemaker_submit_directory")
    if not isinstance(program, str) or not isinstance(directory, str):
        raise LocalRunError("the training job has no sagemaker_program and sagemaker_submit_directory (script mode)")
    config = opt / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    channels = {}
    for channel in request.get("InputDataConfig", []):
        name = channel["ChannelName"]
        source = channel["DataSource"]["S3DataSource"]
        if not s3.download_prefix(source["S3Uri"], opt / "input" / "data" / name):
            raise LocalRunError(f"channel {name}: nothing at {source['S3Uri']}")
        channels[name] = {"TrainingInputMode": request["AlgorithmSpecification"].get("TrainingInputMode", "File")}
    (config / "inputdataconfig.json").write_text(json.dumps(channels))
    code, model, output_data = opt / "code", opt / "model", opt / "output" / "data"
    for folder in (code, model, output_data):
        folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(s3.path(directory), "r:gz") as archive:
        archive.extractall(code, filter="data")
    user = {k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}
    env = {
        "SM_MODEL_DIR": str(model),
        "SM_OUTPUT_DATA_DIR": str(output_data),
        "SM_INPUT_DIR": str(opt / "input"),
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_OUTPUT_DIR": str(opt / "output"),
        "SM_MODULE_DIR": directory,
        "SM_USER_ENTRY_POINT": program,
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(user),
        "SM_CURRENT_HOST": "algo-1",
        "SM_HOSTS": json.dumps(["algo-1"]),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        **{f"SM_CHANNEL_{name.upper()}": str(opt / "input" / "data" / name) for name in channels},
        **{f"SM_HP_{key.upper()}": _argument(value) for key, value in user.items()},
    }
    arguments = [
        word for key in sorted(user) for word in (f"--{key}" if len(key) > 1 else f"-{key}", _argument(user[key]))
    ]
    finished = run([sys.executable, program, *arguments], cwd=code, env=_environment(env))
    job = request["TrainingJobName"]
    artifacts = f"{request['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job}/output/model.tar.gz"
    s3.put(artifacts, _pack(model))
    s3.put(artifacts.replace("/model.tar.gz", "/output.tar.gz"), _pack(output_data))
    return finished, artifacts


def _pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.add(path, arcname=path.relative_to(folder).as_posix())
    return buffer.getvalue()


def serve(container: dict[str, Any], model_data: str, rows_csv: str, s3: LocalS3, root: Path) -> tuple[Finished, Any]:
    """The registered container's handler on `rows_csv` (text/csv), as the serving container calls it; the
    response body, parsed from JSON."""
    environment = container.get("Environment", {})
    program, directory = environment.get("SAGEMAKER_PROGRAM"), environment.get("SAGEMAKER_SUBMIT_DIRECTORY")
    if not program or not directory:
        raise LocalRunError("the model's container names no SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY")
    opt = root / CONTAINER_ROOT.lstrip("/")
    code, model = opt / "code", opt / "model"
    for archive_uri, folder in ((directory, code), (model_data, model)):
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(s3.path(archive_uri), "r:gz") as archive:
            archive.extractall(folder, filter="data")
    module = program.removesuffix(".py")
    finished = run(
        [sys.executable, "-c", _SERVE, str(code), module, str(model)], cwd=code, env=_environment({}), stdin=rows_csv
    )
    response = json.loads(finished.stdout)
    if response["contentType"] != "application/json":
        raise LocalRunError(f"output_fn answered {response['contentType']!r} to application/json")
    return finished, json.loads(response["body"])
