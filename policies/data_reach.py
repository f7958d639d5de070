"""No action on every object, secret, parameter, key, table, queue or role of an account (or of every account).

A resource pattern whose name part is only wildcards (`arn:aws:s3:::*/*`, `...:secret:*`, `...:role/*`, `*`)
reaches every resource of the type, unless a resource-tag condition narrows it (ABAC)."""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access import catalog
from .access.document import Statement
from .access.reach import concrete, literal, names_action, reaching_every
from .environment import EnvironmentStackPolicy, Report
from .iam import model

DATA = {
    "s3": ("object", "bucket"),
    "secretsmanager": ("Secret",),
    "ssm": ("parameter",),
    "kms": ("key",),
    "sts": ("role",),
    "dynamodb": ("table",),
    "sqs": ("queue",),
}
"""(service, resource type) pairs that hold data or power: each type as IAM's data names it."""
INSTEAD = (
    "To pass: name the resources (a bucket's prefix, the secrets, parameters, keys, tables, queues or roles this "
    "principal uses), or narrow the grant with an aws:ResourceTag condition."
)


def _tag_scoped(condition: object) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        # Bare operators only: ForAllValues:/ForAnyValue: and ...IfExists hold where the resource has no such tag.
        if isinstance(operator, str) and operator.lower() in ("stringequals", "stringlike"):
            for key, values in (block if isinstance(block, dict) else {}).items():
                listed = values if isinstance(values, list) else [values]
                if isinstance(key, str) and "resourcetag/" in key.lower() and literal([str(v) for v in listed]):
                    return True
    return False


def _reach(args: StackValidationArgs, report: Report) -> None:
    found = model(args)
    for principal in [*found.principals.values(), *found.policies.values()]:
        # Decided on the union of every statement that allows the action: pieces add up.
        statements = [s for s in found.granted(principal) if s.allow and not _tag_scoped(s.condition)]
        reach = _first_reach(statements)
        if reach is not None:
            action, type_, pattern, statement = reach
            report(
                f"{principal.label}: allowed {action} on every {type_} of an account (e.g. "
                f"{concrete(pattern, action)}), granted by {statement.cites}. {INSTEAD}",
                principal.urn,
            )


def _patterns(statement: Statement) -> list[str]:
    return list(statement.resources or ()) or (["*"] if statement.not_resources is not None else [])


def _first_reach(statements: list[Statement]) -> tuple[str, str, str, Statement] | None:
    """(action, type, a pattern, the statement that holds it) of the first data action the statements allow on
    every resource of its type, or None."""
    for key, types in DATA.items():
        service = catalog.service(key)
        if service is None:
            continue
        for action in service.actions:
            accepted = [t for t in action.resource_types if t in types]
            naming = [s for s in statements if names_action(s, action.name)] if accepted else []
            if not naming:
                continue
            patterns = [p for s in naming for p in _patterns(s)]
            for type_ in accepted:
                pattern = reaching_every(patterns, key, type_)
                if pattern is not None:
                    statement = next(s for s in naming if pattern in _patterns(s))
                    return action.name, type_, pattern, statement
    return None


DATA_REACH = EnvironmentStackPolicy(
    "iam-no-data-plane-reach",
    "Forbids any principal an action on every object, secret, parameter, key, table, queue or role of an account.",
    _reach,
)

POLICIES = [DATA_REACH]
