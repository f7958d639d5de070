"""No action on every object, secret, parameter, key, table, queue or role of an account (or of every account).

A resource pattern whose name part is only wildcards (`arn:aws:s3:::*/*`, `...:secret:*`, `...:role/*`, `*`)
reaches every resource of the type, unless a resource-tag condition narrows it (ABAC)."""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access import catalog
from .access.reach import concrete, everything_of, literal, names_action
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
        reported = False
        for statement in found.granted(principal):
            if reported or not statement.allow or _tag_scoped(statement.condition):
                continue
            for key, types in DATA.items():
                service = catalog.service(key)
                if service is None or reported:
                    continue
                for action in service.actions:
                    accepted = [t for t in action.resource_types if t in types]
                    if not accepted or not names_action(statement, action.name):
                        continue
                    patterns = list(statement.resources or ()) or (["*"] if statement.not_resources is not None else [])
                    wide = [p for p in patterns if any(everything_of(p, key, t) for t in accepted)]
                    if wide:
                        report(
                            f"{principal.label}: allowed {action.name} on every {accepted[0]} of an account (e.g. "
                            f"{concrete(wide[0], action.name)}), granted by {statement.cites}. {INSTEAD}",
                            principal.urn,
                        )
                        reported = True
                        break


DATA_REACH = EnvironmentStackPolicy(
    "iam-no-data-plane-reach",
    "Forbids any principal an action on every object, secret, parameter, key, table, queue or role of an account.",
    _reach,
)

POLICIES = [DATA_REACH]
