"""Compute runs as a role the stack defines: anything that runs as, or hands a service, a role (`role`,
`roleArn`, `executionRole`, `serviceRole`, `instanceRole`, `taskRoleArn`, `jobRoleArn`, an instance profile...)
given another role runs with whatever that role grants, which the pack cannot see. A role ARN must be of an
allowed account; roles outside the stack may be allow-listed by name (`allowedRoles`)."""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access.compute import compute_roles
from .access.model import model, resources
from .access.properties import BEYOND, UNREADABLE
from .access.reach import account_of
from .framework import UNKNOWN, EnvironmentStackPolicy, Report, label, setting
from .resource_policies import ACCOUNTS

_UNSEEN = {
    id(UNKNOWN): "the role it runs as is not known at preview",
    id(BEYOND): "holds more values than the pack reads (YAML aliases expanded), so the roles in it cannot be seen",
    id(UNREADABLE): "is text the pack cannot read as JSON or YAML, so the roles in it cannot be seen",
}
"""Why a role cannot be seen, by the marker in its place."""

RUN_PACKAGES = frozenset({"aws", "aws-native", "kubernetes"})
"""Providers whose resources run something; a resource of another package without a provider is a component."""

INSTEAD = (
    "To pass: run it as a role this stack defines, with its ARN built from the role's name so that it is known "
    "at preview, or list the role's name in allowedRoles of iam-compute-runs-as-own-roles in the pack config."
)


def _foreign(args: StackValidationArgs, report: Report) -> None:
    found = model(args)
    own = {p.key.split(":", 1)[1]: p for p in found.principals.values() if p.kind == "role" and p.own}
    allowed = {r.lower() for r in setting(args, FOREIGN_ROLES.defaults, "allowedRoles")}
    accounts = set(setting(args, FOREIGN_ROLES.defaults, "allowedAccounts"))
    views = resources(args)
    profiles = {
        str(r.props.get("name", "")).lower(): str(r.props.get("role", "")).rsplit("/", 1)[-1].lower()
        for r in views
        if r.type == "aws:iam/instanceProfile:InstanceProfile"
    }
    for resource in views:
        if not resource.custom and resource.type.split(":", 1)[0] not in RUN_PACKAGES:
            continue  # a component's or the stack's outputs run nothing (what they name is read where it is used)
        for use in compute_roles(resource.type, resource.props):
            what, where, role = label(resource.type, resource.name), use.where, use.value
            if not isinstance(role, str):
                why = _UNSEEN.get(id(role), _UNSEEN[id(UNKNOWN)])
                if role is UNKNOWN:
                    # Whichever role the dependency is, its output can be turned into any role's ARN.
                    why += resource.built_from(where)
                report(f"{what}: {where}: {why}. {INSTEAD}", resource.urn)
                continue
            name = role.rsplit("/", 1)[-1].lower()
            if use.profile:
                name = profiles.get(name, f"instance profile {name}")
            account = account_of(role) if role.startswith("arn:") else None
            if account is not None and account not in accounts:
                report(
                    f"{what}: {where}: runs as {role}, a role of account {account}, outside allowedAccounts. {INSTEAD}",
                    resource.urn,
                )
            elif name in own and not found.names_declared(own[name], account, {resource.provider}):
                # Through a provider of another (or an unsaid) account, the name is that account's role.
                report(
                    f"{what}: {where}: runs as {role} through a provider not held to the account the stack defines "
                    f"that role in (set one allowedAccountIds on every provider). {INSTEAD}",
                    resource.urn,
                )
            elif name not in own and name not in allowed:
                report(f"{what}: {where}: runs as {role}, a role the stack does not define. {INSTEAD}", resource.urn)


FOREIGN_ROLES = EnvironmentStackPolicy(
    "iam-compute-runs-as-own-roles",
    "Requires compute to run as roles the stack defines, or roles allow-listed by name, of allowed accounts.",
    _foreign,
    config={"allowedRoles": [], "allowedAccounts": []},
    schemas={"allowedAccounts": ACCOUNTS},
)

POLICIES = [FOREIGN_ROLES]
