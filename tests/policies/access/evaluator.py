"""An independent request evaluator for tests: does a document allow one concrete request?

Written apart from `policies/access` on purpose (plain `fnmatch` over IAM's two wildcards, no bit sets, no
probes): the pack's witnesses and verdicts are checked against it.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any


def _wildcard(pattern: str, value: str, case: bool = False) -> bool:
    # IAM knows `*` and `?` only: escape fnmatch's `[` so that it is a literal. Actions compare
    # case-insensitively, resource ARNs case-sensitively (`case`).
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _element(statement: dict[str, Any], name: str) -> Any:
    for key, value in statement.items():
        if key.lower() == name.lower():
            return value
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names(statement: dict[str, Any], positive: str, negative: str, value: str) -> bool:
    listed, excluded = _element(statement, positive), _element(statement, negative)
    case = positive == "Resource"
    if listed is not None:
        return any(_wildcard(p, value, case) for p in _as_list(listed))
    if excluded is not None:
        return not any(_wildcard(p, value, case) for p in _as_list(excluded))
    return False


def statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    return _as_list(_element(document, "Statement"))


def allowed(documents: list[Any], action: str, resource: str) -> bool:
    """Allowed when an Allow reaches the request (its Condition taken as met) and no Deny without a Condition
    does (one with a Condition may not apply: it takes nothing away for certain)."""
    found = [s for d in documents for s in statements(d)]
    reaching = [
        s for s in found if _names(s, "Action", "NotAction", action) and _names(s, "Resource", "NotResource", resource)
    ]
    if any(str(_element(s, "Effect")).lower() == "deny" and _element(s, "Condition") is None for s in reaching):
        return False
    return any(str(_element(s, "Effect")).lower() != "deny" for s in reaching)
