"""The workload's code reaches the containers: uploaded under keys that carry its digest, delivered by the
mechanisms SageMaker documents (a processing input, script mode's hyperparameters, the model's environment)."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path

from components.ml_pipeline import pipelines_of, workflow_spec
from components.settings import settings_of_stack_file
from components.workflow_definition import build_definition
from components.workload import read_workload
from tests.conftest import ROOT, definition_of
from tools.mock_runtime.mocks import World
from tools.mock_runtime.program import Plan

FOLDER = ROOT / "workloads" / "breast-cancer"


def _members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_the_archive_holds_the_folders_files_at_its_root_and_is_the_same_every_time(tmp_path: Path) -> None:
    code = read_workload(FOLDER)
    on_disk = {p.name: p.read_bytes() for p in FOLDER.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert _members(code.archive()) == on_disk
    assert code.archive() == read_workload(FOLDER).archive()
    # Caches and hidden files are not code.
    copy = tmp_path / "breast-cancer"
    copy.mkdir()
    for name, content in on_disk.items():
        (copy / name).write_bytes(content)
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    (copy / ".DS_Store").write_bytes(b"\0")
    assert read_workload(copy).digest == code.digest


def test_a_code_change_is_a_new_key_and_a_new_definition_and_no_change_is_none() -> None:
    settings = settings_of_stack_file("ml-pipelines", "dev", ROOT / "stacks" / "Pulumi.dev.yaml")
    [args] = pipelines_of("ml-pipelines", "dev", settings, World(), ROOT)
    again = pipelines_of("ml-pipelines", "dev", settings, World(), ROOT)[0]
    assert build_definition(workflow_spec(again)) == build_definition(workflow_spec(args))
    path, content = args.workload.files[-1]
    changed = replace(args, workload=replace(args.workload, files=(*args.workload.files[:-1], (path, content + b"\n"))))
    assert changed.code.digest != args.code.digest
    assert changed.code.files_uri != args.code.files_uri and changed.code.archive_uri != args.code.archive_uri
    assert build_definition(workflow_spec(changed)) != build_definition(workflow_spec(args))


def test_the_program_uploads_the_code_where_the_definition_sends_the_jobs(plans: dict[str, Plan]) -> None:
    plan = plans["dev"]
    code = read_workload(FOLDER)
    objects = {r.inputs["key"]: r for r in plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    prefix = f"pipelines/tumor-dev/code/{code.digest}"
    assert set(objects) == {
        *(f"{prefix}/{path}" for path, _ in code.files),
        f"{prefix}.tar.gz",
        "pipelines/tumor-dev/data/raw/breast_cancer.csv",
    }
    for path, content in code.files:
        assert base64.b64decode(objects[f"{prefix}/{path}"].inputs["contentBase64"]) == content
    assert _members(base64.b64decode(objects[f"{prefix}.tar.gz"].inputs["contentBase64"])) == dict(code.files)
    bucket = objects[f"{prefix}.tar.gz"].inputs["bucket"]
    states = definition_of(plan)["States"]
    # Processing: the files arrive where the entrypoint runs them (SageMaker's processing inputs).
    for state, script in (("Preprocess", "preprocess.py"), ("Evaluate", "evaluate.py")):
        parameters = states[state]["Parameters"]
        [code_input] = [i for i in parameters["ProcessingInputs"] if i["InputName"] == "code"]
        assert code_input["S3Input"]["S3Uri"] == f"s3://{bucket}/{prefix}/"
        assert parameters["AppSpecification"]["ContainerEntrypoint"] == [
            "python3",
            f"{code_input['S3Input']['LocalPath']}/{script}",
        ]
    # Training: script mode's hyperparameters, JSON-encoded as the SDK writes them; the stack's as they are.
    hyperparameters = states["Train"]["Parameters"]["HyperParameters"]
    assert json.loads(hyperparameters["sagemaker_program"]) == "train.py"
    assert json.loads(hyperparameters["sagemaker_submit_directory"]) == f"s3://{bucket}/{prefix}.tar.gz"
    assert json.loads(hyperparameters["sagemaker_region"]) == "eu-west-1"
    assert {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")} == {
        "n_estimators": "50",
        "learning_rate": "0.1",
        "max_depth": "3",
    }
    # Serving: the registered container's environment names the handler and the same archive.
    [container] = states["RegisterModel"]["Parameters"]["InferenceSpecification"]["Containers"]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == f"s3://{bucket}/{prefix}.tar.gz"


def test_objects_wait_for_the_bucket_and_the_state_machine_for_the_code(plans: dict[str, Plan]) -> None:
    plan = plans["dev"]
    bucket_urns = {r.urn for r in plan.resources if r.type.startswith("aws:s3/bucket") or "ArtifactsBucket" in r.type}
    objects = plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    machine = next(r for r in plan.of_type("aws:sfn/stateMachine:StateMachine") if r.name == "tumor-state-machine")
    for item in objects:
        assert set(item.dependencies) & bucket_urns, item.urn
    code = {o.urn for o in objects if "/code/" in o.inputs["key"]}
    assert code <= set(machine.dependencies)


def test_only_dev_uploads_the_example_data(plans: dict[str, Plan]) -> None:
    uploaded = {
        stack: [
            o.inputs["key"]
            for o in plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
            if "/data/raw/" in o.inputs["key"]
        ]
        for stack, plan in plans.items()
    }
    assert uploaded == {"dev": ["pipelines/tumor-dev/data/raw/breast_cancer.csv"], "staging": [], "prod": []}


def _s3_keys(value: object, found: list[str]) -> list[str]:
    """Every S3 key a definition's parameters name (static, or a `States.Format` template with a run id put in)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith(("S3Uri", "S3OutputPath")) and isinstance(item, str):
                uri = item.removeprefix("States.Format('").split("'", 1)[0].replace("{}", "0f" * 16)
                if uri.startswith("s3://"):
                    found.append(uri.removeprefix("s3://").split("/", 1)[1])
            else:
                _s3_keys(item, found)
    elif isinstance(value, list):
        for item in value:
            _s3_keys(item, found)
    return found


def test_the_sagemaker_role_reads_what_the_jobs_read_and_writes_only_where_they_write(plans: dict[str, Plan]) -> None:
    import fnmatch

    from tests.conftest import policy_of

    plan = plans["dev"]
    statements = policy_of(plan, "tumor-sagemaker-policy")["Statement"]
    reads = [
        r.split(":::", 1)[1].split("/", 1)[1]
        for s in statements
        if s["Action"] == "s3:GetObject"
        for r in s["Resource"]
    ]
    writes = [
        r.split(":::", 1)[1].split("/", 1)[1]
        for s in statements
        if s["Action"] == "s3:PutObject"
        for r in [s["Resource"]]
    ]
    prefix = "pipelines/tumor-dev/"
    assert sorted(reads) == sorted(f"{prefix}{part}*" for part in ("code/", "data/raw/", "runs/"))
    assert writes == [f"{prefix}runs/*"]
    states = definition_of(plan)["States"]
    inputs, outputs = [], []
    for name in ("Preprocess", "Train", "Evaluate"):
        parameters = states[name]["Parameters"]
        inputs += _s3_keys(parameters.get("ProcessingInputs", parameters.get("InputDataConfig")), [])
        outputs += _s3_keys(parameters.get("ProcessingOutputConfig", parameters.get("OutputDataConfig")), [])
    assert {k.removeprefix(prefix).split("/")[0] for k in inputs} == {"code", "data", "runs"}
    for key in inputs:
        assert any(fnmatch.fnmatchcase(key + "x", pattern) for pattern in reads), key
    for key in outputs:
        assert any(fnmatch.fnmatchcase(key + "/x", pattern) for pattern in writes), key


def test_old_code_stays_for_running_executions_and_registered_versions(plans: dict[str, Plan]) -> None:
    """A code change replaces the objects; the old ones must stay, since a running execution and every registered
    version (its SAGEMAKER_SUBMIT_DIRECTORY) still name them. The example data is the stack's to remove."""
    for item in plans["dev"].of_type("aws:s3/bucketObjectv2:BucketObjectv2"):
        assert item.options["retainOnDelete"] == ("/code/" in item.inputs["key"]), item.inputs["key"]
