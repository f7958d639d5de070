"""Notifications reach someone: a topic without subscriptions, or only on reserved example domains, is said."""

from __future__ import annotations

from typing import Any

import pytest

from policies.notifications import RECIPIENTS, SUBSCRIPTION, TOPIC, reserved
from tests.policies.conftest import UNKNOWN, Stack
from tests.policies.rules import reported

TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:failures"


def stack(*endpoints: str, by_dependency: bool = True) -> Stack:
    found = Stack().add(TOPIC, "failures", {"name": "failures", "arn": TOPIC_ARN if not by_dependency else UNKNOWN})
    for index, endpoint in enumerate(endpoints):
        values: dict[str, Any] = {"protocol": "email", "endpoint": endpoint}
        if by_dependency:  # a first preview: the topic's ARN is not known, its dependency is
            found.add(SUBSCRIPTION, f"s{index}", {**values, "topic": UNKNOWN}, topic="failures")
        else:
            found.add(SUBSCRIPTION, f"s{index}", {**values, "topic": TOPIC_ARN})
    return found


@pytest.mark.parametrize("by_dependency", [True, False])
def test_a_real_recipient_passes(by_dependency: bool) -> None:
    assert reported(RECIPIENTS, stack("oncall@acme.io", "team@example.com", by_dependency=by_dependency)) == []


def test_a_topic_nobody_subscribes_to_is_said() -> None:
    assert reported(RECIPIENTS, stack()) == [
        'aws:sns/topic:Topic "failures": no subscription, so nobody will be told of what is published to it. '
        "To pass: set alarmEmails in the stack file to the addresses that should hear (and confirm each "
        "subscription)."
    ]


@pytest.mark.parametrize("by_dependency", [True, False])
def test_only_reserved_example_domains_is_said(by_dependency: bool) -> None:
    assert reported(RECIPIENTS, stack("b@example.org", "a@ops.example.com", by_dependency=by_dependency)) == [
        'aws:sns/topic:Topic "failures": every subscription is on a domain reserved for examples '
        "(a@ops.example.com, b@example.org), so nobody will be told. To pass: set alarmEmails in the stack file "
        "to real addresses."
    ]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("x@example.com", True),
        ("x@EXAMPLE.NET.", True),
        ("x@mail.example.org", True),
        ("x@host.test", True),
        ("x@a.invalid", True),
        ("x@box.localhost", True),
        ("x@my.example", True),
        ("x@examples.com", False),
        ("x@example.com.au", False),
        ("x@acme.io", False),
    ],
)
def test_reserved_domains_are_rfc_2606s_and_6761s(address: str, expected: bool) -> None:
    assert reserved(address) is expected


def test_it_is_advisory_everywhere() -> None:
    import json

    from tests.conftest import ROOT

    for stack_name in ("dev", "staging", "prod"):
        config = json.loads((ROOT / "policies" / "config" / f"{stack_name}.json").read_text())
        level = config.get("notifications-reach-someone", config["all"])
        assert level == "advisory", stack_name
