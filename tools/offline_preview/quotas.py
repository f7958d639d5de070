"""How close a stack's IAM documents come to IAM's size quotas, so that headroom shows before it runs out.

IAM and AWS STS quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html), whitespace
not counted: a customer managed policy (a permissions boundary is one) 6,144 characters; a role's inline
policies together 10,240, a user's 2,048, a group's 5,120; a role's trust policy 2,048 (the default quota).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.iam_documents import MANAGED_POLICY_CHARACTERS, characters
from tools.mock_runtime.program import Plan

INLINE = {
    "aws:iam/rolePolicy:RolePolicy": ("role", 10240),
    "aws:iam/userPolicy:UserPolicy": ("user", 2048),
    "aws:iam/groupPolicy:GroupPolicy": ("group", 5120),
}
TRUST_CHARACTERS = 2048


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
    if not isinstance(document, str):
        return None  # not known at preview: nothing to measure
    try:
        return characters(json.loads(document))
    except (json.JSONDecodeError, TypeError):
        return None


def measures(plan: Plan) -> list[Measure]:
    """Every IAM document of the plan against its quota; inline policies summed per principal."""
    found: list[Measure] = []
    inline: dict[tuple[str, str], int] = {}
    for resource in plan.resources:
        inputs = resource.inputs
        if resource.type == "aws:iam/policy:Policy" and (size := _size(inputs.get("policy"))) is not None:
            found.append(Measure(f'managed policy "{resource.name}"', size, MANAGED_POLICY_CHARACTERS))
        elif resource.type == "aws:iam/role:Role" and (size := _size(inputs.get("assumeRolePolicy"))) is not None:
            found.append(Measure(f'trust policy of role "{resource.name}"', size, TRUST_CHARACTERS))
        elif resource.type in INLINE and (size := _size(inputs.get("policy"))) is not None:
            kind, _ = INLINE[resource.type]
            owner = inputs.get(kind)
            if isinstance(owner, str):
                key = (resource.type, owner)
                inline[key] = inline.get(key, 0) + size
    for (type_, owner), size in inline.items():
        kind, quota = INLINE[type_]
        found.append(Measure(f"inline policies of {kind} {owner}", size, quota))
    return found


def largest(plan: Plan | None) -> Measure | None:
    """The document nearest its quota."""
    found = measures(plan) if plan is not None else []
    return max(found, key=lambda m: m.share) if found else None
