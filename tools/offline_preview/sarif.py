"""The violations as a SARIF 2.1.0 log, for GitHub code scanning (`--sarif FILE`).

One run; a rule per policy (its description from the pack); a result per violation, at the level its
enforcement maps to (mandatory: error, advisory: warning, remediate: note), located at the program file and
line that declared the resource (the SDK's source position), else at the stack file; the resource's URN as a
logical location. Paths are relative to the folder the command runs in when they lie under it.
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/sarif-v2.1.0-errata01-os-complete.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.offline_preview.render import sorted_diagnostics

if TYPE_CHECKING:
    from tools.offline_preview.outcome import Outcome

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"mandatory": "error", "advisory": "warning", "remediate": "note"}


def _uri(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def log(outcomes: list[Outcome], stack_files: dict[str, Path], base: Path) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for outcome in outcomes:
        sources = {r.urn: r.source for r in (outcome.plan.resources if outcome.plan else [])}
        for d in sorted_diagnostics(outcome.diagnostics):
            description, _, detail = d.message.partition("\n")
            rules.setdefault(
                d.policy_name,
                {
                    "id": d.policy_name,
                    "name": d.policy_name,
                    "shortDescription": {"text": description or d.policy_name},
                    "properties": {"policyPack": d.policy_pack_name},
                },
            )
            source = sources.get(d.resource_urn)
            if source is not None:
                physical = {
                    "artifactLocation": {"uri": _uri(Path(source[0]), base)},
                    "region": {"startLine": source[1]},
                }
            else:
                physical = {"artifactLocation": {"uri": _uri(stack_files[outcome.stack], base)}}
            result: dict[str, Any] = {
                "ruleId": d.policy_name,
                "level": LEVELS.get(d.enforcement_level, "none"),
                "message": {"text": detail or description},
                "locations": [{"physicalLocation": physical}],
                "properties": {"stack": outcome.stack, "enforcementLevel": d.enforcement_level},
            }
            if d.resource_urn:
                name = d.resource_urn.rsplit("::", 1)[-1]
                result["locations"][0]["logicalLocations"] = [
                    {"name": name, "fullyQualifiedName": d.resource_urn, "kind": "resource"}
                ]
            results.append(result)
    return envelope("ml-pipelines offline preview", list(rules.values()), results)


def envelope(tool: str, rules: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """A SARIF log of one run of `tool`: its rules and its results."""
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "informationUri": "https://github.com/pulumi/pulumi-policy",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def write(outcomes: list[Outcome], path: Path, stack_files: dict[str, Path], base: Path) -> None:
    path.write_text(json.dumps(log(outcomes, stack_files, base), indent=2) + "\n", encoding="utf-8")
