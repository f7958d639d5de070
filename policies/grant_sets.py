"""A principal the stack hands out holds only the grants the stack shows.

A role the stack declares may be an existing one adopted with `import_`: the engine does not tell a policy pack
(the analyzer protocol's resource options carry no import ID), and an adopted role keeps the inline policies and
managed policies it had, which the stack does not show. Its trust policy, the compute that runs as it and the
PassRole grants on it then hand out grants the pack never judged. So every role the stack declares, every group
it adds a member to and every permission set it assigns must have its whole grant set declared: each kind of
its policies kept to a list by an exclusive resource (`aws.iam.RolePoliciesExclusive`,
`aws.iam.RolePolicyAttachmentsExclusive`, ...; on create they remove what the principal holds beyond the list,
terraform-provider-aws's `syncAttachments`), every inline policy on the list declared by the stack, none of
those resources ignoring changes. Kept to lists, a role also loses what is attached to it out of band at the
next `pulumi up` that changes a list, or any `pulumi up --refresh`.

A user cannot be kept whole (pulumi_aws keeps no user's group memberships to a list), so a credential of a user
(an access key, a console password, an SSH key, a service-specific credential, a signing certificate) hands out
grants the stack cannot bound: refused. IAM's best practices ask for roles and temporary credentials instead.
"""

from __future__ import annotations

from pulumi_policy import StackValidationArgs

from .access.items import ROLE, SELF, USER
from .access.model import model
from .framework import EnvironmentStackPolicy, Report

IMPORT = (
    "A {kind} adopted with import_ (which the engine does not tell a policy pack) keeps the policies it had, which "
    "the stack does not show."
)
INSTEAD = (
    "To pass: declare {lists} naming it through the same provider, listing exactly the policies the stack grants "
    "it (an empty list where it has none), with no ignoreChanges on them."
)
BEST_PRACTICE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"


def _hands_out(kind: str, handed: list[str]) -> str:
    if kind == ROLE:
        return "its trust policy hands it out"
    return "; ".join(sorted(set(handed)))


def _whole(args: StackValidationArgs, report: Report) -> None:
    found = model(args)
    for principal in sorted(found.principals.values(), key=lambda p: p.key):
        if not principal.declared or principal.templated or principal.kind == USER:
            continue  # a template's principal is created by CloudFormation, never adopted
        if principal.kind != ROLE and not principal.handed:
            continue  # the stack hands it to no one: it grants nothing through it
        missing = found.undeclared(principal)
        if not missing:
            continue
        lists = " and ".join(found.exclusive_types(principal).values())
        report(
            f"{principal.label}: {_hands_out(principal.kind, principal.handed)}, but the stack does not declare "
            f"its whole grant set: {'; '.join(missing)}. {IMPORT.format(kind=principal.kind)} "
            f"{INSTEAD.format(lists=lists)}",
            principal.urn,
        )
    for urn, what, user in found.credentials:
        name = "a user not known at preview" if user is None else f"the user {user.split(':', 1)[1]!r}"
        if user is not None and user.startswith(f"{USER}:{SELF}"):
            name = "a user the stack declares"
        report(
            f"{what}: creates a credential of {name}: whoever holds it acts as the user, with every grant the user "
            "has, and a user's whole grant set cannot be declared (pulumi_aws keeps no user's group memberships "
            "to a list, and a user adopted with import_ keeps the groups and policies it had). To pass: give the "
            f"workload a role to assume, with temporary credentials, as IAM's best practices ask ({BEST_PRACTICE}).",
            urn,
        )


GRANT_SETS = EnvironmentStackPolicy(
    "iam-grant-sets-declared",
    "Requires every role the stack declares, group it adds members to and permission set it assigns to keep its "
    "policies to lists the stack declares (so an adopted one keeps no hidden grant), and no user credentials.",
    _whole,
)

POLICIES = [GRANT_SETS]
