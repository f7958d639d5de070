"""make plan says, per stack, which IAM document is nearest its quota, and how near."""

from __future__ import annotations

import json

from tests.conftest import ROOT
from tools.mock_runtime.program import Plan, run_program
from tools.offline_preview.quotas import largest


def _without_whitespace(text: str) -> int:
    return len("".join(json.dumps(json.loads(text)).split()))


def test_the_largest_document_of_each_stack_is_the_one_nearest_its_quota(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        found = largest(plan)
        assert found is not None
        inline: dict[str, int] = {}
        for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
            inline[policy.inputs["role"]] = inline.get(policy.inputs["role"], 0) + _without_whitespace(
                policy.inputs["policy"]
            )
        role, size = max(inline.items(), key=lambda item: item[1])
        assert found.what == f"inline policies of role {role}"
        assert found.quota == 10240 and found.size >= size  # spaces inside strings counted: never understated
        assert found.line().startswith(f"largest IAM document inline policies of role {role}, ")


def test_bootstraps_fullest_managed_policy_shows_its_headroom() -> None:
    """Bootstrap's managed policies (the boundary, the deploy permissions' parts) are each held to 6,144: the line
    names the fullest of them."""
    plan = run_program(ROOT / "bootstrap", "prod")
    found = largest(plan)
    assert found is not None and found.quota == 6144
    # Spaces inside strings counted (the measure never understates): compact JSON, nothing else left out.
    sizes = {
        f'managed policy "{p.name}"': len(json.dumps(json.loads(p.inputs["policy"]), separators=(",", ":")))
        for p in plan.of_type("aws:iam/policy:Policy")
    }
    assert "boundary-prod" in str(sizes) and len(sizes) >= 2
    assert (found.what, found.size) == max(sizes.items(), key=lambda item: item[1])
    assert found.line().endswith(f"of 6,144 characters ({found.size / 6144:.0%})")
