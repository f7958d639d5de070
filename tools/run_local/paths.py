"""The few Amazon States Language pieces the local run evaluates: reference paths (`$.a.b`, `$$.Execution.Id`),
the intrinsics the training definition uses (`States.Format`, `States.Hash`), `ResultSelector`, `ResultPath` and
a Choice state's numeric rules (Step Functions developer guide: "Paths", "Intrinsic functions", "Choice").

Anything else is refused with one line, not guessed: the local run must not pass where the engine would not.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_FORMAT = re.compile(r"^States\.Format\('((?:[^'\\]|\\.)*)'((?:\s*,\s*[^,()]+)*)\)$")
_HASH = re.compile(r"^States\.Hash\(\s*([^,()]+?)\s*,\s*'(MD5|SHA-1|SHA-256|SHA-384|SHA-512)'\s*\)$")
_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
NUMERIC_RULES = {
    "NumericGreaterThanEquals": lambda value, bound: value >= bound,
    "NumericGreaterThan": lambda value, bound: value > bound,
    "NumericLessThanEquals": lambda value, bound: value <= bound,
    "NumericLessThan": lambda value, bound: value < bound,
    "NumericEquals": lambda value, bound: value == bound,
}


class LocalRunError(Exception):
    """The local run cannot go on; the message is one line."""


def reference(path: str, data: Any, context: dict[str, Any]) -> Any:
    """The value at a reference path: `$` and `$.a.b` in the state's input, `$$.a.b` in the context object."""
    root, rest = (context, path[2:]) if path.startswith("$$") else (data, path[1:])
    if not path.startswith("$") or (rest and not rest.startswith(".")):
        raise LocalRunError(f"{path!r} is not a reference path the local run reads ($.a.b or $$.a.b)")
    value = root
    for part in [p for p in rest.split(".") if p]:
        if not isinstance(value, dict) or part not in value:
            raise LocalRunError(f"{path} is not in the state's input")
        value = value[part]
    return value


def evaluate(expression: str, data: Any, context: dict[str, Any]) -> Any:
    """A `.$` value: a reference path or one of the intrinsics the definitions use."""
    text = expression.strip()
    if text.startswith("$"):
        return reference(text, data, context)
    if match := _FORMAT.match(text):
        template = match.group(1).replace("\\'", "'")
        arguments = [evaluate(a, data, context) for a in re.split(r"\s*,\s*", match.group(2).strip(" ,")) if a]
        pieces = template.split("{}")
        if len(pieces) - 1 != len(arguments):
            raise LocalRunError(f"{text}: {len(pieces) - 1} placeholders for {len(arguments)} arguments")
        return "".join(piece + (str(arguments[i]) if i < len(arguments) else "") for i, piece in enumerate(pieces))
    if match := _HASH.match(text):
        value = str(evaluate(match.group(1), data, context))
        return hashlib.new(_ALGORITHMS[match.group(2)], value.encode(), usedforsecurity=False).hexdigest()
    raise LocalRunError(f"the local run does not evaluate {text[:60]!r}")


def parameters(template: Any, data: Any, context: dict[str, Any]) -> Any:
    """A state's Parameters (or ResultSelector) with every `key.$` evaluated against `data`."""
    if isinstance(template, dict):
        found = {}
        for key, value in template.items():
            if key.endswith(".$"):
                found[key[:-2]] = evaluate(value, data, context)
            else:
                found[key] = parameters(value, data, context)
        return found
    if isinstance(template, list):
        return [parameters(item, data, context) for item in template]
    return template


def put(data: dict[str, Any], result_path: str | None, result: Any) -> dict[str, Any]:
    """The state's output: `result` placed at ResultPath in its input (None keeps the input as it is)."""
    if result_path is None:
        return data
    if result_path == "$":
        return dict(result)
    parts = result_path.removeprefix("$.").split(".")
    output = dict(data)
    target = output
    for part in parts[:-1]:
        target[part] = dict(target.get(part) or {})
        target = target[part]
    target[parts[-1]] = result
    return output


def choose(state: dict[str, Any], data: Any, context: dict[str, Any]) -> str:
    """The next state of a Choice state whose rules are numeric comparisons of one variable (the quality gate)."""
    for rule in state.get("Choices", []):
        comparisons = [key for key in rule if key in NUMERIC_RULES]
        if len(comparisons) != 1 or "Variable" not in rule:
            raise LocalRunError(f"the local run evaluates numeric Choice rules only, not {sorted(rule)}")
        value = reference(rule["Variable"], data, context)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise LocalRunError(f"{rule['Variable']} is {value!r}, not a number")
        if NUMERIC_RULES[comparisons[0]](value, rule[comparisons[0]]):
            return str(rule["Next"])
    if "Default" not in state:
        raise LocalRunError("no Choice rule matched and the state has no Default (States.NoChoiceMatched)")
    return str(state["Default"])
