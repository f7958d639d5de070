"""Compute runs as a role the stack defines: a Lambda function, state machine, schedule, SageMaker notebook,
model, pipeline, domain or user profile, ECS task, Batch job or EC2 instance profile given another role's ARN
runs with whatever that role grants, which the pack cannot see. Allow-list such roles by name
(`allowedRoles`)."""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access.sources import compute_roles
from .environment import UNKNOWN, EnvironmentStackPolicy, Report, label, setting
from .iam import model, resources

INSTEAD = (
    "To pass: run it as a role this stack defines, with its ARN built from the role's name so that it is known "
    "at preview, or list the role's name in allowedRoles of iam-compute-runs-as-own-roles in the pack config."
)


def _foreign(args: StackValidationArgs, report: Report) -> None:
    found = model(args)
    own = {p.key.split(":", 1)[1] for p in found.principals.values() if p.kind == "role" and p.declared}
    allowed = {r.lower() for r in setting(args, FOREIGN_ROLES.defaults, "allowedRoles")}
    for resource in resources(args):
        for where, role in compute_roles(resource.type, resource.props):
            what = label(resource.type, resource.name)
            if role is UNKNOWN or not isinstance(role, str):
                report(f"{what}: {where}: the role it runs as is not known at preview. {INSTEAD}", resource.urn)
                continue
            name = role.rsplit("/", 1)[-1].lower()
            if name not in own and name not in allowed:
                report(f"{what}: {where}: runs as {role}, a role the stack does not define. {INSTEAD}", resource.urn)


FOREIGN_ROLES = EnvironmentStackPolicy(
    "iam-compute-runs-as-own-roles",
    "Requires compute to run as roles the stack defines, or roles allow-listed by name.",
    _foreign,
    config={"allowedRoles": []},
)

POLICIES = [FOREIGN_ROLES]
