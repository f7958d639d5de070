"""Required tags, counting the provider's default tags, on types that take tags."""

from __future__ import annotations

import json
from typing import Any

from policies.tagging import REQUIRED_TAGS, taggable_types
from tests.policies.conftest import UNKNOWN, resource_args, violations

ROLE = "aws:iam/role:Role"
STACK_TAGS = {"owner": "ml-platform", "cost-center": "ml", "environment": "prod"}


def provider(tags: dict[str, str]) -> dict[str, Any]:
    # The engine sends provider inputs as strings: structured ones JSON-encoded.
    return {"region": "eu-west-1", "defaultTags": json.dumps({"tags": tags})}


def test_provider_default_tags_count() -> None:
    assert violations(REQUIRED_TAGS, resource_args(ROLE, {"name": "r"}, provider=provider(STACK_TAGS))) == []


def test_resource_tags_count() -> None:
    assert violations(REQUIRED_TAGS, resource_args(ROLE, {"tags": STACK_TAGS})) == []


def test_missing_tags_are_named() -> None:
    args = resource_args(ROLE, {"tags": {"owner": "x"}}, provider=provider({"environment": "prod"}))
    assert violations(REQUIRED_TAGS, args) == [
        f"{ROLE} \"subject\": missing tags cost-center. To pass: set them in the stack's tags (the provider's "
        "defaultTags) or on the resource."
    ]


def test_the_required_names_come_from_config() -> None:
    args = resource_args(ROLE, {"tags": STACK_TAGS}, config={"requiredTags": ["owner", "data-classification"]})
    [message] = violations(REQUIRED_TAGS, args)
    assert message.startswith(f'{ROLE} "subject": missing tags data-classification.')


def test_types_that_cannot_carry_tags_are_not_judged() -> None:
    assert "aws:iam/rolePolicy:RolePolicy" not in taggable_types()
    assert "aws:sfn/stateMachine:StateMachine" in taggable_types()
    assert violations(REQUIRED_TAGS, resource_args("aws:iam/rolePolicy:RolePolicy", {"policy": "{}"})) == []


def test_tags_not_known_at_preview_are_a_violation() -> None:
    assert violations(REQUIRED_TAGS, resource_args(ROLE, {"tags": UNKNOWN})) == [
        f'{ROLE} "subject": its tags are not known at preview. To pass: tag keys written as literals.'
    ]
