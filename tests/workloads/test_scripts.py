"""The workload scripts run in someone else's image: AWS's scikit-learn 1.2-1 (Python 3.9, scikit-learn 1.2.1).
They must parse as Python 3.9, import only what that image has, and take the paths SageMaker gives them."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from components.settings import WORKLOAD_SCRIPTS
from components.workflow_definition import script_arguments
from tests.conftest import ROOT

WORKLOADS = sorted(p for p in (ROOT / "workloads").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
SCRIPTS = [(w.name, script) for w in WORKLOADS for script in WORKLOAD_SCRIPTS]
IMAGE_PYTHON = (3, 9)  # aws/sagemaker-scikit-learn-container docker/1.2-1/base/Dockerfile.cpu: PYTHON_VERSION=3.9
# What the image installs besides the standard library (the same Dockerfile and the container's requirements).
IMAGE_LIBRARIES = {"numpy", "sklearn", "joblib", "scipy", "pandas"}


def _tree(workload: str, script: str) -> ast.Module:
    path = ROOT / "workloads" / workload / script
    return ast.parse(path.read_text(), filename=str(path), feature_version=IMAGE_PYTHON)


@pytest.mark.parametrize(("workload", "script"), SCRIPTS)
def test_parses_as_the_images_python(workload: str, script: str) -> None:
    _tree(workload, script)  # a SyntaxError names the line that the image's Python could not read


@pytest.mark.parametrize(("workload", "script"), SCRIPTS)
def test_imports_only_the_standard_library_and_the_images_libraries(workload: str, script: str) -> None:
    imported = set()
    for node in ast.walk(_tree(workload, script)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    foreign = imported - set(sys.stdlib_module_names) - IMAGE_LIBRARIES - {"__future__"}
    assert not foreign, f"{workload}/{script} imports {sorted(foreign)}: not in the image (nor this repository's code)"


def _argparse_flags(workload: str, script: str) -> set[str]:
    return {
        arg.value
        for node in ast.walk(_tree(workload, script))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    }


@pytest.mark.parametrize("workload", [w.name for w in WORKLOADS])
@pytest.mark.parametrize("script", ["preprocess.py", "evaluate.py"])
def test_processing_scripts_take_the_arguments_the_job_passes(workload: str, script: str) -> None:
    passed = {word for word in script_arguments(script) if word.startswith("--")}
    assert passed <= _argparse_flags(workload, script)


@pytest.mark.parametrize("workload", [w.name for w in WORKLOADS])
def test_the_inference_handler_has_the_serving_containers_functions(workload: str) -> None:
    functions = {n.name for n in _tree(workload, "inference.py").body if isinstance(n, ast.FunctionDef)}
    assert {"model_fn", "input_fn", "predict_fn", "output_fn"} <= functions


def test_every_workload_folder_holds_every_script() -> None:
    for workload in WORKLOADS:
        assert {p.name for p in workload.iterdir()} >= set(WORKLOAD_SCRIPTS), workload
    assert Path(ROOT / "workloads" / "breast-cancer") in WORKLOADS
