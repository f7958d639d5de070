"""No action on every resource of a type: every object, secret, parameter, key, log group, snapshot, alarm or
role of an account (or of every account).

A resource pattern whose name part is only wildcards (`arn:aws:s3:::*/*`, `...:secret:*`, `...:role/*`,
`...:log-group:*`, `*`) reaches every resource of the type, unless a resource-tag condition narrows it (ABAC).
Every action IAM scopes to resource ARNs is judged (the types in `FIRST` are looked at first, so that the
message names the telling one) but metadata (see below); an action that accepts only `*` has nothing narrower
and passes."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pulumi_policy import StackValidationArgs

from .access import catalog
from .access.algebra import statement_actions
from .access.document import Statement
from .access.least_privilege import scoped
from .access.model import model
from .access.principals import Model
from .access.reach import concrete, creates_assigned, reaching_every, tag_scoped
from .framework import EnvironmentStackPolicy, Finding, Report, report_all

FIRST = {
    "s3": ("object", "bucket"),
    "secretsmanager": ("Secret",),
    "ssm": ("parameter",),
    "kms": ("key",),
    "sts": ("role",),
    "dynamodb": ("table",),
    "sqs": ("queue",),
    "logs": ("log-group", "log-stream"),
    "ec2": ("snapshot", "image"),
    "rds": ("snapshot", "cluster-snapshot"),
    "cloudwatch": ("alarm",),
}
"""(service, resource types) that hold data or power, reported first when a principal reaches several."""
# Metadata is not data: an action IAM files under its `List` access level (`ec2:Describe*`) on one pattern of
# every resource is iam-least-privilege-in-prod's to refuse (it judges each pattern), not data-plane reach, unless
# its API returns a member AWS's model marks sensitive (cognito-idp:ListUsers's attributes,
# lambda:ListVersionsByFunction's environment) or has no operation of its name (`s3:ListBucket`): the
# botocore-derived `data/list_content_reads.json`. A union of patterns that only together reach every resource
# is judged here whatever the level: no other rule sees a union, and List holds content botocore does not mark
# (sns:ListSubscriptionsByTopic's endpoints, ec2:DescribeInstanceAttribute's user data).
INSTEAD = (
    "To pass: name the resources this principal uses (a bucket's prefix; the functions, secrets, keys, log groups "
    "or roles by name or name prefix), or narrow the grant with an aws:ResourceTag condition."
)


def reach_findings(found: Model) -> Iterator[Finding]:
    """Each principal (and customer-managed policy) allowed an action on every resource of a type."""
    for principal in [*found.principals.values(), *found.policies.values()]:
        # Decided on the union of every statement that allows the action: pieces add up.
        # What AWS documents for a service's own role, on a role only that service assumes, is that service's
        # to use (iam-service-role-policies holds it there).
        accepted = {id(s) for arn in principal.accepted_service_policies() for s in principal.service_policies[arn]}
        statements = [
            s for s in found.granted(principal) if s.allow and not tag_scoped(s.condition) and id(s) not in accepted
        ]
        reach = _first_reach(statements)
        if reach is not None:
            action, type_, pattern, statement = reach
            resource = concrete(pattern, action, type_)
            yield Finding(
                principal.urn,
                f"{principal.label}: allowed {action} on every {type_} of an account (e.g. {resource}), granted by "
                f"{statement.cites}. {INSTEAD}",
                {
                    "action": action,
                    "resource": resource,
                    "resourceType": type_,
                    "pattern": pattern,
                    "statements": (statement,),
                },
            )


def _reach(args: StackValidationArgs, report: Report) -> None:
    report_all(reach_findings(model(args)), report)


def _patterns(statement: Statement) -> list[str]:
    return list(statement.resources or ()) or (["*"] if statement.not_resources is not None else [])


def _services(statements: list[Statement]) -> list[str]:
    """The services whose actions the statements may name: those in `FIRST` first, then the others in order."""
    keys = catalog.service_keys()
    named: set[str] = set()
    for statement in statements:
        if statement.actions is None or "Action" in statement.unknown_in:
            named = set(keys)
            break
        for pattern in statement.actions:
            prefix = pattern.split(":", 1)[0].lower() if ":" in pattern else pattern.lower()
            named.update(fnmatch.filter(keys, prefix) if "*" in prefix or "?" in prefix else [prefix])
    return [k for k in FIRST if k in named] + sorted(named - set(FIRST))


def _may_reach_every(statement: Statement) -> bool:
    """Whether a statement's resources could reach every resource of a type: a wildcard, a policy variable,
    NotResource, or a resource not known at preview."""
    if statement.not_resources is not None or "Resource" in statement.unknown_in or not statement.resources:
        return True
    return any("*" in r or "?" in r or "${" in r for r in statement.resources)


def _first_reach(statements: list[Statement]) -> tuple[str, str, str, Statement] | None:
    """(action, type, a pattern, the statement that holds it) of the first action the statements allow on
    every resource of one of its types, or None."""
    # ARNs named one by one reach one resource each, alone or in a union: only the others can reach every one.
    statements = [s for s in statements if _may_reach_every(s)]
    if not statements:
        return None
    for key in _services(statements):
        service = catalog.service(key)
        if service is None:
            continue
        first = FIRST.get(key, ())
        masks = [(s, statement_actions(s, service)) for s in statements]
        named = 0
        for _, mask in masks:
            named |= mask
        for index, action in enumerate(service.actions):
            if not named >> index & 1 or not scoped(action.name):
                continue
            naming = [s for s, mask in masks if mask >> index & 1]
            patterns = [p for s in naming for p in _patterns(s)]
            types = [t for t in first if t in action.resource_types] + [
                t for t in action.resource_types if t not in first
            ]
            types = [t for t in types if not creates_assigned(action.name, t)]
            for type_ in types:
                pattern = reaching_every(patterns, key, type_)
                if pattern is not None and action.metadata and _alone(patterns, key, type_):
                    continue  # metadata on one pattern of every resource: least privilege's to refuse
                if pattern is not None:
                    statement = next(s for s in naming if pattern in _patterns(s))
                    return action.name, type_, pattern, statement
    return None


def _alone(patterns: list[str], key: str, type_: str) -> bool:
    """Whether one of the patterns reaches every resource of the type by itself (not only with the others)."""
    return any(reaching_every([p], key, type_) is not None for p in patterns)


DATA_REACH = EnvironmentStackPolicy(
    "iam-no-data-plane-reach",
    "Forbids any principal an action on every resource of a type (every object, secret, key, log group, snapshot, "
    "alarm or role) of an account.",
    _reach,
)

POLICIES = [DATA_REACH]
