"""How close a stack's IAM documents come to IAM's size quotas, so that headroom shows before it runs out.

The quotas and the measure are the policy pack's own (`policies/limits.py`, `policies/data/aws_limits.json`: a
customer managed policy, a boundary included, 6,144 characters; a role's inline policies together 10,240, a
user's 2,048, a group's 5,120; a trust policy 2,048; whitespace not counted), so `make plan`'s headroom and
`aws-limits-respected` never disagree on a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.limits import INLINE, characters, limits
from tools.mock_runtime.program import Plan


@dataclass(frozen=True)
class Measure:
    what: str
    size: int
    quota: int

    @property
    def share(self) -> float:
        return self.size / self.quota

    def line(self) -> str:
        return f"largest IAM document {self.what}, {self.size:,} of {self.quota:,} characters ({self.share:.0%})"


def _size(document: Any) -> int | None:
    return characters(document) if isinstance(document, str) else None  # not known at preview: not measured


def measures(plan: Plan) -> list[Measure]:
    """Every IAM document of the plan against its quota; inline policies summed per principal."""
    iam = limits()["iam"]
    found: list[Measure] = []
    inline: dict[tuple[str, str], int] = {}
    for resource in plan.resources:
        inputs = resource.inputs
        if resource.type == "aws:iam/policy:Policy" and (size := _size(inputs.get("policy"))) is not None:
            found.append(Measure(f'managed policy "{resource.name}"', size, iam["managedPolicyCharacters"]))
        elif resource.type == "aws:iam/role:Role" and (size := _size(inputs.get("assumeRolePolicy"))) is not None:
            found.append(Measure(f'trust policy of role "{resource.name}"', size, iam["trustPolicyCharacters"]))
        elif resource.type in INLINE and (size := _size(inputs.get("policy"))) is not None:
            kind, owner_key = INLINE[resource.type]
            owner = inputs.get(owner_key)
            if isinstance(owner, str):
                inline[(kind, owner)] = inline.get((kind, owner), 0) + size
    for (kind, owner), size in inline.items():
        found.append(Measure(f"inline policies of {kind} {owner}", size, iam["inlineCharacters"][kind]))
    return found


def largest(plan: Plan | None) -> Measure | None:
    """The document nearest its quota."""
    found = measures(plan) if plan is not None else []
    return max(found, key=lambda m: m.share) if found else None
