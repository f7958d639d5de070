"""CloudWatch Logs: every log group sets a retention, so logs neither vanish nor pile up forever.

AWS documentation: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention
(a log group without a retention keeps its events forever).
"""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs

from .framework import UNKNOWN, EnvironmentResourcePolicy, Report, label, plain, setting

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _retention(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != LOG_GROUP:
        return
    minimum = setting(args, RETENTION.defaults, "minimumRetentionDays")
    days = plain(args.props).get("retentionInDays")
    resource = label(args.resource_type, args.name)
    if days is UNKNOWN:
        report(f"{resource}: retentionInDays is not known at preview. To pass: a literal number of days.")
    elif not isinstance(days, (int, float)) or days <= 0:
        report(f"{resource}: no retentionInDays, so events are kept forever. To pass: at least {minimum} days.")
    elif days < minimum:
        report(f"{resource}: retentionInDays is {int(days)}. To pass: at least {minimum} days.")


RETENTION = EnvironmentResourcePolicy(
    "cloudwatch-log-groups-set-retention",
    "Requires every CloudWatch log group to set a retention of at least the configured number of days.",
    _retention,
    config={"minimumRetentionDays": 1},
)

POLICIES = [RETENTION]
