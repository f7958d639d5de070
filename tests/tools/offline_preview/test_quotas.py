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


def test_bootstraps_boundary_shows_its_headroom() -> None:
    plan = run_program(ROOT / "bootstrap", "prod")
    found = largest(plan)
    assert found is not None and found.quota == 6144
    boundary = _without_whitespace(plan.named("boundary-prod").inputs["policy"])
    assert found.what == 'managed policy "boundary-prod"' and found.size >= boundary
    assert found.line().endswith(f"of 6,144 characters ({found.size / 6144:.0%})")
