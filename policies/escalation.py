"""Privilege escalation: a principal allowed what lets it grant itself more.

The methods are Cloudsplaining's (Rhino Security Labs' and pathfinding.cloud's paths) and the
permissions-boundary actions (`policies/data/privilege_escalation.json`). A method is open when the principal
is allowed every action of it unsafely: an IAM write that supports the `iam:PermissionsBoundary` condition
without it, any other action on a resource the stack does not define (a wildcard, NotResource, another's
ARN). A resource another stack of the project deploys (the pipelines' roles and functions, which bootstrap's
deploy roles manage) counts as the stack's own when the pack config names it, exactly, in `deployedResources`
by service and ARN resource part (`lambda:function:tumor-prod-evaluate`, `iam:role/tumor-prod-sfn`). With
`allowedAccounts` set, an ARN of any other account is never the stack's own.
AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import StackValidationArgs

from .access.document import Statement
from .access.model import model, own
from .access.principals import Model
from .access.reach import Own, allowing, concrete, condition_values, escalation_methods, kind_of_arn, literal, outside
from .framework import EnvironmentStackPolicy, Finding, Report, report_all, setting

GUARDABLE = frozenset(
    {
        "iam:CreateRole",
        "iam:CreateUser",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
        "iam:AttachRolePolicy",
        "iam:AttachUserPolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
        "iam:UpdateAssumeRolePolicy",
    }
)
"""IAM writes the `iam:PermissionsBoundary` condition key makes safe: the principal they create or change keeps
the boundary (Service Authorization Reference, IAM's condition keys)."""
POLICY_REWRITES = frozenset({"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"})
"""Rewriting a managed policy is escalation even when the stack defines it: it may be attached to the principal
or be the permissions boundary that keeps the roles it creates in check."""

UNSAFE_ON_ANY = frozenset(
    {
        "iam:PutGroupPolicy",
        "iam:AttachGroupPolicy",
        "iam:AddUserToGroup",
        "iam:DeleteRolePermissionsBoundary",
        "iam:DeleteUserPermissionsBoundary",
    }
)
"""Escalation on the stack's own resources too: a group's policy takes no permissions-boundary condition (the
principal may be in the group, or join it), and deleting a boundary lifts the cap on whatever holds it."""

INSTEAD = (
    "To pass: allow IAM writes only with a StringEquals iam:PermissionsBoundary condition naming the boundary "
    "policy, and every other escalation action only on this stack's own resources, named one by one (a resource "
    "another stack of this project deploys: in deployedResources in the pack config, as service:resource, e.g. "
    "lambda:function:<name>)."
)


def _risk(statement: Statement, action: str, mine: Own) -> tuple[str, str] | None:
    """(why, a resource it reaches) when the statement allows the action unsafely, else None."""
    where = (statement.resources or ("*",))[0]
    if action in GUARDABLE:
        boundary = condition_values(statement, "iam:permissionsboundary", ("stringequals", "arnequals"))
        if boundary and literal(boundary):
            # The boundary must be a customer managed policy the stack defines: naming AdministratorAccess, or a
            # policy of the caller's choosing, guards nothing.
            defined = [b for b in boundary if (k := kind_of_arn(b)) and k[:2] == ("iam", "policy") and mine.holds(b)]
            if len(defined) == len(boundary):
                return None
            return "with an iam:PermissionsBoundary naming a policy the stack does not define", where
        return "without an iam:PermissionsBoundary condition", where
    if action in POLICY_REWRITES:
        return "which rewrites a managed policy (one attached, or a boundary)", where
    if action in UNSAFE_ON_ANY:
        return "which no condition makes safe (group policies take no boundary; a boundary removed caps nothing)", where
    reached = outside(statement, mine)
    if not reached:
        return None
    return "on resources the stack does not define", reached[0]


def escalation_findings(found: Model, mine: Own) -> Iterator[Finding]:
    """Each principal (and customer-managed policy) with an open escalation method: its first method's first
    action, the statement that allows it unsafely, and every method open."""
    for principal in [*found.principals.values(), *found.policies.values()]:
        statements = found.granted(principal)
        opened: list[tuple[str, tuple[str, ...], str, Statement, str, str]] = []
        for method, actions in escalation_methods().items():
            first = None
            for action in actions:
                risky = [(s, r) for s in allowing(statements, action) if (r := _risk(s, action, mine))]
                if not risky:
                    break
                if first is None:
                    statement, (why, where) = risky[0]
                    first = (action, statement, why, where)
            else:
                assert first is not None
                opened.append((method, actions, *first))
        if opened:
            names = ", ".join(m[0] for m in opened[:6]) + (f" and {len(opened) - 6} more" if len(opened) > 6 else "")
            method, actions, action, statement, why, where = opened[0]
            resource = concrete(where, action)
            yield Finding(
                principal.urn,
                f"{principal.label}: can escalate its privileges by {names}: e.g. {method} "
                f"({' + '.join(actions)}), {action} on {resource} {why}, granted by {statement.cites}. {INSTEAD}",
                {
                    "method": method,
                    "actions": list(actions),
                    "action": action,
                    "resource": resource,
                    "why": why,
                    "statements": (statement,),
                    "methods": [m[0] for m in opened],
                },
            )


def _escalation(args: StackValidationArgs, report: Report) -> None:
    found = model(args)
    mine = own(args, found).with_config(
        setting(args, PRIVILEGE_ESCALATION.defaults, "deployedResources"),
        setting(args, PRIVILEGE_ESCALATION.defaults, "allowedAccounts"),
    )
    report_all(escalation_findings(found, mine), report)


PRIVILEGE_ESCALATION = EnvironmentStackPolicy(
    "iam-no-privilege-escalation",
    "Forbids any principal a known privilege-escalation method: IAM writes without a permissions boundary, "
    "or escalation actions on resources the stack does not define.",
    _escalation,
    config={"deployedResources": [], "allowedAccounts": []},
)

POLICIES = [PRIVILEGE_ESCALATION]
