"""What planning and checking one stack came to: the plan, the pack's diagnostics and remediations, or the
error that stopped it; its exit code and its JSON (the shape `--json` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.mock_runtime.program import Plan
from tools.offline_preview.analyzer import Diagnostic, Remediation
from tools.offline_preview.render import ordered, sorted_diagnostics

OK, VIOLATIONS, ERROR = 0, 1, 2


@dataclass
class Outcome:
    stack: str
    project: str = ""
    plan: Plan | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)
    error: str | None = None
    detail: str | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return ERROR
        return VIOLATIONS if any(d.enforcement_level == "mandatory" for d in self.diagnostics) else OK

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "stack": self.stack,
            "project": self.project,
            # The same order on every run: the tree's, the engine's default providers after the root stack.
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "inputs": r.wire_inputs,
                }
                for r in _in_order(self.plan)
            ],
            "policyViolations": [d.as_json() for d in sorted_diagnostics(self.diagnostics)],
            "remediations": [r.as_json() for r in self.remediations],
        }
        if self.error is not None:
            document["error"] = self.error
        return document


def _in_order(plan: Plan | None) -> list[Any]:
    if plan is None:
        return []
    defaults = sorted((r for r in plan.resources if r.default), key=lambda r: r.urn)
    tree = [r for _, r in ordered(plan)]
    return [*tree[:1], *defaults, *tree[1:]]  # the root stack, the engine's default providers, the rest
