"""The shortcuts that keep a large document linear give the answers of the long way round.

Each is compared with the computation it skips: a union of one pattern with the one-pattern path (a union takes
none of the one-pattern shortcuts, and a pattern twice is the pattern once), the indexed search with a search of
every pattern in order, the per-service masks of `allowing` with `names_action` on each statement, the set of
probe starts with a test of each probe, a service's own patterns with every pattern."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.access import catalog, reach
from policies.access.algebra import _may_match, _rests, action_mask, glob
from policies.access.document import parse
from policies.access.least_privilege import whole_services
from policies.access.reach import (
    _caller_free,
    _indexed,
    _reaching_every,
    _some_account,
    allowing,
    certain_deny,
    creates_assigned,
    escalation_methods,
    names_action,
    type_wide,
)

TYPES = [
    ("account", "account"),  # an ARN format without a name: every probe the same string
    ("dynamodb", "table"),
    ("sns", "topic"),
    ("sagemaker", "training-job"),
    ("s3", "object"),
    ("s3", "bucket"),
    ("ec2", "instance"),  # an ID AWS assigns
    ("lambda", "function"),  # a qualifier after the name
    ("secretsmanager", "Secret"),
    ("kms", "key"),
    ("iam", "role"),
]
PIECES = [
    "*", "?", "a", "b", "x", "-", "/", ":", "job", "training-job/", "bucket", "i-", "key/", "role/", "secret:",
    "function:", "${aws:username}", "${s3:prefix}", "\x01", "\x02" * 23, "aaaaaaaaaaaaaaaaaaaaaaaa", "0", "f",
]  # fmt: skip
FIELDS = st.sampled_from(
    [
        "",
        "*",
        "aws",
        "eu-west-1",
        "123456789012",
        "s3",
        "sagemaker",
        "ec2",
        "?",
        "account",
        "dynamodb",
        "secretsmanager",
    ]
)
PATTERNS = st.builds(
    lambda fields, rest: "arn:" + ":".join(fields) + ":" + "".join(rest),
    st.lists(FIELDS, min_size=1, max_size=4),  # fewer than six fields too: widening then reaches the name
    st.lists(st.sampled_from(PIECES), max_size=8),
) | st.text(alphabet="".join({c for p in PIECES for c in p} | {"*"}), max_size=20)


@settings(max_examples=1500, deadline=None)
@given(PATTERNS, st.sampled_from(TYPES))
def test_one_pattern_reaches_every_resource_as_a_union_of_it_does(pattern: str, kind: tuple[str, str]) -> None:
    key, type_ = kind
    assert _reaching_every((pattern,), key, type_) == _reaching_every((pattern, pattern), key, type_)


ACTIONS = ["sagemaker:DescribeTrainingJob", "s3:GetObject", "ec2:TerminateInstances", "lambda:InvokeFunction",
           "kms:Decrypt", "iam:PassRole", "s3:ListBucket", "secretsmanager:GetSecretValue",
           "account:GetAlternateContact", "dynamodb:GetItem", "sns:Publish", "iam:GetRole"]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(PATTERNS, st.sampled_from(ACTIONS))
def test_type_wide_is_the_first_type_the_pattern_reaches_every_resource_of(pattern: str, action: str) -> None:
    published = catalog.action(action)
    assert published is not None
    key = action.split(":", 1)[0]
    expected = next(
        (
            t
            for t in published.resource_types
            if not creates_assigned(published.name, t) and _reaching_every((pattern, pattern), key, t)
        ),
        None,
    )
    assert type_wide(pattern, action) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(PATTERNS, min_size=1, max_size=12), st.lists(st.sampled_from(PIECES), max_size=6))
def test_the_indexed_search_finds_the_first_pattern_that_matches(patterns: list[str], rest: list[str]) -> None:
    arn = ("arn:aws:s3:::" + "".join(rest)).lower()
    expected = next((p for p in patterns if glob(_some_account(_caller_free(p))).fullmatch(arn)), None)
    assert _indexed(tuple(patterns)).first(arn) == expected


@pytest.mark.parametrize(
    ("pattern", "action", "type_"),
    [
        # Found by review: a pattern without wildcards that widening (any region and account) opens.
        ("arn:aws:dynamodb:eu-west-1:table/orders", "dynamodb:GetItem", "table"),
        ("arn:aws:s3:eu-west-1:data-bucket", "s3:GetObject", "accesspointobject"),
        ("arn:aws:iam::role/admin", "iam:GetRole", "role"),
        ("arn:aws:sns:eu-west-1:topic", "sns:Publish", "topic"),
        # and a format without a name: the one ARN is every resource of its type.
        ("arn:aws:account::123456789012:account", "account:GetAlternateContact", "account"),
        # An ID-shaped secret whose longest literal run is in no probe.
        ("arn:aws:secretsmanager::123456789012:secret:*", "secretsmanager:GetSecretValue", "Secret"),
        ("arn:aws:secretsmanager:::secret:*-??????", "secretsmanager:GetSecretValue", "Secret"),
    ],
)
def test_patterns_the_shortcuts_once_let_through_reach_every_resource(pattern: str, action: str, type_: str) -> None:
    assert type_wide(pattern, action) == type_


def _may_match_by_each_probe(pattern: str, key: str) -> bool:
    """`_may_match` as it was: every probe tried in turn."""
    fields = pattern.lower().split(":", 5)
    if len(fields) < 6:
        return True
    if "*" not in fields[2] and "?" not in fields[2] and fields[2] != key:
        return False
    runs = reach._WILDCARDS.split(fields[5])
    head, tail, middle = runs[0], runs[-1], runs[1:-1]
    return any(
        rest.startswith(head) and rest.endswith(tail) and all(run in rest for run in middle) and
        (len(runs) > 1 or rest == head)
        for rest in _rests(key)
    )  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(PATTERNS, st.sampled_from(["sagemaker", "s3", "ec2", "iam"]))
def test_a_pattern_may_match_a_probe_as_each_probe_tried_says(pattern: str, key: str) -> None:
    assert _may_match(pattern, key) == _may_match_by_each_probe(pattern, key)


def test_allowing_names_what_each_statement_names_on_the_managed_policies() -> None:
    actions = sorted({a for actions in escalation_methods().values() for a in actions} | {"iam:PassRole"})
    documents = list(catalog._managed()["policies"].values())[::6]
    compared = 0
    for entry in documents:
        statements = parse(json.dumps(entry["document"]))
        for action in actions:
            if catalog.action(action) is None:
                continue
            denied = any(certain_deny(s) and names_action(s, action) and "*" in (s.resources or ()) for s in statements)
            expected = [] if denied else [s for s in statements if s.allow and names_action(s, action)]
            assert allowing(statements, action) == expected, (entry, action)
            compared += bool(expected)
    assert compared > 100  # the comparison met documents that grant these actions


def _whole_services_from_every_pattern(patterns: tuple[str, ...]) -> list[str]:
    """`whole_services` as it was: each service read from every pattern."""
    found = []
    for key in sorted({p.split(":", 1)[0].lower() for p in patterns if ":" in p}):
        service = catalog.service(key)
        if service is None or "*" in key or "?" in key:
            continue
        mask = 0
        for pattern in patterns:
            mask |= action_mask(pattern, key)
        if mask == service.everything:
            found.append(key)
    return found


ACTION_PIECES = ["iam:", "IAM:", "s3:", "sts:", "*:", "i?m:", "", "*", "?", "Get", "Pass", "Role", "*Role", "List*",
                 "a", "Create", "?*", "Tag*"]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(st.sampled_from(ACTION_PIECES), max_size=4).map("".join), max_size=8))
def test_whole_services_read_from_each_services_own_patterns(patterns: list[str]) -> None:
    given_patterns = (*patterns, "sts:*")  # one whole service at least, most times
    assert whole_services(given_patterns) == _whole_services_from_every_pattern(given_patterns)
