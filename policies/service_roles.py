"""AWS-managed policies made for a service's own role stay on that service's role.

AWS documents some AWS-managed policies as what a service's own role needs: `AWSLambdaBasicExecutionRole` for
a function's execution role, `AmazonEKSClusterPolicy` for a cluster's role, `AmazonECSTaskExecutionRolePolicy`
for a task's execution role. Written for the service, they grant it what it does for the role (create its log
streams, manage its network interfaces) on every resource of a type, which `iam-least-privilege-in-prod` and
`iam-no-data-plane-reach` would refuse in a policy of the stack's own. Each is accepted on a role that nothing but
the services AWS documents it for may assume (its trust names only those service principals), and refused on
anything else: a user, a group, a role a person or another account may assume.

The list, with the AWS pages that say so, is `policies/data/service_role_policies.json`. What these policies
grant still counts everywhere else: full SageMaker access, privilege escalation, PassRole.
"""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access import catalog
from .access.model import model
from .access.reach import principals_of
from .framework import EnvironmentStackPolicy, Report

INSTEAD = (
    "To pass: attach it only to the role of the services it is for, a role whose trust policy names only them, "
    "or grant what this principal needs in a policy of its own."
)


def _trusted(statements: list) -> str:
    named = sorted(
        {
            "anyone (*)" if kind == "*" else f"{kind} {value}"
            for s in statements
            if s.allow
            for kind, value in principals_of(s.principal)
        }
    )
    return ", ".join(named) if named else "no one the stack shows"


def _misplaced(args: StackValidationArgs, report: Report) -> None:
    for principal in model(args).principals.values():
        accepted = set(principal.accepted_service_policies())
        for arn in sorted(principal.service_policies):
            entry = catalog.service_role_policy(arn)
            if arn in accepted or entry is None:
                continue
            where = (
                f"a {principal.kind}"
                if principal.kind != "role"
                else f"a role its trust policy lets {_trusted(principal.trust)} assume"
            )
            report(
                f"{principal.label}: attaches the AWS-managed policy {entry.name}, which AWS documents for the own "
                f"role of {', '.join(sorted(entry.services))} ({entry.sources[0]}); this is {where}. {INSTEAD}",
                principal.urn,
            )


SERVICE_ROLES = EnvironmentStackPolicy(
    "iam-service-role-policies",
    "Requires the AWS-managed policies AWS documents for a service's own role to be attached only to a role "
    "nothing but that service may assume.",
    _misplaced,
)

POLICIES = [SERVICE_ROLES]
