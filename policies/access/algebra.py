"""What a set of statements allows, decided over every action IAM publishes, by glob algebra.

Actions: a pattern is matched, as IAM matches it (case-insensitively, `*` any run, `?` one character), against
every published action of a service; a statement's actions are a bit set over the service's action list.
`NotAction` is the complement. Actions AWS has not published are not enumerated: a union that covers every
published action counts as all of them, whatever its patterns would do with tomorrow's.

Resources: each resource type IAM publishes for the service is probed with one ARN made from its format, the
region, account and names replaced by tokens no real ARN contains, plus the literal `*` that actions without
resource types are requested on. A `Resource` pattern covers a probe when, its partition, region and account
fields widened to `*`, it matches: "every resource of a type in one account" counts as every resource of
that type (fail closed); any `Resource` reaches the `*` probe (a grant of `sagemaker:List*` on `arn:*`
means them, though IAM compares the literal `*`). A pattern that takes a resource away (`NotResource`, a
Deny) does so only when it matches the probe for two unrelated sets of tokens, i.e. whatever the region,
account and names.

Denies: only a Deny without a Condition and without unknowns takes anything away (one that applies only
sometimes takes nothing away for certain). It takes away the probes it reaches whatever the region, account and
names, and, from each Allow `Resource` pattern its own pattern covers (`_subsumes`), the actions it denies:
an Allow widened to every resource and a Deny of that very pattern leave nothing. A Condition on an Allow is
ignored (it narrows when, not what).

Every decision comes with a witness: one published action, one concrete ARN, and the statement that grants
them, checked by `allows()` (a request evaluated as IAM would, unconditional Denies included).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import catalog
from .catalog import Service
from .document import Statement

__all__ = [  # the algebra's public entry: nothing outside this module uses another name of it
    "LONG",
    "QUALIFIER",
    "SHORT",
    "STAR",
    "VARIABLE",
    "FullAccess",
    "Probes",
    "Witness",
    "action_mask",
    "allowed_probes",
    "allows",
    "certain_deny",
    "denied_probes",
    "few_types",
    "full_access",
    "glob",
    "matches",
    "matches_exactly",
    "probes",
    "readable_arns",
    "readable_context",
    "statement_actions",
    "use_stack_context",
]

STAR = "*"
# Tokens no real ARN holds, of unrelated characters and lengths, for the region, account and names of probes.
# One set of one character each, one long: an Allow that reaches either reaches the type (fail closed); a Deny
# or NotResource takes a type away only when it reaches both, so a length pattern (`?????*`) never counts.
SHORT = "\x01"
"""A probe's one-character name, region or account: no real ARN holds the character."""
LONG = "\x02" * 23
"""A probe's long name: no real ARN holds the character."""
QUALIFIER = "\x03"
"""A probe's qualifier (`function:<name>:<qualifier>`): no real ARN holds the character."""
_TOKENS = ((SHORT, SHORT, SHORT), ("\x02" * 14, "\x02" * 13, LONG))
"""(region, account, name). Probes are built in the stack's partition (`aws`, `aws-cn`, `aws-us-gov`...): a
Deny written for another partition takes nothing away."""
VARIABLE = re.compile(r"\$\{([^}]*)\}")
"""A policy variable or an ARN format's placeholder: `${aws:username}`, `${Partition}`."""
# What a witness ARN is written with, so that a reader can paste it: the stack's own partition, region and
# account once the model has read its providers (`use_stack_context`), these placeholders before.
_PLACEHOLDERS = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}
_READABLE = dict(_PLACEHOLDERS)


def use_stack_context(partition: str | None, region: str | None, account: str | None) -> None:
    """Write witnesses in the stack's partition, region and account (each None: not known, a placeholder)."""
    _READABLE.update(
        Partition=partition or _PLACEHOLDERS["Partition"],
        Region=region or _PLACEHOLDERS["Region"],
        Account=account or _PLACEHOLDERS["Account"],
    )


def readable_context() -> dict[str, str]:
    """`Partition`, `Region`, `Account` as witnesses name them."""
    return dict(_READABLE)


class Glob:
    """An IAM wildcard pattern (`*`: any run of characters, `?`: any one), matched in time linear in the value
    and the pattern: no backtracking regular expression ever sees a pattern a user wrote (`a*a*a*...b` or runs of
    `*?` stall one for minutes). The pattern splits at `*` into segments of fixed length; the first must start
    the value, the last end it, and each one between is placed at its leftmost fit after the one before, which is
    a match whenever any placement is. A segment with `?` is found by a regular expression of fixed length (no
    quantifier, so no backtracking); one without, by `str.find`."""

    __slots__ = ("_head", "_middle", "_star", "_tail")

    def __init__(self, pattern: str) -> None:
        segments = pattern.split("*")
        self._star = len(segments) > 1
        self._head = _Segment(segments[0])
        self._tail = _Segment(segments[-1])
        self._middle = tuple(_Segment(s) for s in segments[1:-1] if s)

    def fullmatch(self, value: str) -> bool | None:
        """True when the whole value matches, else None (as `re.Pattern.fullmatch` answers `is not None`)."""
        head, tail = self._head, self._tail
        if not self._star:
            return True if len(value) == head.size and head.at(value, 0) else None
        end = len(value) - tail.size
        if end < head.size or not head.at(value, 0) or not tail.at(value, end):
            return None
        position = head.size
        for segment in self._middle:
            found = segment.find(value, position, end)
            if found < 0:
                return None
            position = found + segment.size
        return True


class _Segment:
    """A run of a pattern between two `*`: literal characters and `?`."""

    __slots__ = ("_regex", "_text", "size")

    def __init__(self, text: str) -> None:
        self._text, self.size = text, len(text)
        self._regex = (
            re.compile("".join("." if c == "?" else re.escape(c) for c in text), re.DOTALL) if "?" in text else None
        )

    def at(self, value: str, position: int) -> bool:
        if self._regex is None:
            return value.startswith(self._text, position)
        return self._regex.match(value, position) is not None

    def find(self, value: str, start: int, end: int) -> int:
        """The leftmost position in [start, end - size] where the segment fits, or -1."""
        if self._regex is None:
            return value.find(self._text, start, end)
        found = self._regex.search(value, start, end)
        return -1 if found is None else found.start()


@functools.lru_cache(maxsize=65536)
def glob(pattern: str) -> Glob:
    """IAM's wildcards (`*`, `?`), without case (the pattern lower-cased; lower-case the value)."""
    return Glob(pattern.lower())


def matches(pattern: str, value: str) -> bool:
    """IAM wildcard matching, case-insensitive (exact for actions; fail closed for an Allow's ARNs)."""
    return glob(pattern).fullmatch(value.lower()) is not None


@functools.lru_cache(maxsize=65536)
def _exact_glob(pattern: str) -> Glob:
    return Glob(pattern)


def matches_exactly(pattern: str, value: str) -> bool:
    """IAM wildcard matching of resource ARNs, which is case-sensitive: for what a Deny takes away."""
    return _exact_glob(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=65536)
def action_mask(pattern: str, key: str) -> int:
    """The published actions of service `key` a pattern names, as a bit set."""
    found = catalog.service(key)
    if found is None:
        return 0
    lowered = pattern.lower()
    prefix, colon, _ = lowered.partition(":")
    if colon and "*" not in prefix and "?" not in prefix and prefix != key:
        return 0
    if "*" not in lowered and "?" not in lowered:
        position = found.index.get(lowered)
        return 0 if position is None else 1 << position
    mask = 0
    matcher = glob(lowered)
    for name, position in found.index.items():
        if matcher.fullmatch(name):
            mask |= 1 << position
    return mask


def by_prefix(patterns: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Action patterns by the service prefix they write out (lower-cased), and those with a wildcard prefix or none:
    a pattern of the first kind names actions of its own service only (`action_mask` is 0 for any other)."""
    named: dict[str, list[str]] = {}
    open_prefix: list[str] = []
    for pattern in patterns:
        prefix, colon, _ = pattern.lower().partition(":")
        if colon and "*" not in prefix and "?" not in prefix:
            named.setdefault(prefix, []).append(pattern)
        else:
            open_prefix.append(pattern)
    return named, open_prefix


def statement_actions(statement: Statement, service: Service) -> int:
    """The service's published actions a statement names (Action), or leaves out (NotAction)."""
    if statement.actions is not None:
        mask = 0
        for pattern in statement.actions:
            mask |= action_mask(pattern, service.key)
        return mask
    if statement.not_actions is not None:
        if "NotAction" in statement.unknown_in:
            return service.everything  # an unknown exclusion excludes nothing for certain
        mask = 0
        for pattern in statement.not_actions:
            mask |= action_mask(pattern, service.key)
        return service.everything & ~mask
    return 0


@dataclass(frozen=True)
class Probes:
    """One probe per resource type of a service, and the literal `*` last."""

    service: Service
    types: tuple[str, ...]
    first: tuple[str, ...]
    second: tuple[str, ...]
    need: tuple[int, ...]
    """Per probe, the actions that accept that resource type (the last: the actions that accept only `*`)."""

    @property
    def everything(self) -> int:
        return (1 << len(self.first)) - 1


def _fill(arn_format: str, partition: str, tokens: tuple[str, str, str]) -> str:
    region, account, name = tokens

    def value(match: re.Match[str]) -> str:
        variable = match.group(1)
        return {"Partition": partition, "Region": region, "Account": account}.get(variable, name)

    return VARIABLE.sub(value, arn_format)


@functools.cache
def probes(key: str, partition: str = "aws") -> Probes | None:
    found = catalog.service(key)
    if found is None:
        return None
    types = tuple(sorted(found.arn_formats))
    position = {t: i for i, t in enumerate(types)}
    need = [0] * (len(types) + 1)
    for bit, published in enumerate(found.actions):
        accepted = [position[t] for t in published.resource_types if t in position]
        for i in accepted or [len(types)]:
            need[i] |= 1 << bit
    return Probes(
        found,
        types,
        (*(_fill(found.arn_formats[t], partition, _TOKENS[0]) for t in types), STAR),
        (*(_fill(found.arn_formats[t], partition, _TOKENS[1]) for t in types), STAR),
        tuple(need),
    )


def _widened(pattern: str) -> str:
    """Partition, region and account fields as `*`: a grant in one account counts as a grant anywhere."""
    fields = pattern.split(":", 5)
    for i in (1, 3, 4):
        if i < len(fields) and i < 5:
            fields[i] = "*"
    return ":".join(fields)


_WILDCARDS = re.compile(r"[*?]+")


@functools.cache
def _rests(key: str) -> tuple[str, ...]:
    """The resource part (after the fifth colon) of every probe, lower-cased, both token sets."""
    found = probes(key)
    assert found is not None
    return tuple(arn.split(":", 5)[5].lower() for arn in (*found.first[:-1], *found.second[:-1]))


@functools.cache
def _rest_starts(key: str) -> frozenset[str]:
    """Every start of every probe's resource part (`_rests`), the empty one included."""
    return frozenset(rest[:end] for rest in _rests(key) for end in range(len(rest) + 1))


def _may_match(pattern: str, key: str) -> bool:
    """A cheap necessary condition for an ARN pattern to match a probe: its service field can be the service
    and each literal run of its resource part can stand where a probe's does. Nearly every scoped pattern
    (`training-job/tumor-prod-*`) fails it, so no regular expression is compiled for it: checking stays
    linear in the document's size even when every statement names other ARNs."""
    fields = pattern.lower().split(":", 5)
    if len(fields) < 6:
        return True
    service = fields[2]
    if "*" not in service and "?" not in service and service != key:
        return False
    runs = _WILDCARDS.split(fields[5])
    head, tail, middle = runs[0], runs[-1], runs[1:-1]
    if head not in _rest_starts(key):
        return False  # no probe's resource part starts with it (a set lookup, not one test per probe)
    for rest in _rests(key):
        fits = rest.startswith(head) and rest.endswith(tail) and all(run in rest for run in middle)
        if fits and (len(runs) > 1 or rest == head):
            return True
    return False


@functools.lru_cache(maxsize=65536)
def _covers(pattern: str, key: str, widen: bool, both: bool, partition: str = "aws") -> int:
    found = probes(key, partition)
    assert found is not None
    star = 1 << (len(found.first) - 1)
    if not _may_match(pattern, key):
        # Only the `*` probe is left: any pattern reaches it widened; as written, only one that matches `*`.
        return star if widen or matches(pattern, STAR) else 0
    # IAM compares resource ARNs case-sensitively: an Allow is read case-insensitively (it can only reach
    # more), a Deny or NotResource exactly as written (so `ARN:AWS:...` takes nothing away).
    regex = glob(_widened(pattern)) if widen else _exact_glob(pattern)
    mask = 0
    for i, (one, two) in enumerate(zip(found.first, found.second, strict=True)):
        if i == len(found.first) - 1:
            # Actions that accept only `*`: IAM compares the literal `*`, but a grant that names them on
            # `arn:*` still means them; widened, any resource pattern reaches them (fail closed).
            hit = widen or regex.fullmatch(STAR) is not None
        elif both:
            hit = regex.fullmatch(one) is not None and regex.fullmatch(two) is not None
        else:
            hit = regex.fullmatch(one.lower()) is not None or regex.fullmatch(two.lower()) is not None
        if hit:
            mask |= 1 << i
    return mask


def _union(patterns: Iterable[str], key: str, widen: bool, both: bool, partition: str = "aws") -> int:
    mask = 0
    for pattern in patterns:
        mask |= _covers(pattern, key, widen, both, partition)
    return mask


def allowed_probes(statement: Statement, key: str, partition: str = "aws") -> int:
    """The probes an Allow statement reaches (Resource widened; NotResource takes away only for certain)."""
    found = probes(key)
    assert found is not None
    if statement.resources is not None:
        return _union(statement.resources, key, widen=True, both=False, partition=partition)
    if statement.not_resources is not None:
        if "NotResource" in statement.unknown_in:
            return found.everything
        return found.everything & ~_union(statement.not_resources, key, widen=False, both=True, partition=partition)
    return 0


def denied_probes(statement: Statement, key: str, partition: str = "aws") -> int:
    """The probes a Deny certainly reaches, whatever the region, account and names."""
    found = probes(key)
    assert found is not None
    if statement.resources is not None:
        return _union(statement.resources, key, widen=False, both=True, partition=partition)
    if statement.not_resources is not None:
        return found.everything & ~_union(statement.not_resources, key, widen=True, both=False, partition=partition)
    return 0


def certain_deny(statement: Statement) -> bool:
    """A Deny that applies to every request it names: no Condition, nothing unknown."""
    return not statement.allow and not statement.has_condition and not statement.unknown_in


# -- requests -----------------------------------------------------------------------------------------------
def _names(listed: Sequence[str] | None, excluded: Sequence[str] | None, value: str, exact: bool = False) -> bool:
    """Whether a list (or its complement) names the value; `exact`: case-sensitively, as IAM reads ARNs."""
    match = matches_exactly if exact else matches
    if listed is not None:
        return any(match(p, value) for p in listed)
    if excluded is not None:
        return not any(match(p, value) for p in excluded)
    return False


def allows(statements: Sequence[Statement], action: str, resource: str) -> Statement | None:
    """The Allow statement that lets a request through, or None: IAM's evaluation of one request for an
    identity, with unconditional Denies applied and Conditions on Allows taken as met (fail closed)."""

    def reaches(statement: Statement, exact: bool) -> bool:
        return _names(statement.actions, statement.not_actions, action) and _names(
            statement.resources, statement.not_resources, resource, exact
        )

    if any(certain_deny(s) and reaches(s, exact=True) for s in statements):
        return None
    return next((s for s in statements if s.allow and reaches(s, exact=False)), None)


# -- whole-service access -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Witness:
    action: str
    resource: str
    statement: Statement

    def describe(self) -> str:
        return f"{self.action} on {self.resource}, granted by {self.statement.cites}"


@dataclass(frozen=True)
class FullAccess:
    service: str
    actions: int
    """How many published actions the grant covers (all of them)."""
    statements: tuple[Statement, ...]
    """The Allow statements that contribute."""
    witness: Witness
    left_out: tuple[str, ...] = ()
    """The resource types (at most `few_types`) on which not every action that accepts them is allowed."""

    def describe(self) -> str:
        name = SERVICE_NAMES.get(self.service, self.service)
        sources = ", ".join(s.cites for s in self.statements[:4])
        more = f" and {len(self.statements) - 4} more" if len(self.statements) > 4 else ""
        where = "every resource type each accepts"
        if self.left_out:
            where = f"every resource type each accepts but {len(self.left_out)} ({', '.join(self.left_out)})"
        return (
            f"allowed every {name} action IAM publishes ({self.actions}, IAM data of {catalog.data_date()}) on "
            f"{where}, e.g. {self.witness.describe()}; through {sources}{more}"
        )


def few_types(types: int) -> int:
    """How many of a service's resource types a grant may leave out and still be full access: a tenth, rounded
    up (8 of SageMaker's 74). AWS's own AmazonSageMakerFullAccess leaves out 7 (Studio domains, user profiles,
    apps, spaces...) with a NotResource, and grants every other action on every other resource: what a reader of
    "no sagemaker:* on *" means. A grant on a tenth of the types or fewer is scoped, not full."""
    return -(-types // 10)


SERVICE_NAMES = {"sagemaker": "SageMaker", "iam": "IAM", "s3": "S3", "kms": "KMS", "sts": "STS"}
_PREFERRED = ("CreateTrainingJob", "CreateRole", "GetObject", "Decrypt")


def full_access(statements: Sequence[Statement], key: str, partitions: Iterable[str] = ("aws",)) -> FullAccess | None:
    """Whether the statements together allow every published action of a service on every resource type
    each accepts (and `*` for those that accept only `*`), in one of the stack's partitions; with a witness.
    None when they do not."""
    for partition in sorted(set(partitions)) or ["aws"]:
        found = _full_access(statements, key, partition)
        if found is not None:
            return found
    return None


def _full_access(statements: Sequence[Statement], key: str, partition: str) -> FullAccess | None:
    found = probes(key, partition)
    if found is None:
        return None
    width = len(found.first)
    allowed: dict[int, int] = {}  # probe set -> actions reaching it, grouped (linear in statements)
    denied: dict[int, int] = {}
    contributing: list[Statement] = []
    denies = [(d.resources, statement_actions(d, found.service)) for d in statements if certain_deny(d) and d.resources]
    for statement in statements:
        if statement.allow:
            reached = _allowed_reach(statement, statement_actions(statement, found.service), denies, key, partition)
            for reach, granted in reached:
                allowed[reach] = allowed.get(reach, 0) | granted
            if reached:
                contributing.append(statement)
        elif certain_deny(statement):
            actions = statement_actions(statement, found.service)
            if actions:
                reach = denied_probes(statement, key, partition)
                if reach:
                    denied[reach] = denied.get(reach, 0) | actions
    if not allowed:
        return None
    per_probe = [0] * width
    for reach, actions in allowed.items():
        for i in _bits(reach):
            per_probe[i] |= actions
    for reach, actions in denied.items():
        for i in _bits(reach):
            per_probe[i] &= ~actions
    left_out = tuple(
        found.types[i] if i < len(found.types) else STAR for i in range(width) if found.need[i] & ~per_probe[i]
    )
    if len(left_out) > few_types(len(found.types)):
        return None
    witness = _witness(statements, found, contributing)
    if witness is None:
        # Every probe is covered, yet no readable ARN is: the grant leaves out exactly the names a reader
        # would try. Still every resource type: report it with a probe ARN, its tokens spelt out.
        witness = _probe_witness(statements, found, contributing)
    return FullAccess(key, len(found.service.actions), tuple(contributing), witness, left_out)


def _allowed_reach(
    statement: Statement,
    actions: int,
    denies: Sequence[tuple[Sequence[str], int]],
    key: str,
    partition: str,
) -> list[tuple[int, int]]:
    """(probes, actions) an Allow reaches. Each `Resource` pattern is widened to every region, account and name
    it leaves open (fail closed), less the actions a certain Deny takes away on all of that pattern: a Deny whose
    pattern covers the Allow's, as IAM reads both (`_subsumes`), denies exactly what the Allow grants there,
    whatever the widening makes of it."""
    if not actions:
        return []
    if statement.resources is None:
        reach = allowed_probes(statement, key, partition)
        return [(reach, actions)] if reach else []
    found = []
    for pattern in statement.resources:
        taken = 0
        for resources, denied in denies:
            if any(_subsumes(d, pattern) for d in resources):
                taken |= denied
        reach = _covers(pattern, key, True, False, partition)
        if reach and actions & ~taken:
            found.append((reach, actions & ~taken))
    return found


@functools.lru_cache(maxsize=65536)
def _subsumes(wider: str, narrower: str) -> bool:
    """Whether every ARN `narrower` matches, `wider` matches too (IAM's wildcards, case-sensitively as IAM
    compares ARNs). A `*` of `narrower` is only met by a `*` of `wider`, a `?` by a `?` or a `*`; a policy variable
    in either (a value only the request supplies) never counts. Quadratic in the lengths, never backtracking."""
    if "${" in wider or "${" in narrower:
        return False
    rows, columns = len(wider), len(narrower)
    # covers[j]: wider[i:] covers narrower[j:], computed from the end of `wider` backwards.
    covers = [False] * columns + [True]
    for i in range(rows - 1, -1, -1):
        here = [False] * (columns + 1)
        for j in range(columns, -1, -1):
            if wider[i] == "*":
                here[j] = covers[j] or (j < columns and here[j + 1])
            elif j < columns and narrower[j] != "*" and (wider[i] == "?" or wider[i] == narrower[j] != "?"):
                here[j] = covers[j + 1]
        covers = here
    return covers[0]


def _probe_witness(statements: Sequence[Statement], found: Probes, contributing: Sequence[Statement]) -> Witness:
    name = found.service.actions[0].name
    published = catalog.action(name)
    assert published is not None
    types = [t for t in published.resource_types if t in found.types]
    arn = found.first[found.types.index(types[0])] if types else STAR
    granted = allows(statements, name, arn) or contributing[0]
    return Witness(name, arn.replace("\x01", "?"), granted)


def _bits(mask: int) -> Iterable[int]:
    i = 0
    while mask:
        if mask & 1:
            yield i
        mask >>= 1
        i += 1


def readable_arns(arn_format: str, statement: Statement) -> list[str]:
    """Concrete ARNs of a format, filled with values a reader recognises: the statement's own literal
    partition, region and account first, then the usual placeholders."""
    candidates: list[dict[str, str]] = []
    for pattern in statement.resources or ():
        fields = pattern.split(":", 5)
        literal = {
            name: fields[i]
            for name, i in (("Partition", 1), ("Region", 3), ("Account", 4))
            if i < len(fields) - (len(fields) < 6) and fields[i] and "*" not in fields[i] and "?" not in fields[i]
        }
        if literal:
            candidates.append({**_READABLE, **literal})
    candidates.append(dict(_READABLE))
    arns = []
    for values in candidates:
        arns.append(VARIABLE.sub(lambda m, v=values: v.get(m.group(1), "example"), arn_format))  # type: ignore[misc]
    return list(dict.fromkeys(arns))


def _witness(statements: Sequence[Statement], found: Probes, contributing: Sequence[Statement]) -> Witness | None:
    """A published action on a readable ARN that the statements allow, checked by `allows()`. Tried on a
    few actions and on the first contributing statements' ARNs only: the search stays bounded, whatever the
    document's size."""
    names = [a.name for a in found.service.actions]
    preferred = [n for n in names if n.split(":", 1)[1] in _PREFERRED]
    attempts = 0
    for name in dict.fromkeys([*preferred, *names[:20]]):
        published = catalog.action(name)
        assert published is not None
        formats = [found.service.arn_formats[t] for t in published.resource_types if t in found.service.arn_formats]
        for statement in contributing[:5]:
            for arn in [a for f in formats[:2] for a in readable_arns(f, statement)] or [STAR]:
                attempts += 1
                granted = allows(statements, name, arn)
                if granted is not None:
                    return Witness(name, arn, granted)
                if attempts > 60:
                    return None
    return None
