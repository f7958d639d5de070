"""The few Amazon States Language pieces the local run evaluates: reference paths (`$.a.b`, `$$.Execution.Id`),
the intrinsics the definitions use (`States.Format`, `States.Hash`, `States.StringSplit`, `States.ArrayGetItem`,
`States.MathAdd`, nested), `ResultSelector`, `ResultPath` and a Choice state's numeric rules (Step Functions
developer guide: "Paths", "Intrinsic functions", "Choice").

Anything else is refused with one line, not guessed: the local run must not pass where the engine would not.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

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


def _split_arguments(text: str) -> list[str]:
    """An intrinsic's arguments: commas at depth 0, outside quoted strings."""
    arguments, depth, quoted, current = [], 0, False, ""
    index = 0
    while index < len(text):
        char = text[index]
        if quoted and char == "\\":
            current += text[index : index + 2]
            index += 2
            continue
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            arguments.append(current.strip())
            current = ""
        else:
            current += char
        index += 1
    if current.strip():
        arguments.append(current.strip())
    return arguments


def _intrinsic(name: str, arguments: list[Any], text: str) -> Any:
    if name == "States.Format":
        template, values = str(arguments[0]), arguments[1:]
        pieces = template.split("{}")
        if len(pieces) - 1 != len(values):
            raise LocalRunError(f"{text}: {len(pieces) - 1} placeholders for {len(values)} arguments")
        return "".join(piece + (_text(values[i]) if i < len(values) else "") for i, piece in enumerate(pieces))
    if name == "States.Hash" and len(arguments) == 2 and arguments[1] in _ALGORITHMS:
        return hashlib.new(_ALGORITHMS[arguments[1]], _text(arguments[0]).encode(), usedforsecurity=False).hexdigest()
    if name == "States.StringSplit" and len(arguments) == 2:
        return [part for part in re.split("[" + re.escape(str(arguments[1])) + "]", str(arguments[0])) if part]
    if name == "States.ArrayGetItem" and len(arguments) == 2:
        return arguments[0][int(arguments[1])]
    if name == "States.MathAdd" and len(arguments) == 2:
        return arguments[0] + arguments[1]
    raise LocalRunError(f"the local run does not evaluate {text[:60]!r}")


def _text(value: Any) -> str:
    """A value as States.Format and States.Hash render it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def evaluate(expression: str, data: Any, context: dict[str, Any]) -> Any:
    """A `.$` value or an intrinsic's argument: a reference path, a quoted string, a number or an intrinsic
    (nested ones included)."""
    text = expression.strip()
    if text.startswith("$"):
        return reference(text, data, context)
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = re.fullmatch(r"(States\.[A-Za-z]+)\((.*)\)", text, re.S)
    if match is None:
        raise LocalRunError(f"the local run does not evaluate {text[:60]!r}")
    arguments = [evaluate(argument, data, context) for argument in _split_arguments(match.group(2))]
    return _intrinsic(match.group(1), arguments, text)


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
