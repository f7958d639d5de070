"""Every policy of the pack, in the order the pack serves them (`policies/__main__.py`)."""

from __future__ import annotations

from policies import (
    cloudwatch,
    data_reach,
    escalation,
    foreign_roles,
    grant_sets,
    iam,
    limits,
    notifications,
    passrole,
    resource_policies,
    service_roles,
    stepfunctions,
    storage,
    tagging,
    trust,
)

PACK_NAME = "ml-pipelines-guardrails"
"""The pack's name, as the engine reports it (`policyPackName`) and config errors name it."""

POLICIES = [
    *iam.POLICIES,
    *escalation.POLICIES,
    *passrole.POLICIES,
    *data_reach.POLICIES,
    *service_roles.POLICIES,
    *resource_policies.POLICIES,
    *trust.POLICIES,
    *foreign_roles.POLICIES,
    *grant_sets.POLICIES,
    *stepfunctions.POLICIES,
    *storage.POLICIES,
    *cloudwatch.POLICIES,
    *tagging.POLICIES,
    *notifications.POLICIES,
    *limits.POLICIES,
]
