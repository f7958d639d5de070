"""iam:PassRole only to roles the stack defines, and only to services those roles trust.

AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html (iam:PassedToService)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pulumi_policy import StackValidationArgs

from .access.model import model
from .access.principals import Model, Principal
from .access.reach import account_of, allowing, concrete, condition_values, literal, principals_of
from .framework import EnvironmentStackPolicy, Finding, Report, report_all, setting

INSTEAD = (
    "To pass: name each role of this stack it passes by ARN, and restrict iam:PassedToService with StringEquals "
    "to the services those roles trust (or list a role outside the stack in allowedRoles in the pack config)."
)


def passrole_findings(found: Model, allowed: Iterable[str]) -> Iterator[Finding]:
    """Each statement that allows iam:PassRole beyond named roles of the stack (or `allowed`), or to services
    those roles do not trust."""
    allowed_roles = {r.lower() for r in allowed}
    trusts: dict[str, set[str]] = {}
    roles: dict[str, Principal] = {}
    for principal in found.principals.values():
        if principal.kind == "role" and principal.own:
            services = {v for s in principal.trust if s.allow for k, v in principals_of(s.principal) if k == "Service"}
            trusts[principal.key.split(":", 1)[1]] = services
            roles[principal.key.split(":", 1)[1]] = principal
    for principal in [*found.principals.values(), *found.policies.values()]:
        for statement in allowing(found.granted(principal), "iam:PassRole"):
            problems: list[str] = []
            passed: list[str] = []
            if statement.not_resources is not None or "Resource" in statement.unknown_in:
                problems.append("roles it does not name")
            for pattern in statement.resources or ():
                name = pattern.rsplit("/", 1)[-1].lower()
                if "*" in pattern or "?" in pattern or ":role/" not in pattern:
                    problems.append(f"{pattern}, which names no one role")
                elif name in trusts and found.names_declared(roles[name], account_of(pattern), principal.providers):
                    passed.append(name)
                elif name not in allowed_roles:
                    problems.append(f"{pattern}, a role the stack does not define")
            passed_to = condition_values(statement, "iam:passedtoservice", ("stringequals",))
            if not passed_to or not literal(passed_to):
                problems.append("without iam:PassedToService restricted by StringEquals to named services")
            else:
                for name in passed:
                    untrusted = sorted(set(passed_to) - trusts[name])
                    if untrusted:
                        problems.append(f"role {name} to {', '.join(untrusted)}, which it does not trust")
            if problems:
                resource = concrete((statement.resources or ("*",))[0], "iam:PassRole")
                yield Finding(
                    principal.urn,
                    f"{principal.label}: allowed iam:PassRole on {resource}, granted by "
                    f"{statement.cites}: {'; '.join(problems)}. {INSTEAD}",
                    {"action": "iam:PassRole", "resource": resource, "statements": (statement,), "problems": problems},
                )


def _passrole(args: StackValidationArgs, report: Report) -> None:
    report_all(passrole_findings(model(args), setting(args, PASSROLE.defaults, "allowedRoles")), report)


PASSROLE = EnvironmentStackPolicy(
    "iam-passrole-scoped",
    "Requires iam:PassRole to name roles the stack defines and to restrict iam:PassedToService to services "
    "those roles trust.",
    _passrole,
    config={"allowedRoles": []},
)

POLICIES = [PASSROLE]
