"""Notifications: a failure topic that tells nobody is a failure nobody hears of.

An SNS topic of the stack with no subscription, or whose e-mail subscriptions all go to domains reserved for
examples and tests (RFC 2606: example.com, example.net, example.org and the `.example`, `.test`, `.invalid` and
`.localhost` top-level names; RFC 6761), is reported: advisory in every environment's config (mandatory without
one, as the pack fails closed). The stack works, but its alarms and failure notices reach no one. Set real
addresses in the stack file's `alarmEmails` (and confirm the subscription e-mail each receives).
"""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .framework import EnvironmentStackPolicy, Report, label, stack_plain

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost")


def reserved(address: str) -> bool:
    """An e-mail address on a domain no mail is ever delivered to (RFC 2606, RFC 6761)."""
    domain = address.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    return (
        domain in RESERVED_DOMAINS
        or any(domain.endswith("." + d) for d in RESERVED_DOMAINS)
        or (domain.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL)
    )


def _recipients(args: StackValidationArgs, report: Report) -> None:
    subscriptions = [r for r in args.resources if r.resource_type == SUBSCRIPTION]
    for topic in (r for r in args.resources if r.resource_type == TOPIC):
        arn = stack_plain(topic).get("arn")
        mine = [
            s
            for s in subscriptions
            if any(d.urn == topic.urn for d in s.property_dependencies.get("topic", []))
            or (isinstance(arn, str) and stack_plain(s).get("topic") == arn)
        ]
        endpoints = [stack_plain(s) for s in mine]
        real = [e for e in endpoints if not (e.get("protocol") == "email" and reserved(str(e.get("endpoint", ""))))]
        name = label(topic.resource_type, topic.name)
        if not mine:
            report(
                f"{name}: no subscription, so nobody will be told of what is published to it. To pass: set "
                "alarmEmails in the stack file to the addresses that should hear (and confirm each subscription).",
                topic.urn,
            )
        elif not real:
            addresses = ", ".join(sorted(str(e.get("endpoint")) for e in endpoints))
            report(
                f"{name}: every subscription is on a domain reserved for examples ({addresses}), so nobody will be "
                "told. To pass: set alarmEmails in the stack file to real addresses.",
                topic.urn,
            )


RECIPIENTS = EnvironmentStackPolicy(
    "notifications-reach-someone",
    "Reports topics with no subscription, or only e-mail subscriptions on reserved example domains.",
    _recipients,
)

POLICIES = [RECIPIENTS]
