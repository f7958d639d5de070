"""Policy documents read as IAM reads them, and refused where IAM and this pack could read them differently.

Facts applied (AWS IAM JSON policy reference; ../shared/reference/iam-semantics.md):
- `Statement` is one object or a list; `Action`/`NotAction`/`Resource`/`NotResource` a string or a list;
  JSON escapes decode before IAM reads them (the JSON reader does that).
- Element names are read case-insensitively (fail closed against `action` vs `Action` spellings).
- A document is *ambiguous* when one object repeats a key, exactly or up to case (`Action` and `action`):
  JSON readers keep the first or the last, so the pack, the provider and IAM may each read another grant.
  Ambiguity is reported, never resolved.

Any value, however deep or large, gets a verdict: the reader never recurses over the document itself (the
JSON parser's own depth limit becomes a `DocumentError`), and its cost is linear in the document's size.
Values not known yet (a preview's unknowns) are `UNKNOWN`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from ..framework import UNKNOWN
from .properties import BEYOND, TEXT, UNREADABLE, VALUES

ELEMENTS = ("Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal")


class DocumentError(ValueError):
    """The value is not a policy document the pack can read; the message says why."""


@dataclass(frozen=True)
class Statement:
    source: str
    """Where the document came from, e.g. `aws:iam/rolePolicy:RolePolicy "x" policy`."""
    index: int
    sid: str | None
    allow: bool
    actions: tuple[str, ...] | None
    """Known patterns of `Action` (None when the statement has no `Action`)."""
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: Any
    """`Principal` as written (resource and trust policies), or None."""
    not_principal: Any
    condition: Any
    """`Condition` as written, or None."""
    unknown_in: frozenset[str]
    """Elements holding a value not known yet: `Action`, `Resource`, `Condition`..."""

    @property
    def has_condition(self) -> bool:
        return self.condition is not None

    @property
    def condition_keys(self) -> frozenset[str]:
        """Condition keys, lower-cased, across operators (`iam:passedtoservice`)."""
        keys: set[str] = set()
        if isinstance(self.condition, dict):
            for block in self.condition.values():
                if isinstance(block, dict):
                    keys.update(k.lower() for k in block if isinstance(k, str))
        return frozenset(keys)

    @property
    def label(self) -> str:
        return f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")

    @property
    def cites(self) -> str:
        """`<source> statement 2 (Sid)`: enough to find the statement by hand."""
        return f"{self.source} {self.label}"


def field(mapping: dict[str, Any], name: str) -> Any:
    """An element by name, case-insensitively (fail closed against `action` vs `Action` tricks)."""
    wanted = name.lower()
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None


class _Duplicates:
    """object_pairs_hook for json.loads: records keys repeated in one object, exactly or up to case."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, str] = {}
        for key, _ in pairs:
            folded = key.lower()
            if folded in seen and len(self.found) < 5:
                first = seen[folded]
                self.found.append(f"{first!r} twice" if first == key else f"{first!r} and {key!r}")
            seen.setdefault(folded, key)
        return dict(pairs)


@functools.lru_cache(maxsize=16)
def _read_text(text: str) -> tuple[Any, tuple[str, ...], str | None]:
    """JSON text read once: the value, the keys it repeats, or why it cannot be read. Cached, because the
    pack's policies read the same documents (one JSON reader pass per document and process)."""
    hook = _Duplicates()
    try:
        return json.loads(text, object_pairs_hook=hook), tuple(hook.found), None
    except RecursionError:
        return None, (), "it is nested deeper than a JSON reader follows"
    except ValueError as exc:
        return None, (), f"not valid JSON ({str(exc)[:80]})"


def ambiguities(value: Any) -> list[str]:
    """Keys a document repeats in one object (exactly or up to case); empty for a plain value or dict.

    A dict (a document given as a Python value) cannot repeat a key exactly, but can up to case."""
    if isinstance(value, str):
        return list(_read_text(value)[1])  # unreadable text has none: parse() says why
    found: list[str] = []
    stack: list[Any] = [value]
    seen: set[int] = set()  # a value shared many times (YAML aliases) is walked once
    while stack and len(found) < 5:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            folded: dict[str, str] = {}
            for key in item:
                if isinstance(key, str):
                    if key.lower() in folded:
                        found.append(f"{folded[key.lower()]!r} and {key!r}")
                    folded.setdefault(key.lower(), key)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _strings(value: Any, where: str) -> tuple[tuple[str, ...], bool]:
    """Known strings of a string-or-list element, and whether any element was unknown."""
    if value is UNKNOWN:
        return (), True
    items = value if isinstance(value, list) else [value]
    known: list[str] = []
    unknown = False
    for item in items:
        if item is UNKNOWN:
            unknown = True
        elif isinstance(item, str):
            known.append(item)
        else:
            raise DocumentError(f"{where}: {_short(item)} is not a string")
    return tuple(known), unknown


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _contains_unknown(value: Any) -> bool:
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if item is UNKNOWN:
            return True
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def load(value: Any) -> dict[str, Any]:
    """The document as a dict, from JSON text or a dict (pulumi_aws accepts both)."""
    if value is UNKNOWN:
        raise DocumentError("the document is not known yet (it is computed from resources still being created)")
    if value is UNREADABLE:
        raise DocumentError(
            "the property holds text the pack cannot read as JSON or YAML, so its documents cannot be seen"
        )
    if value is BEYOND:
        raise DocumentError(
            f"the property holds more than the pack reads ({VALUES:,} values, YAML aliases expanded, or "
            f"{TEXT:,} characters of text), so the documents in it cannot be seen"
        )
    if isinstance(value, str):
        value, _, error = _read_text(value)
        if error is not None:
            raise DocumentError(error)
    if not isinstance(value, dict):
        raise DocumentError(f"a policy document is a JSON object, not {type(value).__name__}")
    return value


def parse(value: Any, source: str = "document") -> list[Statement]:
    """The statements of a document given as JSON text or as a dict."""
    if isinstance(value, str):
        return list(_parse_text(value, source))
    return _parse(value, source)


@functools.lru_cache(maxsize=16)
def _parse_text(text: str, source: str) -> tuple[Statement, ...]:
    return tuple(_sourced(statement, source) for statement in _statements_of(text))


def _sourced(statement: Statement, source: str) -> Statement:
    """The statement as read from `source` (`dataclasses.replace` without its per-field checks: a document of
    45,000 statements is read for three sources)."""
    copied = object.__new__(Statement)
    copied.__dict__.update(statement.__dict__, source=source)
    return copied


@functools.lru_cache(maxsize=16)
def _statements_of(text: str) -> tuple[Statement, ...]:
    """A document's text read once, whoever asks (a resource policy and the grant model read the same text)."""
    return tuple(_parse(text, ""))


def _parse(value: Any, source: str) -> list[Statement]:
    document = load(value)
    raw = field(document, "Statement")
    if raw is UNKNOWN:
        raise DocumentError("its Statement is not known yet")
    if raw is None:
        raise DocumentError("it has no Statement")
    items = raw if isinstance(raw, list) else [raw]
    return [_statement(item, index, source) for index, item in enumerate(items)]


def _statement(item: Any, index: int, source: str) -> Statement:
    if item is UNKNOWN:
        raise DocumentError(f"statement {index} is not known yet")
    if not isinstance(item, dict):
        raise DocumentError(f"statement {index} is not a JSON object")
    fields: dict[str, Any] = {}
    for key, value in item.items():  # as `field` reads each: the first key of the name, whatever its case
        if isinstance(key, str):
            fields.setdefault(key.lower(), value)
    effect = fields.get("effect")
    # An unknown or odd Effect is read as Allow: fail closed (a Deny only ever takes away).
    allow = not (isinstance(effect, str) and effect.lower() == "deny")
    unknown_in: set[str] = set()
    parsed: dict[str, tuple[str, ...] | None] = {}
    for name in ("Action", "NotAction", "Resource", "NotResource"):
        element = fields.get(name.lower())
        if element is None:
            parsed[name] = None
            continue
        known, element_unknown = _strings(element, f"statement {index}: {name}")
        parsed[name] = known
        if element_unknown:
            unknown_in.add(name)
    principal, not_principal, condition = fields.get("principal"), fields.get("notprincipal"), fields.get("condition")
    for name, element in (("Principal", principal), ("NotPrincipal", not_principal), ("Condition", condition)):
        if _contains_unknown(element):
            unknown_in.add(name)
    sid = fields.get("sid")
    return Statement(
        source=source,
        index=index,
        sid=sid if isinstance(sid, str) else None,
        allow=allow,
        actions=parsed["Action"],
        not_actions=parsed["NotAction"],
        resources=parsed["Resource"],
        not_resources=parsed["NotResource"],
        principal=principal,
        not_principal=not_principal,
        condition=condition,
        unknown_in=frozenset(unknown_in),
    )
