"""Answers a user gives the offline preview for what only a real account knows: the results of provider functions
(`--invoke-results FILE`) and the outputs of other stacks (`--stack-reference-outputs FILE`).

    # --invoke-results: a list; the first entry whose function and arguments match answers the call
    - function: aws:ssm/getParameter:getParameter      # the token, as `python -m tools.offline_preview` names it
      args: {name: /web/db-host}                        # optional: the call's arguments must include these
      result: {value: db.internal, type: String, arn: arn:aws:ssm:eu-west-1:111122223333:parameter/web/db-host}

    # --stack-reference-outputs: each referenced stack's outputs, by the name the program gives StackReference
    acme/network/prod:
      private_subnet_id: subnet-0123456789abcdef0

A stack reference the file does not name has unknown outputs, as they are before the other stack is deployed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from components.files import read_document

_TOKEN = r"^[a-z][a-z0-9-]*:[A-Za-z0-9_/.-]+:[A-Za-z0-9_]+$"


class AnswerError(Exception):
    """An answers file is missing or malformed; the message is one line naming the file and the key."""


class InvokeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    function: Annotated[str, Field(pattern=_TOKEN)]
    """The provider function's token, e.g. `aws:ec2/getAmi:getAmi`."""
    args: dict[str, Any] = {}
    """Arguments the call must have (camelCase, as on the wire; snake_case is accepted); none: any call."""
    result: dict[str, Any]
    """The function's result, by field (camelCase or snake_case)."""


class _InvokeFile(RootModel[list[InvokeAnswer]]):
    pass


class _StackFile(RootModel[dict[Annotated[str, Field(min_length=1)], dict[str, Any]]]):
    pass


def _camel(key: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), key)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class Answers:
    """What the user gave, read and checked; empty by default."""

    invokes: tuple[InvokeAnswer, ...] = ()
    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """The first given result whose function is `token` and whose arguments `args` include, or None."""
        given = {k: _canonical(v) for k, v in args.items()}
        for answer in self.invokes:
            if answer.function == token and all(given.get(_camel(k)) == _canonical(v) for k, v in answer.args.items()):
                return {_camel(k): v for k, v in answer.result.items()}
        return None


def _location(error: Any) -> str:
    parts = [str(p) for p in error["loc"]]
    return "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts).lstrip(".") or "(the whole file)"


def _load(path: Path, model: type[RootModel[Any]], what: str, accepted: str) -> Any:
    raw = read_document(path, what, AnswerError)
    try:
        return model.model_validate(raw).root
    except ValidationError as exc:
        first = exc.errors()[0]
        raise AnswerError(f"{path}: {_location(first)}: {first['msg']}; accepted: {accepted}") from None


def load_answers(invoke_results: Path | None = None, stack_outputs: Path | None = None) -> Answers:
    invokes = (
        _load(
            invoke_results,
            _InvokeFile,
            "invoke results file",
            "a list of {function: <token>, args: {...} (optional), result: {...}}",
        )
        if invoke_results is not None
        else []
    )
    stacks = (
        _load(
            stack_outputs,
            _StackFile,
            "stack reference outputs file",
            "a mapping of stack names (org/project/stack) to mappings of output names to values",
        )
        if stack_outputs is not None
        else {}
    )
    return Answers(tuple(invokes), dict(stacks))
