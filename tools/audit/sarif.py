"""An account audit as a SARIF 2.1.0 log (`ml-pipelines audit-account --sarif FILE`), in the offline preview's
shape (`tools/offline_preview/sarif.py`): a rule per policy, a result per finding at its level's SARIF level,
located at the authorization-details file read, the principal's ARN as the logical location, the witness in the
result's properties.
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/sarif-v2.1.0-errata01-os-complete.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.audit.account import Audit
from tools.offline_preview.sarif import LEVELS, envelope


def log(result: Audit, source: Path) -> dict[str, Any]:
    from policies.catalog import PACK_NAME, POLICIES

    descriptions = {p.name: p.description for p in POLICIES}
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for finding in result.findings:
        rules.setdefault(
            finding.policy_name,
            {
                "id": finding.policy_name,
                "name": finding.policy_name,
                "shortDescription": {"text": descriptions.get(finding.policy_name, finding.policy_name)},
                "properties": {"policyPack": PACK_NAME},
            },
        )
        location: dict[str, Any] = {
            "logicalLocations": [
                {
                    "name": finding.principal.rsplit("/", 1)[-1],
                    "fullyQualifiedName": finding.principal,
                    "kind": "resource",
                }
            ],
        }
        if not source.name.startswith("<"):
            location["physicalLocation"] = {"artifactLocation": {"uri": _uri(source)}}
        results.append(
            {
                "ruleId": finding.policy_name,
                "level": LEVELS.get(finding.enforcement_level, "none"),
                "message": {"text": finding.message},
                "locations": [location],
                "properties": {
                    "account": result.account,
                    "enforcementLevel": finding.enforcement_level,
                    "witness": finding.witness,
                },
            }
        )
    return envelope("ml-pipelines audit-account", list(rules.values()), results)


def _uri(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def write(result: Audit, path: Path, source: Path) -> None:
    path.write_text(json.dumps(log(result, source), indent=2) + "\n", encoding="utf-8")
