"""What each principal of a stack is granted: the union of every document that reaches it.

A principal (IAM role, user, group, SSO permission set, or one a CloudFormation template declares) is
granted its inline policies, the customer-managed policies attached to it (their documents from the stack),
the AWS-managed policies attached to it (their documents from the snapshot in `catalog`), and, for a user,
all of its groups'. A document granted to a principal the stack does not declare (a role named by an
existing role's name) makes that principal part of the model too: it is judged all the same.

What cannot be decided is a `Gap`, never a silent pass: a value not known at preview (a document, a policy
ARN, which principal), a document the pack cannot read or that reads two ways (a key repeated up to case),
an attachment of a policy neither AWS-managed nor defined in the stack, a template given by URL, a resource
of a provider the pack does not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..framework import UNKNOWN, label
from . import catalog
from .algebra import use_stack_context
from .boundary import bounded
from .document import DocumentError, Statement, ambiguities, parse
from .items import (
    ATTACHED,
    CUSTOMER,
    INLINE,
    MANAGED_POLICY,
    PERMISSION_SET,
    ROLE,
    SELF,
    Item,
    Ref,
    What,
    listed,
)
from .reach import principals_of
from .sources import EXCLUSIVE, READ_PACKAGES, SET_INLINE, items

ROLE_TYPE = "aws:iam/role:Role"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"

KNOW_AT_PREVIEW = (
    "build it from names and the account, region and partition (components/arns.py), not from outputs of "
    "resources being created, so that it is known at preview"
)


@dataclass(frozen=True)
class Resource:
    """A stack resource as the model reads it: properties as plain values (`UNKNOWN` where unknown)."""

    urn: str
    type: str
    name: str
    props: dict[str, Any]
    custom: bool = True
    provider: str = ""
    """The URN of its provider (an explicit one may deploy to another account)."""
    dependencies: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Property -> the resources (URN, type) its value is built from: the engine's property dependencies."""
    ignored: tuple[str, ...] = ()
    """Its `ignoreChanges` option: the properties whose new values the engine does not apply."""

    def built_from(self, where: str) -> str:
        """What the value of the property `where` (e.g. `roles[0]`, `vpcConfig.roleArn`) is built from, as a
        clause for a message: the resources the engine names as its property dependencies."""
        found = self.dependencies.get(re.split(r"[.\[]", where, maxsplit=1)[0], ())
        named = ", ".join(label(kind, urn.rsplit("::", 1)[-1]) for urn, kind in found)
        return f" (it is built from an output of {named})" if named else ""


@dataclass(frozen=True)
class Gap:
    urn: str
    what: str
    """`aws:iam/rolePolicy:RolePolicy "x": policy`"""
    reason: str


TEMPLATE_TYPES = frozenset(
    {
        "aws:cloudformation/stack:Stack",
        "aws:cloudformation/stackSet:StackSet",
        "aws-native:cloudformation:Stack",
        "aws-native:cloudformation:StackSet",
    }
)
"""A CloudFormation stack or stack set: a principal its template declares may never be created (a Condition) or
be created in other accounts (a stack set), so it is never the stack's own. Told by the declaring resource's type,
never by its URN (a parent's type, which the URN holds too, is the program's to name)."""


@dataclass
class Principal:
    kind: str
    key: str
    label: str
    urn: str
    declared: bool = False
    statements: list[Statement] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)
    trust: list[Statement] = field(default_factory=list)
    """A role's trust policy: who may assume it."""
    providers: set[str] = field(default_factory=set)
    exclusive: bool = False
    """A resource of the stack removes the policies it does not list from this principal."""
    held: dict[str, list[Any]] = field(default_factory=dict)
    """A role's own known lists of what it holds (`Item.covers` -> inline policy names or managed policy ARNs, as
    the engine sends its outputs): a policy another resource puts on it that a list leaves out may not stay."""
    held_names: set[str] = field(default_factory=set)
    """The names of the inline policies its own list holds (their documents are judged with the rest)."""
    sure_names: set[str] = field(default_factory=set)
    """The names of its inline policies that a resource sure to run in its account writes (not a template's, which
    a Condition may skip or a stack set may create elsewhere)."""
    depends: frozenset[str] = frozenset()
    """For a grant to a principal not known at preview: the URNs its reference is built from."""
    unnamed_inline: bool = False
    """An inline policy of another resource whose name the stack does not say (the provider names it)."""
    inline_names: dict[str, int] = field(default_factory=dict)
    trust_from: set[str] = field(default_factory=set)
    """The resource types its trust policy comes from (a role, a template's role, an aws-native role)."""
    trust_gaps: list[str] = field(default_factory=list)
    """Why its trust policy, or a statement of it, cannot be judged (not known at preview, unreadable, ambiguous):
    who may assume it is then anyone the document could name."""
    declared_by: set[str] = field(default_factory=set)
    """The URNs of the resources that declare it (one, unless a template or another provider declares a namesake)."""
    service_policies: dict[str, list[Statement]] = field(default_factory=dict)
    """AWS-managed policies attached to it that AWS documents for a service's own role, by ARN, with what they
    grant (also in `statements`)."""

    replaceable: bool = False
    """An inline policy written under a name not known at preview, or one a grant to a principal not known yet
    writes under a name it holds, may replace one of its inline policies: its Denies may not stay."""

    one_account: bool = True
    """Whether everything that names it goes through one provider, or providers held to one same account (set
    by `collect`): otherwise one name may be several principals, in several accounts."""

    kept: dict[str, list[Any]] = field(default_factory=dict)
    """What exclusive resources keep it to (`Item.covers` -> each resource's list of inline policy names, None
    for attachments): what it held before the stack, or gets out of band, is removed."""
    ignoring: list[str] = field(default_factory=list)
    """Why exclusive resources of it may never apply their lists (they ignore changes, they name it by an ARN)."""
    spread_names: set[str] = field(default_factory=set)
    """The names of inline policies granted to a principal not known at preview, judged on it too (`_spread`)."""
    handed: list[str] = field(default_factory=list)
    """How the stack hands a group or permission set to someone: a membership, an account assignment."""

    templates: set[str] = field(default_factory=set)
    """The URNs of the CloudFormation stacks and stack sets among `declared_by`."""
    boundary: list[Statement] | None = None
    """Its permissions boundary's statements, where it has one the model reads (an account's, in
    `ml-pipelines audit-account`): what it is granted is cut to what the boundary allows. A stack's boundaries are
    not credited at preview: anyone allowed iam:DeleteRolePermissionsBoundary lifts one (fail closed)."""

    @property
    def templated(self) -> bool:
        """Declared only by CloudFormation stacks or stack sets (which create, never adopt, what they declare): a
        namesake a template declares beside a resource of the program's leaves that resource the program's."""
        return bool(self.declared_by) and self.declared_by <= self.templates

    @property
    def own(self) -> bool:
        """The stack's own: declared once, and everything that names it provably in one account. A namesake in a
        template or through another account's provider makes it any of several (never the stack's own)."""
        return self.declared and len(self.declared_by) <= 1 and self.one_account and not self.templates

    def only_trusted_by(self, services: frozenset[str]) -> bool:
        """A role that nothing but these services may assume: a trust the stack declares and knows, each Allow
        naming only service principals among them (a Deny only takes away)."""
        allows = [s for s in self.trust if s.allow]
        # One pulumi_aws role, through one provider: a namesake in a template (which may never be created) or
        # through another account's provider would lend its trust to the account's real role of that name.
        single = self.trust_from == {ROLE_TYPE} and len(self.declared_by) == 1 and len(self.providers) == 1
        if self.kind != ROLE or not self.declared or not allows or not single:
            return False
        for statement in allows:
            if statement.not_principal is not None or "Principal" in statement.unknown_in:
                return False
            named = principals_of(statement.principal)
            if not named or any(kind != "Service" or value not in services for kind, value in named):
                return False
        return True

    def accepted_service_policies(self) -> list[str]:
        """The ARNs of `service_policies` on the role of the services AWS documents them for."""
        return [
            arn
            for arn in self.service_policies
            if (entry := catalog.service_role_policy(arn)) is not None and self.only_trusted_by(entry.services)
        ]

    @property
    def denies_uncertain(self) -> bool:
        """Whether a Deny the stack declares for it may not be in place: an exclusive resource may remove it,
        a second inline policy of the same name replaces the first, or its grants come through providers that
        may be other accounts (one name, several roles)."""
        return (
            self.exclusive
            or self.replaceable
            or len(self.providers) > 1
            or any(n > 1 for n in self.inline_names.values())
        )


@dataclass
class Model:
    principals: dict[str, Principal] = field(default_factory=dict)
    policies: dict[str, Principal] = field(default_factory=dict)
    """Customer-managed policies of the stack, each judged alone too (it can be attached elsewhere)."""
    gaps: list[Gap] = field(default_factory=list)
    partitions: set[str] = field(default_factory=set)
    """The AWS partitions the stack's providers deploy to (from their regions); `aws` when none says."""
    regions: set[str] = field(default_factory=set)
    """The regions the stack's providers name."""
    credentials: list[tuple[str, str, str | None]] = field(default_factory=list)
    """The credentials of users the stack creates: (URN, what and where, the user's key or None if not known)."""
    accounts: set[str] = field(default_factory=set)
    """The accounts the stack's providers are held to (`allowedAccountIds`, the provider's own guard)."""
    scopes: dict[str, str | None] = field(default_factory=dict)
    """Provider URN -> the one account it deploys to (its `allowedAccountIds` naming one, or the account of
    the role it assumes), None when it does not say."""

    def account_of(self, principal: Principal) -> str | None:
        """The one account the principal is declared in, where its providers say so; else None."""
        accounts = {self.scopes.get(p) for p in principal.providers}
        return accounts.pop() if len(accounts) == 1 else None

    def names_declared(self, principal: Principal, account: str | None, providers: Iterable[str]) -> bool:
        """Whether a reference to the principal's name, of `account` (an ARN's; None for a bare name) and made
        through `providers`, is the principal the stack declares: of its account where both say one, and through
        providers provably of that account (a namesake declared through another account's provider is another
        principal)."""
        home = self.account_of(principal)
        same = account is None or home is None or account == home
        return same and self.same_account(principal.providers | set(providers))

    def same_account(self, providers: Iterable[str]) -> bool:
        """Whether the providers provably deploy to one account: one provider, or each held to the same one."""
        distinct = set(providers)
        if len(distinct) <= 1:
            return True
        accounts = {self.scopes.get(p) for p in distinct}
        return len(accounts) == 1 and None not in accounts

    def undeclared(self, principal: Principal) -> list[str]:
        """Why the stack does not declare the principal's whole grant set (empty when it does): each of its kinds
        of policies must be kept to a list by an exclusive resource, each inline policy it keeps declared by the
        stack, so that one it held before (adopted with `import_`, which a pack is not told of) or gets out of
        band is removed. A permission set has one inline policy: the stack declares it, or one it held stays."""
        needed = self.exclusive_types(principal)
        missing = [
            f"nothing keeps its {covers} to a list ({kind})"
            for covers, kind in needed.items()
            if not principal.kept.get(covers)
        ]
        declared = principal.sure_names | principal.held_names | principal.spread_names
        if principal.kind == PERMISSION_SET and SET_INLINE not in declared:
            missing.append(
                "the stack does not declare its inline policy (aws.ssoadmin.PermissionSetInlinePolicy), so one it "
                "holds stays"
            )
        for names in principal.kept.get(INLINE, []):
            for name in listed(names):
                if not isinstance(name, str):
                    missing.append("the inline policy names it is kept to are not known at preview")
                elif name not in declared:
                    missing.append(f"it is kept to the inline policy {name!r}, which the stack does not declare for it")
        missing += principal.ignoring
        if not principal.own:
            missing.append("what declares it and keeps it to lists does not provably go to one account")
        return sorted(set(missing))

    @staticmethod
    def exclusive_types(principal: Principal) -> dict[str, str]:
        """What keeps each kind of the principal's policies to a list: `Item.covers` -> the pulumi_aws type."""
        covers = (ATTACHED, CUSTOMER) if principal.kind == PERMISSION_SET else (INLINE, ATTACHED)
        return {c: EXCLUSIVE_TYPES[(principal.kind, c)] for c in covers if (principal.kind, c) in EXCLUSIVE_TYPES}

    def granted(self, principal: Principal) -> list[Statement]:
        """The principal's statements with its groups' (a user's), within its permissions boundary; Denies only where
        they are sure to be in place (fail closed)."""
        found = [s for s in principal.statements if s.allow or _deny_stays(principal, s)]
        for group in sorted(principal.groups):
            if group in self.principals:
                member_of = self.principals[group]
                found.extend(s for s in member_of.statements if s.allow or _deny_stays(member_of, s))
        if principal.boundary is not None:
            return bounded(found, principal.boundary)
        return found


def _deny_stays(principal: Principal, statement: Statement) -> bool:
    """A Deny counts only where nothing the stack declares may remove it: with the principal's own exclusive
    lists, only the Denies those lists hold."""
    return not principal.denies_uncertain


def _normal(kind: str, value: str) -> str:
    """IAM names are unique case-insensitively; an ARN where a name is expected names the same principal."""
    if value.startswith("arn:") and kind != "permission set":
        value = value.rsplit("/", 1)[-1]
    return f"{kind}:{value.lower()}"


def _key(ref: Ref, urn: str) -> str | None:
    if ref.key is UNKNOWN or not isinstance(ref.key, str):
        return None
    if ref.key.startswith("template:"):
        return f"{ref.kind}:{ref.key}@{urn}"
    if ref.key == SELF:
        return f"{ref.kind}:{SELF}{urn}"
    return _normal(ref.kind, ref.key)


def python_name(token: str) -> str:
    """A type token as a program names it: `aws:iam/rolePoliciesExclusive:RolePoliciesExclusive` ->
    `aws.iam.RolePoliciesExclusive`."""
    package, module, name = token.split(":")
    return f"{package}.{module.split('/', 1)[0]}.{name}"


EXCLUSIVE_TYPES = {(kind, covers): python_name(type_) for type_, (kind, _, covers) in EXCLUSIVE.items()}
"""The pulumi_aws resource that keeps each kind of a principal's policies to a list."""

UNNAMED = "unknown:"
"""The key prefix of the principal a grant goes to when the reference is not known at preview."""


class _Builder:
    def __init__(self, allowed_types: Iterable[str], managed: Mapping[str, Any] | None = None) -> None:
        self.aws_documents = None if managed is None else {name.lower(): doc for name, doc in managed.items()}
        """AWS-managed policy name -> the document to read for it (an account's own copy), instead of the
        pack's snapshot. Given, the resources are an account's, whose attachments name policies by their whole
        ARN: an ARN the account does not hold is not looked for by name (a namesake of another path is another
        policy)."""
        self.model = Model()
        self.allowed_types = {t.lower() for t in allowed_types}
        self.attachments: list[tuple[Resource, Item, str]] = []
        self.by_arn: dict[str, Principal] = {}
        self.by_name: dict[str, Principal] = {}
        self.memberships: list[tuple[Resource, Ref, str]] = []
        self.assignments: list[tuple[Resource, Item, str]] = []
        self.held_documents: list[tuple[Principal, Item, list[Statement]]] = []
        self.documents: dict[tuple[str, str], list[Any]] = {}
        """(principal key, inline policy name) -> the documents other resources write under that name."""

    def gap(self, resource: Resource, where: str, reason: str) -> None:
        self.model.gaps.append(Gap(resource.urn, f"{label(resource.type, resource.name)}: {where}", reason))

    def principal(self, kind: str, key: str, resource: Resource, declared: bool) -> Principal:
        found = self.model.principals.get(key)
        if found is None:
            shown = key.split(":", 1)[1].split("@", 1)[0]
            title = label(resource.type, resource.name) if declared else f"{kind} {shown!r} (not defined in the stack)"
            if key.startswith(UNNAMED):
                title = f"the {kind} {label(resource.type, resource.name)} grants to (not known at preview)"
            found = Principal(kind, key, title, resource.urn, declared)
            self.model.principals[key] = found
        elif declared and not found.declared:
            found.label, found.urn, found.declared = label(resource.type, resource.name), resource.urn, True
        return found

    def statements(self, resource: Resource, where: str, value: Any) -> list[Statement]:
        source = f"{label(resource.type, resource.name)} {where}"
        if value is UNKNOWN:
            self.gap(resource, where, f"the document is not known at preview; {KNOW_AT_PREVIEW}")
            return []
        repeated = ambiguities(value)
        if repeated:
            self.gap(
                resource,
                where,
                f"the document repeats {', '.join(repeated)}: JSON readers keep one or the other, so the pack, "
                "the provider and IAM may each read a different grant; write each element once",
            )
        try:
            found = parse(value, source)
        except DocumentError as error:
            self.gap(resource, where, f"the document cannot be read: {error}")
            return []
        for statement in found:
            unknown = sorted(statement.unknown_in)
            if unknown:
                self.gap(
                    resource,
                    f"{where} {statement.label}",
                    f"its {' and '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not known at preview, so "
                    f"it may grant anything; {KNOW_AT_PREVIEW}",
                )
        return found

    def read(self, resource: Resource) -> None:
        if resource.type in ("pulumi:providers:aws", "pulumi:providers:aws-native"):
            region = resource.props.get("region")
            self.model.partitions.add(partition_of(region))
            if isinstance(region, str):
                self.model.regions.add(region)
            allowed = _allowed_accounts(resource.props.get("allowedAccountIds"))
            self.model.accounts.update(allowed)
            self.model.scopes[resource.urn] = _scope(allowed, resource.props)
        package = resource.type.split(":", 1)[0]
        if resource.custom and package not in READ_PACKAGES and package != "pulumi":
            if resource.type.lower() not in self.allowed_types:
                self.gap(
                    resource,
                    "type",
                    f"the pack cannot read a {resource.type} resource, which may carry IAM grants it cannot see "
                    f"(a dynamic provider or a provider the pack does not know); if it grants nothing, list "
                    f'"{resource.type}" in readableTypes of iam-attached-policies-checked in the pack config',
                )
            return
        for item in items(resource.type, resource.props):
            self.item(resource, item)

    def trust(self, resource: Resource, item: Item, target: Principal) -> None:
        """Who may become the principal, and why that cannot be judged: the document as a whole (not known,
        unreadable, ambiguous), or a statement with a field other than its Condition not known (a Condition not
        known is judged per principal by the trust rule)."""
        before = len(self.model.gaps)
        found = self.statements(resource, item.where, item.document)
        target.trust.extend(found)
        target.trust_from.add(resource.type)
        whole = f"{label(resource.type, resource.name)}: {item.where}"
        target.trust_gaps += [gap.reason for gap in self.model.gaps[before:] if gap.what == whole]
        target.trust_gaps += [
            f"{s.label}: its {' and '.join(sorted(s.unknown_in - {'Condition'}))} not known at preview"
            for s in found
            if s.unknown_in - {"Condition"}
        ]

    def item(self, resource: Resource, item: Item) -> None:
        if item.what is What.GAP:
            self.gap(resource, item.where, item.reason)
            return
        if item.what is What.CREDENTIAL:
            assert item.principal is not None
            user = _key(item.principal, resource.urn)
            self.model.credentials.append((resource.urn, f"{label(resource.type, resource.name)}: {item.where}", user))
            return
        target = None
        if item.principal is not None:
            key = _key(item.principal, resource.urn)
            depends: frozenset[str] = frozenset()
            if key is None:
                if item.what not in (What.DOCUMENT, What.ATTACHMENT, What.EXCLUSIVE):
                    self.gap(
                        resource,
                        item.principal.where,
                        f"which {item.principal.kind} it grants to is not known at preview"
                        f"{resource.built_from(item.principal.where)}; {KNOW_AT_PREVIEW}",
                    )
                # A grant to a principal not known yet is judged on every principal it may name (`_spread`).
                key = f"{UNNAMED}{resource.urn}:{item.where}"
                root = re.split(r"[.\[]", item.principal.where, maxsplit=1)[0]
                depends = frozenset(urn for urn, _ in resource.dependencies.get(root, ()))
            target = self.principal(item.principal.kind, key, resource, declared=item.what is What.PRINCIPAL)
            if key.startswith(UNNAMED):
                target.depends = depends
            target.providers.add(resource.provider)
            if item.what is What.PRINCIPAL:
                target.declared_by.add(resource.urn)
                if resource.type in TEMPLATE_TYPES:
                    target.templates.add(resource.urn)
        if item.what is What.EXCLUSIVE:
            assert target is not None and item.principal is not None
            self.exclusive(resource, item, item.principal, target)
        elif item.what is What.HELD:
            assert target is not None
            target.held[item.covers] = list(item.names)
        elif item.what is What.ASSIGNMENT:
            assert target is not None
            self.assignments.append((resource, item, target.key))
        elif item.what is What.TRUST:
            # Who may become the principal: read here so that an unreadable trust policy is a verdict too.
            assert target is not None
            self.trust(resource, item, target)
        elif item.what is What.DOCUMENT:
            self.document(resource, item, target)
        elif item.what is What.ATTACHMENT and target is not None:
            self.attachments.append((resource, item, target.key))
        elif item.what is What.MEMBERSHIP and target is not None:
            for group in item.groups:
                key = _key(group, resource.urn)
                if key is None:
                    self.gap(
                        resource,
                        group.where,
                        f"which group it joins is not known at preview{resource.built_from(group.where)}; "
                        + KNOW_AT_PREVIEW,
                    )
                else:
                    target.groups.add(key)
                    self.memberships.append((resource, group, key))

    def document(self, resource: Resource, item: Item, target: Principal | None) -> None:
        found = self.statements(resource, item.where, item.document)
        if item.where.startswith("templateBody"):
            # A template's resource may never be created (a Condition, a StackSet without instances in this
            # account): what it would take away is never counted (fail closed).
            found = [s for s in found if s.allow]
        if target is None:
            self.managed(resource, item, found)
            return
        if item.held:
            # The role's own list as read back: judged in `held`, once every resource is read.
            self.held_documents.append((target, item, found))
            return
        target.statements.extend(found)
        target.replaceable |= item.overwrites
        if item.name is not None:
            self.documents.setdefault((target.key, item.name), []).append(_canonical(item.document))
        if item.name is None:
            target.unnamed_inline = True
        else:
            if not item.where.startswith("templateBody"):
                target.sure_names.add(item.name)
            count = target.inline_names.get(item.name, 0) + 1
            target.inline_names[item.name] = count
            if count == 2:
                self.gap(
                    resource,
                    item.where,
                    f"{target.label} has a second inline policy named {item.name!r}: the last one written "
                    "replaces the other, so the stack does not say which grant is in place; name each policy once",
                )

    def managed(self, resource: Resource, item: Item, found: list[Statement]) -> None:
        """A managed policy: judged alone, and joined to whatever attaches it."""
        policy = Principal("policy", resource.urn, label(resource.type, resource.name), resource.urn, True)
        policy.providers.add(resource.provider)
        policy.declared_by.add(resource.urn)
        policy.statements.extend(found)
        self.model.policies[resource.urn] = policy
        arn = resource.props.get("arn")
        if isinstance(arn, str):
            self.by_arn[arn.lower()] = policy
        if item.name:
            self.by_name[item.name.lower()] = policy
            path = resource.props.get("path") if resource.type == MANAGED_POLICY else None
            self.by_name[f"{path or '/'}{item.name}".lower()] = policy
            if item.name.startswith("template:"):
                self.by_name[f"{item.name}@{resource.urn}".lower()] = policy

    def exclusive(self, resource: Resource, item: Item, ref: Ref, target: Principal) -> None:
        """A resource that keeps the principal to a list: what the stack declares elsewhere may not stay, and,
        where it can apply its list, what the principal held before is removed."""
        target.exclusive = True
        what = label(resource.type, resource.name)
        if resource.ignored:
            target.ignoring.append(f"{what} ignores changes, so its list may never be applied")
        elif isinstance(ref.key, str) and ref.key.startswith("arn:") and ref.kind != PERMISSION_SET:
            target.ignoring.append(
                f"{what} names it by an ARN, which its {item.where} does not take (IAM's names hold no ':'), so it "
                "fails at pulumi up and keeps nothing"
            )
        else:
            target.kept.setdefault(item.covers, []).append(item.names)

    def held(self) -> None:
        """A role's own list entry is the policy a resource of the stack writes under that name with the same
        document (as the role reads back what RolePolicy put): judged once, through that resource. Any other
        entry is a grant of its own (set on the role, or held before the stack)."""
        for target, item, found in self.held_documents:
            if item.name is not None:
                target.held_names.add(item.name)
                if _canonical(item.document) in self.documents.get((target.key, item.name), []):
                    continue
            target.statements.extend(found)

    def attach(self) -> None:
        # pulumi_aws's PolicyAttachment is exclusive across the account: it detaches its policy from every
        # principal it does not list, so a Deny that policy brings elsewhere may not stay.
        revoked = {
            str(item.policy_arn).lower() if isinstance(item.policy_arn, str) else None
            for resource, item, _ in self.attachments
            if resource.type == POLICY_ATTACHMENT
        }
        attached: dict[str, set[Any]] = {}
        for resource, item, key in self.attachments:
            statements = self.attached(resource, item)
            self.model.principals[key].statements.extend(statements)
            if not item.held:
                attached.setdefault(key, set()).add(_arn_key(item.policy_arn))
            arn = item.policy_arn.lower() if isinstance(item.policy_arn, str) else None
            if resource.type != POLICY_ATTACHMENT and (None in revoked or arn in revoked):
                self.model.principals[key].replaceable = True
            if catalog.service_role_policy(item.policy_arn) is not None:
                self.model.principals[key].service_policies.setdefault(str(item.policy_arn), []).extend(statements)
        for key, principal in self.model.principals.items():
            _held_lists(principal, attached.get(key, set()))
        for resource, group, key in self.memberships:
            group_of = self.model.principals.get(key)
            if (
                group_of is None
                or not group_of.declared
                or not self.model.same_account(group_of.providers | {resource.provider})
            ):
                self.gap(
                    resource,
                    group.where,
                    f"it joins the group {group.key!r}, which the stack does not define, so what membership "
                    "grants cannot be judged; define the group in this stack",
                )
            else:
                group_of.handed.append(f"{label(resource.type, resource.name)} adds a member to it")
        for resource, item, key in self.assignments:
            if not self.model.principals[key].declared:
                self.gap(
                    resource,
                    item.where,
                    "it assigns a permission set the stack does not define, so what it grants cannot be judged; "
                    "define the permission set in this stack",
                )
            else:
                self.model.principals[key].handed.append(f"{label(resource.type, resource.name)} assigns it")

    def attached(self, resource: Resource, item: Item) -> list[Statement]:
        arn = item.policy_arn
        if arn is UNKNOWN or not isinstance(arn, str):
            # Any policy, AdministratorAccess too: an output of the policy it is built from can be any ARN.
            built = resource.built_from(item.where)
            self.gap(resource, item.where, f"the policy it attaches is not known at preview{built}; {KNOW_AT_PREVIEW}")
            return []
        name = catalog.aws_managed_name(arn)
        if name is not None and self.aws_documents is not None:
            document = self.aws_documents.get(name.lower())
            if document is None:
                self.gap(
                    resource,
                    item.where,
                    f"{arn} is attached, but the account's authorization details hold no document for it, so what "
                    "it grants cannot be judged",
                )
                return []
            return parse(
                document,
                f"AWS-managed policy {name} (the account's default version) attached by "
                + label(resource.type, resource.name),
            )
        if name is not None:
            document = catalog.aws_managed_document(name)
            if document is None:
                self.gap(
                    resource,
                    item.where,
                    f"{arn} is not an AWS-managed policy in the pack's snapshot ({catalog.managed_snapshot()}), so "
                    "what it grants cannot be judged; refresh the snapshot (make refresh-iam-data) or grant inline",
                )
                return []
            source = f"AWS-managed policy {name} (snapshot {catalog.managed_snapshot()}) attached by " + label(
                resource.type, resource.name
            )
            return parse(document, source)
        policy = self.by_arn.get(arn.lower())
        if policy is None and self.aws_documents is not None:
            self.gap(
                resource,
                item.where,
                f"{arn} is attached, but the account's authorization details hold no policy of that ARN, so what "
                "it grants cannot be judged",
            )
            return []
        if arn.startswith("policy-name:"):
            # IAM Identity Center resolves the name in each account the permission set is assigned to, where
            # it can hold any document: judged with this stack's policy of that name, and a gap all the same.
            self.gap(
                resource,
                item.where,
                f"it references the customer-managed policy {arn.removeprefix('policy-name:')}, which IAM Identity "
                "Center resolves in every account the permission set is assigned to, so what it grants there "
                "cannot be judged; grant through the permission set's inline policy",
            )
            policy = self.by_name.get(arn.removeprefix("policy-name:").lower())
            return [] if policy is None else policy.statements
        if policy is None and arn.startswith("template:"):
            policy = self.by_name.get(f"{arn}@{resource.urn}".lower())
        if policy is None and ":policy/" in arn:
            policy = self.by_name.get(arn.split(":policy", 1)[1].lower()) or self.by_name.get(
                arn.rsplit("/", 1)[-1].lower()
            )
        if policy is not None and not self.model.same_account(policy.providers | {resource.provider}):
            # A namesake declared through a provider of another (or an unsaid) account: the account's own
            # policy of that name is attached, which the stack does not show.
            policy = None
        if policy is None:
            self.gap(
                resource,
                item.where,
                f"it attaches {arn.removeprefix('policy-name:')}, which is neither an AWS-managed policy nor a "
                "policy of this stack, so what it grants cannot be judged; define the policy in this stack, or "
                "grant through the principal's own policy",
            )
            return []
        return policy.statements


def _canonical(document: Any) -> Any:
    """A document as a comparable value: JSON text read, keys sorted."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return document
    return json.dumps(document, sort_keys=True, default=str)


def _arn_key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _held_lists(principal: Principal, attached: set[Any]) -> None:
    """Where the role's own lists are known, a policy another resource of the stack puts on it that a list leaves
    out may not stay: the list is exclusive where the program sets it, and once read it is what the role holds.
    Its Denies then may not be in place."""
    for covers, declared in ((INLINE, set(principal.inline_names)), (ATTACHED, attached)):
        if covers not in principal.held:
            continue
        listed_now = {_arn_key(v) for v in principal.held[covers]}
        unnamed = covers == INLINE and principal.unnamed_inline
        if UNKNOWN in listed_now or unnamed or any(_arn_key(d) not in listed_now for d in declared):
            principal.replaceable = True


def partition_of(region: Any) -> str:
    """The partition of a region, by the region prefixes of botocore's partitions (`cn-` aws-cn, `us-gov-`
    aws-us-gov, `us-iso-` aws-iso, `us-isob-` aws-iso-b, `us-isof-` aws-iso-f, `eu-isoe-` aws-iso-e, `eusc-`
    aws-eusc); `aws` otherwise, or when the region is not known."""
    if not isinstance(region, str):
        return "aws"
    prefixes = (
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    )
    for prefix, partition in prefixes:
        if region.startswith(prefix):
            return partition
    return "aws"


def collect(
    resources: Iterable[Resource], readable_types: Iterable[str] = (), managed: Mapping[str, Any] | None = None
) -> Model:
    """The model of the resources. `managed`: the AWS-managed documents to read, by policy name, instead of the
    pack's snapshot (an account's own, from its authorization details)."""
    builder = _Builder(readable_types, managed)
    # In URN order, not the order the engine lists them (which follows registration, and so the program's
    # concurrency): the same stack gives the same model, witnesses and "through ..." lists on every run.
    for resource in sorted(resources, key=lambda r: r.urn):
        builder.read(resource)
    builder.held()
    builder.attach()
    _spread(builder.model)
    for principal in builder.model.principals.values():
        principal.one_account = builder.model.same_account(principal.providers)
    if not builder.model.partitions:
        builder.model.partitions.add("aws")
    found = builder.model
    # Witnesses name the stack's own partition, region and account where its providers name one of each.
    use_stack_context(
        *(next(iter(s)) if len(s) == 1 else None for s in (found.partitions, found.regions, found.accounts))
    )
    return found


def _spread(model: Model) -> None:
    """A grant to a principal not known at preview (`role=role.id`, an output of a role being created) is judged
    on every principal it may name, so the verdict holds whatever the value turns out to be: alone, as granted
    to a principal the stack does not show (`UNNAMED`), and with what each principal of its kind the model holds
    is granted. The engine's property dependencies say which resource the value is built from, not that it is
    that resource's name (`role.id.apply(lambda _: "admin")` has the same dependency), and at `pulumi up` the
    stack policies run only once everything is created: a presumption could not be checked in time. Only its
    Allows are added to the others: a Deny where it may not be would take away what they are granted."""
    unnamed = [p for p in model.principals.values() if p.key.startswith(UNNAMED)]
    for principal in list(model.principals.values()):
        if principal.key.startswith(UNNAMED):
            continue
        for grant in unnamed:
            if grant.kind == principal.kind:
                principal.statements.extend(s for s in grant.statements if s.allow)
                # Written under a name it holds, it would replace that inline policy (a Deny in it too).
                principal.replaceable |= grant.replaceable or any(
                    n in principal.inline_names for n in grant.inline_names
                )
                # An exclusive resource may remove what any of them holds: their Denies may not stay.
                principal.exclusive |= grant.exclusive
                if grant.depends and grant.depends <= principal.declared_by:
                    # Built from this principal's own resource alone, the reference is unknown only because that
                    # resource is being created (an adopted one is read at preview, its outputs known): what the
                    # grant names or keeps counts for it. Redirected elsewhere, it grants a created principal
                    # nothing it held before.
                    principal.spread_names.update(grant.inline_names)
                    for covers, lists in grant.kept.items():
                        principal.kept.setdefault(covers, []).extend(lists)
                    principal.ignoring.extend(grant.ignoring)
                for arn, granted in grant.service_policies.items():
                    # Accepted there only if that principal is the role of the services AWS documents it for.
                    principal.service_policies.setdefault(arn, []).extend(s for s in granted if s.allow)


def _scope(allowed: list[str], props: dict[str, Any]) -> str | None:
    """The one account a provider deploys to: its `allowedAccountIds` when they name one, else the account of
    the role it assumes (`assumeRoles`, or `assumeRole` of older providers, each `roleArn`), else None."""
    if any(_truthy(props.get(key)) for key in REDIRECTS):
        # Its calls may go elsewhere than the account's AWS (another endpoint, a proxy it trusts, an STS that
        # answers its account check): what it declares is in no account the pack can name.
        return None
    if len(set(allowed)) == 1:
        return allowed[0]
    if allowed:
        return None
    assumed = props.get("assumeRoles") or props.get("assumeRole")
    if isinstance(assumed, str):
        try:
            assumed = json.loads(assumed)
        except json.JSONDecodeError:
            return None
    listed = assumed if isinstance(assumed, list) else [assumed]
    accounts = {
        match.group(1)
        for entry in listed
        if isinstance(entry, dict)
        and isinstance(entry.get("roleArn"), str)
        and (match := re.match(r"^arn:[^:]*:iam::(\d{12}):", entry["roleArn"]))
    }
    return accounts.pop() if len(accounts) == 1 and len(listed) == 1 else None


REDIRECTS = (
    "endpoints",
    "httpProxy",
    "httpsProxy",
    "insecure",
    "customCaBundle",
    "skipCredentialsValidation",
    "skipRequestingAccountId",
)
"""pulumi_aws provider settings that send its calls elsewhere or skip what checks its account."""


def _truthy(value: Any) -> bool:
    """A provider setting that is set, or may be: the engine passes a default provider's config as text (`"[]"`,
    `"false"`)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return bool(value)
    return value is UNKNOWN or bool(value)


def _allowed_accounts(value: Any) -> list[str]:
    """A provider's `allowedAccountIds`: a list (an explicit provider) or its JSON text (a default provider's
    config, as the engine passes it)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    return [v for v in value if isinstance(v, str) and re.fullmatch(r"[0-9]{12}", v)] if isinstance(value, list) else []
