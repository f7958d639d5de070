"""CloudWatch log groups set a retention."""

from __future__ import annotations

from typing import Any

import pytest

from policies.cloudwatch import RETENTION
from tests.policies.conftest import UNKNOWN, resource_args, violations

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def log_group(days: Any, config: dict[str, Any] | None = None) -> Any:
    values = {"name": "/aws/lambda/x"} | ({} if days is None else {"retentionInDays": days})
    return resource_args(LOG_GROUP, values, config=config)


def test_a_retention_passes() -> None:
    assert violations(RETENTION, log_group(14)) == []


@pytest.mark.parametrize(
    ("days", "config", "message"),
    [
        (None, None, "no retentionInDays, so events are kept forever. To pass: at least 1 days."),
        (0, None, "no retentionInDays, so events are kept forever. To pass: at least 1 days."),
        (30, {"minimumRetentionDays": 90}, "retentionInDays is 30. To pass: at least 90 days."),
        (UNKNOWN, None, "retentionInDays is not known at preview. To pass: a literal number of days."),
    ],
)
def test_retention_findings(days: Any, config: dict[str, Any] | None, message: str) -> None:
    assert violations(RETENTION, log_group(days, config)) == [f'{LOG_GROUP} "subject": {message}']
