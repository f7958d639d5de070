"""The one reader of the repository's YAML and JSON files: stack files, projects, policy pack manifests, mock
configs, expectations. A file that is missing, unreadable or not parseable fails with one line naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class FileError(ValueError):
    """A file that cannot be read or parsed; the message is one line naming the file and the cause."""


def read_document(path: Path, what: str = "file", error: type[Exception] = FileError) -> Any:
    """The parsed content of `path`: JSON for `.json`, YAML otherwise (an empty YAML file is None).

    `what` names the file in the message when it is missing ("no such stack file"); `error` is the exception
    the caller's own users expect (each tool has its own one-line error type)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc.__class__.__name__})") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(f"{path}: not valid JSON ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({_yaml_problem(exc)})") from None
    except ValueError as exc:  # a scalar YAML types but cannot build, e.g. the date 2024-02-30
        raise error(f"{path}: not valid YAML ({exc})") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem}, line {mark.line + 1} column {mark.column + 1}" if mark is not None else problem
