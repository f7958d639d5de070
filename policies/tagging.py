"""Tags: every AWS resource that can carry tags carries the required ones (names in the pack's config).

Tags count whether the resource sets them or its provider adds them (`defaultTags`, which the engine sends
with the resource's provider). Which types take tags comes from pulumi_aws itself
(`policies/data/aws_taggable_types.json`, written by `python -m tools.policy_data`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pulumi_policy import ResourceValidationArgs

from .framework import UNKNOWN, EnvironmentResourcePolicy, Report, json_or_value, label, plain, setting

_DATA = Path(__file__).resolve().parent / "data" / "aws_taggable_types.json"


@functools.cache
def taggable_types() -> frozenset[str]:
    return frozenset(json.loads(_DATA.read_text(encoding="utf-8"))["types"])


def _keys(tags: Any) -> set[str] | None:
    """Tag keys, or None when the tags are not known at preview."""
    tags = json_or_value(tags)
    if tags is UNKNOWN:
        return None
    return {k for k in tags if isinstance(k, str)} if isinstance(tags, dict) else set()


def _required_tags(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in taggable_types():
        return
    required = setting(args, REQUIRED_TAGS.defaults, "requiredTags")
    own = _keys(plain(args.props).get("tags"))
    provider_props = plain(args.provider.props) if args.provider is not None else {}
    default_tags = json_or_value(provider_props.get("defaultTags"))
    inherited = _keys(default_tags.get("tags")) if isinstance(default_tags, dict) else set()
    resource = label(args.resource_type, args.name)
    if own is None or inherited is None:
        report(f"{resource}: its tags are not known at preview. To pass: tag keys written as literals.")
        return
    missing = [t for t in required if t not in own | inherited]
    if missing:
        report(
            f"{resource}: missing tags {', '.join(missing)}. To pass: set them in the "
            "stack's tags (the provider's defaultTags) or on the resource."
        )


REQUIRED_TAGS = EnvironmentResourcePolicy(
    "required-tags",
    "Requires the configured tags on every AWS resource that can carry tags, provider default tags included.",
    _required_tags,
    config={"requiredTags": ["owner", "cost-center", "environment"]},
)

POLICIES = [REQUIRED_TAGS]
