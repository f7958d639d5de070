"""policies/framework.py: levels fail closed, a policy never crashes or downgrades, values as the engine sent."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from policies.framework import UNKNOWN, EnvironmentResourcePolicy, json_or_value, plain, setting
from tests.policies.conftest import UNKNOWN as WIRE_UNKNOWN
from tests.policies.conftest import props, resource_args


def judged(validate: Any, config: dict[str, Any] | None = None) -> tuple[EnvironmentResourcePolicy, list[str]]:
    policy = EnvironmentResourcePolicy("a-policy", "Forbids something.", validate, config)
    found: list[str] = []
    policy.validate(resource_args("aws:s3/bucket:Bucket", {"bucket": WIRE_UNKNOWN}), lambda m, *_: found.append(m))
    return policy, found


def test_a_policy_is_mandatory_unless_its_config_says_otherwise() -> None:
    policy, _ = judged(lambda args, report: None)
    assert policy.enforcement_level == EnforcementLevel.MANDATORY
    policy.enforcement_level = EnforcementLevel.ADVISORY
    assert policy.enforcement_level == EnforcementLevel.ADVISORY


@pytest.mark.parametrize(
    ("raised", "words"),
    [
        (lambda args: args.props["bucket"], "could not decide: "),  # an unknown value touched
        (lambda args: (_ for _ in ()).throw(RecursionError()), "nested deeper than it follows"),
        (lambda args: 1 / 0, "failed while judging (ZeroDivisionError: division by zero); nothing it could not"),
    ],
    ids=["unknown", "too deep", "a bug"],
)
def test_whatever_a_policy_raises_is_a_violation_never_a_crash(raised: Any, words: str) -> None:
    _, found = judged(lambda args, report: raised(args))
    assert len(found) == 1 and found[0].startswith("a-policy ") and words in found[0]


def test_plain_values_keep_unknowns_where_the_engine_sent_them() -> None:
    proxied = props({"a": WIRE_UNKNOWN, "b": [1, WIRE_UNKNOWN, {"c": "x"}], "d": "known"})
    assert plain(proxied) == {"a": UNKNOWN, "b": [1, UNKNOWN, {"c": "x"}], "d": "known"}


def test_settings_come_from_the_config_else_the_default() -> None:
    defaults = {"requiredTags": ["owner"], "maxAge": 30}
    args = resource_args("aws:s3/bucket:Bucket", {}, config={"requiredTags": ["team"]})
    assert setting(args, defaults, "requiredTags") == ["team"]
    assert setting(args, defaults, "maxAge") == 30


def test_the_config_schema_follows_each_defaults_type() -> None:
    policy = EnvironmentResourcePolicy(
        "p", "Forbids x.", lambda a, r: None, {"names": ["a"], "strict": True, "days": 30, "mode": "x"}
    )
    properties = policy.config_schema.properties
    assert properties["names"] == {"type": "array", "items": {"type": "string"}, "default": ["a"]}
    assert properties["strict"] == {"type": "boolean", "default": True}
    assert properties["days"] == {"type": "integer", "minimum": 1, "default": 30}
    assert properties["mode"] == {"type": "string", "default": "x"}


def test_json_text_is_decoded_and_anything_else_kept() -> None:
    assert json_or_value('{"Name": "x"}') == {"Name": "x"}
    assert json_or_value("not json") == "not json"
    assert json_or_value({"a": 1}) == {"a": 1}
