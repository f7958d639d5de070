"""Questions the escalation, PassRole, reach, resource-policy and trust rules ask of statements: which
statements allow an action, where their resources reach, who a policy lets in, and what condition guards it.

Facts applied: the IAM JSON policy elements reference (Principal, Condition operators, `...IfExists`), the
global condition keys (`aws:SourceAccount`, `aws:SourceArn`, `aws:PrincipalOrgID`, `aws:PrincipalAccount`)
and the IAM condition keys (`iam:PassedToService`, `iam:PermissionsBoundary`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import catalog
from .algebra import (
    LONG,
    QUALIFIER,
    SHORT,
    VARIABLE,
    Glob,
    action_mask,
    by_prefix,
    certain_deny,
    glob,
    matches,
    probes,
    readable_context,
)
from .catalog import Service
from .document import Statement

_DATA = Path(__file__).resolve().parent.parent / "data"
_ACCOUNT = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12}):")
_ARN_ACCOUNT_FIELD = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:([^:]*):")
POSITIVE = ("stringequals", "stringequalsignorecase", "arnequals", "arnlike", "stringlike")
"""Operators that restrict to the values listed (not their negations, and not `...IfExists`, which passes
when the key is absent)."""
GUARD_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:principalorgid", "aws:principalaccount")
SNS_TOPIC_CONTEXT = "kms:encryptioncontext:aws:sns:topicarn"
"""The encryption context SNS puts on every KMS call for an encrypted topic: the topic's ARN. SNS sets it, not
the caller, so a KMS key policy that requires it of a service principal keeps the key to topics of the accounts
it names (the way to guard EventBridge's deliveries, which carry no aws:SourceAccount or aws:SourceArn to KMS)."""


@functools.cache
def escalation_methods() -> dict[str, tuple[str, ...]]:
    """Privilege-escalation methods (name -> the actions it needs), from `data/privilege_escalation.json`:
    Cloudsplaining's list (Rhino Security Labs, pathfinding.cloud), the permissions-boundary actions, the
    compute methods this project adds (see `compute_source` there), and pathfinding.cloud's paths through an
    existing job, service, runtime or deployment group that no other list covers (`pathfinding_source`)."""
    data = json.loads((_DATA / "privilege_escalation.json").read_text(encoding="utf-8"))
    methods = {**data["methods"], **data["boundary_methods"], **data["compute_methods"], **data["pathfinding_methods"]}
    return {name: tuple(actions) for name, actions in methods.items()}


def names_action(statement: Statement, action: str) -> bool:
    """Whether the statement's Action/NotAction names a published action."""
    key = action.split(":", 1)[0].lower()
    service = catalog.service(key)
    if service is None:
        return False
    bit = 1 << service.index[action.lower()]
    if statement.actions is not None:
        return any(action_mask(p, key) & bit for p in statement.actions)
    if statement.not_actions is not None:
        if "NotAction" in statement.unknown_in:
            return True
        return not any(action_mask(p, key) & bit for p in statement.not_actions)
    return False


def allowing(statements: Sequence[Statement], action: str) -> list[Statement]:
    """The Allow statements that name the action, unless a certain Deny takes it away on every resource (as
    `names_action` decides, from each statement's actions of the service, read once per list and service)."""
    key = action.split(":", 1)[0].lower()
    service = catalog.service(key)
    if service is None:
        return []
    bit = 1 << service.index[action.lower()]
    naming = [(s, mask) for s, mask in _naming(statements, service) if mask & bit]
    if any(certain_deny(s) and "*" in (s.resources or ()) for s, _ in naming):
        return []
    return [s for s, _ in naming if s.allow]


_Grouped = tuple[Statement, dict[str, list[str]], list[str]]
_NAMING: list[tuple[tuple[Statement, ...], list[_Grouped], dict[str, list[tuple[Statement, int]]]]] = []


def _naming(statements: Sequence[Statement], service: Service) -> list[tuple[Statement, int]]:
    """The statements that name some action of the service, each with the actions it names (as `statement_actions`,
    from the statement's patterns of that service and those of an open prefix, `by_prefix`); kept for the last
    statements asked about (a policy asks about one principal's statements for many actions)."""
    given = tuple(statements)
    entry = _NAMING[0] if _NAMING else None  # read once: another thread may replace it (the pack serves on four)
    if entry is None or entry[0] != given:  # the same statements, item by item (identical ones compare at once)
        grouped = [(s, *by_prefix(s.actions if s.actions is not None else s.not_actions or ())) for s in given]
        entry = (given, grouped, {})
        _NAMING[:] = [entry]
    _, grouped, by_service = entry
    if service.key not in by_service:
        masks = ((s, _statement_mask(s, named, open_prefix, service)) for s, named, open_prefix in grouped)
        by_service[service.key] = [(s, mask) for s, mask in masks if mask]
    return by_service[service.key]


def _statement_mask(statement: Statement, named: dict[str, list[str]], open_prefix: list[str], service: Service) -> int:
    """`statement_actions`, from the patterns that can name the service's actions."""
    if statement.actions is None and statement.not_actions is None:
        return 0
    if statement.actions is None and "NotAction" in statement.unknown_in:
        return service.everything  # an unknown exclusion excludes nothing for certain
    mask = 0
    for pattern in (*named.get(service.key, ()), *open_prefix):
        mask |= action_mask(pattern, service.key)
    return mask if statement.actions is not None else service.everything & ~mask


def condition_values(statement: Statement, key: str, operators: Iterable[str] = POSITIVE) -> list[str] | None:
    """The values a positive operator restricts `key` to (None when no such operator names it)."""
    if not isinstance(statement.condition, dict):
        return None
    found: list[str] | None = None
    wanted = {o.lower() for o in operators}
    for operator, block in statement.condition.items():
        if not isinstance(operator, str) or not isinstance(block, dict):
            continue
        # Only a bare operator restricts: `ForAllValues:` is true when the key is absent, and the keys read
        # here are single-valued, which the set operators are not for.
        if operator.lower() not in wanted:
            continue
        for name, values in block.items():
            if isinstance(name, str) and name.lower() == key:
                listed = values if isinstance(values, list) else [values]
                found = (found or []) + [str(v) for v in listed]
    return found


def literal(values: Iterable[str]) -> bool:
    """Values that name something: none is only wildcards, none starts with one."""
    return all(v.strip("*?") and not v.startswith(("*", "?")) for v in values)


def tag_scoped(condition: object) -> bool:
    """A condition that narrows a grant to resources carrying a tag (ABAC): a bare StringEquals or StringLike on
    `aws:ResourceTag/...` (or a service's `...:ResourceTag/...`) with values that name something.
    `ForAllValues:`/`ForAnyValue:` and `...IfExists` hold where the resource has no such tag."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if isinstance(operator, str) and operator.lower() in ("stringequals", "stringlike"):
            for key, values in (block if isinstance(block, dict) else {}).items():
                listed = values if isinstance(values, list) else [values]
                if isinstance(key, str) and "resourcetag/" in key.lower() and _narrows([str(v) for v in listed]):
                    return True
    return False


def _narrows(values: list[str]) -> bool:
    """Tag values that leave some value out: named (see `literal`), no variable but an identity's (the
    resource's own tag, `${aws:UserAgent}`: always true or the caller's choice), and not together every value
    (`a*` ... `9*`)."""
    if not literal(values):
        return False
    free = [_caller_free(v) for v in values]
    if any("*" in f and f != v for f, v in zip(free, values, strict=True)):
        return False
    globs = list(zip(free, [glob(f) for f in free], strict=True))
    return covers_every(lambda name: next((f for f, g in globs if g.fullmatch(name)), None)) is None


def exact(values: Iterable[str]) -> bool:
    """Values without any wildcard."""
    return all(v and "*" not in v and "?" not in v for v in values)


Kind = tuple[str, str, str]
"""(service, resource type, name) of a resource, lower-cased: ("iam", "role", "app"), ("lambda", "function", "f"),
("sns", "", "topic") for ARNs whose resource part is the bare name (SNS, SQS, S3 buckets)."""

_TYPE_KINDS = {
    ("cloudwatch", "loggroup"): ("logs", "log-group"),
    ("cloudwatch", "eventrule"): ("events", "rule"),
    ("cloudwatch", "metricalarm"): ("cloudwatch", "alarm"),
    ("logs", "loggroup"): ("logs", "log-group"),
    ("sfn", "statemachine"): ("states", "statemachine"),
    ("stepfunctions", "statemachine"): ("states", "statemachine"),
    ("iam", "instanceprofile"): ("iam", "instance-profile"),
    ("sns", "topic"): ("sns", ""),
    ("sqs", "queue"): ("sqs", ""),
    ("s3", "bucket"): ("s3", ""),
    ("s3", "bucketv2"): ("s3", ""),
}
"""Where a Pulumi type's module and name are not the ARN's service and resource type."""


def kind_of_type(token: str) -> tuple[str, str] | None:
    """(service, ARN resource type) a Pulumi type's resources are named by: `aws:lambda/function:Function` ->
    ("lambda", "function"), `aws-native:iam:Role` -> ("iam", "role"). Types with no ARN of their own (a role's
    inline policy) get a resource type no ARN has, so nothing they name is ever taken for the stack's own."""
    match = re.fullmatch(r"aws(?:-native)?:([^:/]+)(?:/[^:]*)?:(\w+)", token)
    if match is None:
        return None
    module, name = match.group(1).lower().rstrip("_"), match.group(2)
    found = _TYPE_KINDS.get((module, name.lower()))
    if found is not None:
        return found
    return module, re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def kind_of_arn(arn: str) -> Kind | None:
    """(service, resource type, name) an ARN names, or None for a pattern or anything but an ARN. The name is
    what follows the type (`schedule/<group>/<name>` -> `<group>/<name>`), but the last path segment for IAM
    (paths) and the function's name for Lambda (`function:name:qualifier`)."""
    match = re.fullmatch(r"arn:[^:]*:([^:]*):[^:]*:[^:]*:(.+)", arn, re.DOTALL)
    if match is None or "*" in arn or "?" in arn:
        return None
    service, rest = match.group(1).lower(), match.group(2)
    parts = re.split(r"[:/]", rest)
    if len(parts) == 1:
        return service, "", rest.lower()
    if service == "iam":  # a path does not make another role: names are unique in an account
        name = parts[-1]
    elif service == "lambda":  # `function:name:qualifier`: a version or alias of the same function
        name = parts[1]
    else:  # the rest is the name: a schedule's group (`schedule/<group>/<name>`), a log group's path
        name = rest[len(parts[0]) + 1 :]
    return service, parts[0].lower(), name.lower()


def kind_of_entry(entry: str) -> Kind | None:
    """A pack-config entry naming a resource by service and ARN resource part: `lambda:function:evaluate`,
    `iam:role/app`, `sns:alerts`."""
    service, _, rest = entry.partition(":")
    return kind_of_arn(f"arn:aws:{service}:::{rest}") if rest else None


@dataclass(frozen=True)
class Own:
    """What the stack itself defines: each resource's (service, type, name), and the ARNs known at preview."""

    kinds: frozenset[Kind]
    arns: frozenset[str]
    accounts: frozenset[str] = frozenset()
    """The accounts the stack deploys to, when the pack config names them: an ARN of another is never own."""

    def holds(self, arn: str) -> bool:
        """A literal ARN of a resource the stack defines, of the same service and type (no wildcard can stay
        inside the stack; a role's inline policy named `deploy` does not make `user/deploy` the stack's)."""
        if arn.lower() in self.arns:
            return True
        account = _ARN_ACCOUNT_FIELD.match(arn)
        if self.accounts and account is not None and account.group(1) and account.group(1) not in self.accounts:
            return False
        kind = kind_of_arn(arn)
        return kind is not None and kind in self.kinds

    def with_config(self, entries: Iterable[str], accounts: Iterable[str]) -> Own:
        """Also resources another stack of the project deploys, named in the pack config; and the accounts."""
        kinds = {k for e in entries if (k := kind_of_entry(e)) is not None}
        return Own(self.kinds | kinds, self.arns, self.accounts | frozenset(accounts))


def outside(statement: Statement, own: Own) -> list[str]:
    """The resource patterns of a statement that can reach a resource the stack does not define."""
    if statement.not_resources is not None:
        return [f"NotResource {list(statement.not_resources)}"]
    reached = [r for r in statement.resources or () if not own.holds(r)]
    if "Resource" in statement.unknown_in:
        reached.append("a resource not known at preview")
    return reached


def concrete(pattern: str, action: str, type_: str | None = None) -> str:
    """A concrete ARN the pattern matches, as a reader would type it: wildcards filled in, a bare `*` or a
    service-wide pattern made from the ARN format of the type (by default the action's first)."""
    published = catalog.action(action)
    service = catalog.service(action.split(":", 1)[0]) if published else None
    if published and service and published.resource_types and (pattern == "*" or pattern.endswith(":*")):
        arn_format = service.arn_formats.get(type_ or published.resource_types[0], "")
        filled = re.sub(
            r"\$\{([^}]*)\}",
            lambda m: readable_context().get(m.group(1), "example"),
            arn_format,
        )
        if filled and matches(pattern, filled):
            return filled
    filled = pattern.replace("*", "example").replace("?", "x")
    return filled if matches(pattern, filled) else pattern


def _some_account(pattern: str) -> str:
    """Partition, region and account fields as `*` where the pattern names one (a grant in one account counts as
    a grant in any); an empty field stays empty, as it matches only ARNs without one (`arn:aws:s3:::a*` is
    buckets, never an access point's `arn:aws:s3:<region>:<account>:accesspoint/...`)."""
    fields = pattern.split(":", 5)
    for i in (1, 3, 4):
        if i < len(fields) and i < 5 and fields[i]:
            fields[i] = "*"
    return ":".join(fields)


_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_IDENTITYVARIABLES = re.compile(
    r"^(aws:username|aws:userid|aws:principalaccount|aws:principalorgid|aws:principaltag/.+|[*?$])$", re.IGNORECASE
)
"""Policy variables an identity carries (the user's name, its account, its tags) or that escape a character:
every other (`${aws:UserAgent}`, `${aws:RequestTag/x}`, `${s3:prefix}`) is a value the caller picks, so it
reaches as far as `*`."""
_QUALIFIED = {("lambda", "function")}
"""Types IAM also authorises with a qualifier after the name (`function:name:qualifier`: a version or alias)."""
_ID_RESIDUE = re.compile(r"[a-z0-9]{0,10}-?|-+")
"""What a wildcard pattern keeps of an ID AWS assigns (`snap-0123...`, a key's UUID) when it names none: its
type's prefix (`snap-`, `i-`, `mrk-`) or a separator (`*-*`)."""


def _caller_free(pattern: str) -> str:
    """The pattern with every variable the caller picks as `*` (and escapes as the character they stand for)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("*", "?", "$"):
            return "x"
        return match.group(0) if _IDENTITYVARIABLES.match(name) else "*"

    return VARIABLE.sub(value, pattern)


def covers_every(matched: Callable[[str], str | None]) -> str | None:
    """What matches every name, by `matched(name)` (the pattern that matches a name, or None), or None.

    Every name: names of one character and of many; or, of many, those starting, ending or made with each letter
    and digit (`a*` ... `9*`, `*a` ... `*9`, `*a*` ... `*9*`: matching without case, every usual name)."""
    short, long = matched(SHORT), matched(LONG)
    if short is not None and long is not None:
        return long
    for family in (
        [c + LONG for c in _CHARACTERS],
        [LONG + c for c in _CHARACTERS],
        [c * 24 for c in _CHARACTERS],
    ):
        first = matched(family[0])
        if first is not None and all(matched(name) is not None for name in family[1:]):
            return first
    return None


def reaching_every(patterns: Sequence[str], key: str, type_: str) -> str | None:
    """A pattern of a union that together reaches every resource of the type (in some account), or None: see
    `_reaching_every`."""
    return _reaching_every(tuple(patterns), key.lower(), type_)


def type_wide(pattern: str, action: str) -> str | None:
    """The first of the action's resource types of which the one pattern reaches every resource, or None:
    `arn:aws:lambda:*:*:function:*` is every function for `lambda:InvokeFunction`."""
    published = catalog.action(action)
    if published is None:
        return None
    key = action.split(":", 1)[0]
    types = tuple(t for t in published.resource_types if not creates_assigned(published.name, t))
    if not types or not _may_probe(pattern, key.lower(), types):
        return None
    return next((t for t in types if reaching_every((pattern,), key, t)), None)


def _may_probe(pattern: str, key: str, types: tuple[str, ...]) -> bool:
    """False only where `_reaching_every((pattern,), key, t)` is None for every type, decided without probing: none
    of the types' last name part is an ID (so neither `_covers_ids` nor `_id_shaped` applies), and the longest
    literal run of the pattern as it is matched (`_needle`) is in none of the fixed probes `covers_every` tries
    (`_probe_text`), which every match needs. A pattern naming one ARN, or resources by their names, is decided
    here: a role holding 90,000 of them asks thousands of times a second."""
    any_type, assigned, text = _probes_of(key, types)
    if not any_type or assigned:
        return any_type
    needle = _needle(pattern)
    return _PROBE_SEPARATOR in needle or needle in text


@functools.lru_cache(maxsize=4096)
def _probes_of(key: str, types: tuple[str, ...]) -> tuple[bool, bool, str]:
    """Whether the service publishes any of the types, whether one's last name part is an ID (AWS's, or a secret's
    with the suffix AWS adds), and every probe `covers_every` may try on them (`_probe_text`), joined."""
    found = probes(key)
    known = [t for t in types if found is not None and t in found.types]
    if found is None or not known:
        return False, False, ""
    formats = {t: found.service.arn_formats[t] for t in known}
    # Where the last name part is an ID (`_id_shaped` reads such a type, secrets too), the long way decides.
    assigned = any((names := _name_variables(f)) and names[-1].endswith("Id") for f in formats.values())
    texts = (_probe_text(f, ("", f":{QUALIFIER}") if (key, t) in _QUALIFIED else ("",)) for t, f in formats.items())
    return True, assigned, _PROBE_SEPARATOR.join(texts)


@functools.lru_cache(maxsize=65536)
def _wild(pattern: str) -> str:
    """The pattern as it is matched on probes: every variable the caller picks as `*`, its partition, region and
    account fields any (`_caller_free`, `_some_account`), lower-cased as `glob` lower-cases."""
    return _some_account(_caller_free(pattern)).lower()


def _needle(pattern: str) -> str:
    """The longest literal run of `_wild(pattern)`: every match holds it."""
    return max(_WILDCARDS.split(_wild(pattern)), key=len)


@functools.lru_cache(maxsize=65536)
def _reaching_every(patterns: tuple[str, ...], key: str, type_: str) -> str | None:
    """A pattern of a union that together reaches every resource of the type (in some account), or None.

    Together: every name is matched by some pattern, so pieces do not escape: `role/?` with `role/??*`, or
    `a*` ... `9*` (see `covers_every`), checked on the type's ARN format; with a qualifier too where IAM takes
    one (`function:*:*`). A variable the caller picks counts as `*`. And alone: a pattern that keeps of an ID
    AWS assigns only its prefix (`snapshot/snap-*`, `instance/i-*`, `key/*-*`) or of a secret's name only the
    random suffix AWS adds (`secret:*-??????`)."""
    found = probes(key)
    if found is None or type_ not in found.types:
        return None
    if len(patterns) == 1 and not _may_probe(patterns[0], key, (type_,)):
        return None  # one pattern matching none of the probes tried below (`_may_probe`)
    arn_format = found.service.arn_formats[type_]
    suffixes = ("", f":{QUALIFIER}") if (key, type_) in _QUALIFIED else ("",)
    indexed = _indexed(patterns)
    for suffix in suffixes:

        def matched(name: str, suffix: str = suffix) -> str | None:
            return indexed.first(_probe(arn_format, name) + suffix)

        witness = covers_every(matched)
        if witness is None and _assigned_id(key, arn_format):
            witness = _covers_ids(matched, patterns)
        if witness is not None:
            return witness
    return next((p for p in patterns if _id_shaped(_caller_free(p), key, arn_format)), None)


class _Indexed:
    """Patterns, each with every variable the caller picks as `*` and its account fields as any (`_caller_free`,
    `_some_account`), each compiled once, and tried on an ARN only where its longest literal run (between `*` and
    `?`) occurs in the ARN, which every match needs: a role holding 90,000 patterns probes each type's ARNs
    thousands of times, and a probe's synthetic names hold none of a real pattern's literal names."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = patterns
        self.wild = [_wild(p) for p in patterns]
        self.needles = [_needle(p) for p in patterns]
        self.globs: dict[int, Glob] = {}

    def first(self, arn: str) -> str | None:
        """The first pattern, in the given order, that matches the ARN (as `glob(...).fullmatch`), or None."""
        for index in [i for i, needle in enumerate(self.needles) if needle in arn]:
            compiled = self.globs.get(index)
            if compiled is None:
                compiled = self.globs[index] = Glob(self.wild[index])
            if compiled.fullmatch(arn):
                return self.patterns[index]
        return None


_WILDCARDS = re.compile(r"[*?]")
_PROBE_SEPARATOR = "\x00"


@functools.lru_cache(maxsize=4096)
def _probe_text(arn_format: str, suffixes: tuple[str, ...]) -> str:
    """Every probe `covers_every` may try on the format, joined by a character no run of a pattern that is not in
    the text can span: the names of one and of many characters, and the three families."""
    names = [SHORT, LONG] + [n for c in _CHARACTERS for n in (c + LONG, LONG + c, c * 24)]
    return _PROBE_SEPARATOR.join(_probe(arn_format, name) + suffix for name in names for suffix in suffixes)


@functools.lru_cache(maxsize=8)
def _indexed(patterns: tuple[str, ...]) -> _Indexed:
    return _Indexed(patterns)


_HEX = "0123456789abcdef"
_ID_DIGITS = 3
"""How many hexadecimal digits deep a union is followed: 16^3 = 4,096 ARN prefixes take more than the
133,120 characters of every policy a role may hold (IAM's quotas: 20 managed policies at most, 6,144 characters
each, and 10,240 of inline ones together), so no grant covers every ID deeper than that; it also keeps a
3,000-digit prefix from recursing that deep."""


def _assigned_id(key: str, arn_format: str) -> bool:
    """A type whose last name part is an ID AWS assigns (`${InstanceId}`, `${SnapshotId}`, `${KeyId}`)."""
    names = _name_variables(arn_format)
    return key != "secretsmanager" and bool(names) and names[-1].endswith("Id")


def _covers_ids(matched: Callable[[str], str | None], patterns: Sequence[str]) -> str | None:
    """What matches every hexadecimal ID after a prefix every ID of the type holds (`i-0*` ... `i-f*`, or
    `key/00*` ... `key/ff*`), or None: EC2's IDs and KMS's key IDs are hexadecimal, so such a union names every
    resource of the type though no letter-and-digit family covers it (fail closed for IDs of other alphabets)."""
    heads = {re.split(r"[*?]", re.split(r"[:/]", _caller_free(p).lower())[-1], maxsplit=1)[0] for p in patterns}
    starts = {h[:k] for h in heads for k in range(len(h)) if _ID_RESIDUE.fullmatch(h[:k])}

    def covered(prefix: str, depth: int) -> str | None:
        whole = matched(prefix + LONG)
        if whole is not None or depth == _ID_DIGITS:
            return whole
        if not any(h.startswith(prefix) and len(h) > len(prefix) for h in heads):
            return None
        first = None
        for digit in _HEX:
            found = covered(prefix + digit, depth + 1)
            if found is None:
                return None
            first = first or found
        return first

    return next((w for w in (covered(start, 0) for start in sorted(starts)) if w is not None), None)


@functools.lru_cache(maxsize=4096)
def _name_variables(arn_format: str) -> tuple[str, ...]:
    return tuple(n for n in VARIABLE.findall(arn_format) if n not in ("Partition", "Region", "Account"))


@functools.lru_cache(maxsize=65536)
def creates_assigned(action: str, type_: str) -> bool:
    """Whether the action creates a resource of the type whose ID AWS assigns (`ec2:CreateNetworkInterface` on
    `network-interface/${NetworkInterfaceId}`, `ec2:RunInstances` on `instance/${InstanceId}`): the new ID
    cannot be named beforehand, so `<type>/*` is as narrow as the grant can be for that type."""
    key, _, name = action.partition(":")
    service = catalog.service(key)
    arn_format = service.arn_formats.get(type_, "") if service else ""
    names = _name_variables(arn_format)
    if key.lower() == "secretsmanager" or not names or not names[-1].endswith("Id"):
        return False
    noun = "".join(part.capitalize() for part in re.split(r"[-_ ]", type_))
    return re.fullmatch(rf"(Create|Run|Allocate){noun}s?", name, re.IGNORECASE) is not None


@functools.lru_cache(maxsize=65536)
def _probe(arn_format: str, name: str) -> str:
    """An ARN of the format with every name part `name`, in a region and account no pattern spells."""
    return VARIABLE.sub(
        lambda m: {"Partition": "aws", "Region": SHORT, "Account": SHORT}.get(m.group(1), name), arn_format
    ).lower()


ARN_MAX = 2048
"""The longest ARN: botocore's IAM service model, shape `arnType` (`max`)."""
_STARS = re.compile(r"\*+")


def _id_shaped(pattern: str, key: str, arn_format: str) -> bool:
    """A pattern whose name parts are wildcards but for what every ID AWS assigns to the type holds (see
    `_ID_RESIDUE`), where the type's last name part is such an ID (`${SnapshotId}`, `${KeyId}`, `${SecretId}`)."""
    names = _name_variables(arn_format)
    if not names or not names[-1].endswith("Id"):
        return False
    # The regular expression below backtracks (polynomially) on a pattern a user wrote: bound its length first.
    # `**` is `*`; every other character stands for one of the ARN, and an ARN is at most 2,048 characters
    # (botocore's IAM model, shape arnType), so a longer pattern matches no resource at all.
    pattern = _STARS.sub("*", pattern)
    if len(pattern) - pattern.count("*") > ARN_MAX:
        return False
    parts = re.split(r"(\$\{[^}]*\})", arn_format)
    regex = "".join(
        ("(.*)" if part[2:-1] in names else ".*") if part.startswith("${") else re.escape(part) for part in parts
    )
    match = re.fullmatch(regex, pattern, re.IGNORECASE | re.DOTALL)
    if match is None:
        return False
    *others, last = match.groups()
    if any(set(o) - {"*", "?"} or "*" not in o for o in others) or "*" not in last:
        return False
    residue = re.sub(r"[*?]", "", last).lower()
    if key == "secretsmanager":  # a secret's name is its owner's; only the `-` and 6 characters after are AWS's
        return set(residue) <= {"-"}
    return _ID_RESIDUE.fullmatch(residue) is not None


_KINDS = {"aws": "AWS", "service": "Service", "federated": "Federated", "canonicaluser": "CanonicalUser"}


def principals_of(value: Any) -> list[tuple[str, str]]:
    """(kind, value) pairs a Principal element names: ("*", "*") for everyone. Kinds are read
    case-insensitively (`aws` is `AWS`): fail closed against spellings IAM or a provider may accept."""
    if value == "*":
        return [("*", "*")]
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for kind, entries in value.items():
            name = _KINDS.get(str(kind).lower(), str(kind))
            for entry in entries if isinstance(entries, list) else [entries]:
                found.append((name, str(entry)))
    elif isinstance(value, str):
        found.append(("AWS", value))
    elif isinstance(value, list):  # not a shape AWS documents: read each entry, fail closed
        for entry in value:
            found += principals_of(entry)
    return found


def account_of(value: str) -> str | None:
    """The account an AWS principal names: `123456789012`, `arn:aws:iam::123456789012:root`, a role ARN."""
    if _ACCOUNT.match(value):
        return value
    match = _ARN_ACCOUNT.match(value)
    return match.group(1) if match else None


def guarded(
    statement: Statement,
    allowed_accounts: Iterable[str],
    allowed_organizations: Iterable[str] = (),
    keys: Sequence[str] = GUARD_KEYS,
) -> bool:
    """A condition that keeps the grant to known callers, under a bare positive operator: aws:SourceAccount
    or aws:PrincipalAccount naming allowed accounts exactly, aws:SourceArn whose account is an allowed one,
    aws:PrincipalOrgID naming an allowed organisation exactly."""
    accounts, organizations = set(allowed_accounts), set(allowed_organizations)
    for key in keys:
        values = condition_values(statement, key)
        if not values:
            continue
        if key in ("aws:sourceaccount", "aws:principalaccount") and exact(values) and set(values) <= accounts:
            return True
        if key in ("aws:sourcearn", SNS_TOPIC_CONTEXT) and all((account_of(v) or "") in accounts for v in values):
            return True
        if key == "aws:principalorgid" and exact(values) and set(values) <= organizations:
            return True
    return False
