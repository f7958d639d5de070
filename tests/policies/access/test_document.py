"""`policies/access/document.py`: documents read as IAM reads them, ambiguity refused, any input a verdict."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.access.document import DocumentError, ambiguities, parse
from policies.framework import UNKNOWN


@pytest.mark.parametrize(
    ("document", "found"),
    [
        (
            '{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Action": "*", "Resource": "*"}]}',
            ["'Action' twice"],
        ),
        (
            '{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "action": "*", "Resource": "*"}]}',
            ["'Action' and 'action'"],
        ),
        (
            '{"Statement": [], "statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
            ["'Statement' and 'statement'"],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "ACTION": "*", "Resource": "*"}]},
            ["'Action' and 'ACTION'"],
        ),
        ('{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}', []),
    ],
)
def test_keys_repeated_exactly_or_up_to_case_are_ambiguous(document: Any, found: list[str]) -> None:
    assert ambiguities(document) == found


def test_lower_case_element_names_are_read() -> None:
    [statement] = parse({"statement": [{"effect": "Allow", "action": "sagemaker:*", "resource": "*"}]})
    assert statement.allow and statement.actions == ("sagemaker:*",) and statement.resources == ("*",)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (UNKNOWN, "the document is not known yet (it is computed from resources still being created)"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a policy document is a JSON object, not list"),
        ({"Version": "2012-10-17"}, "it has no Statement"),
        ({"Statement": UNKNOWN}, "its Statement is not known yet"),
        ({"Statement": [42]}, "statement 0 is not a JSON object"),
        (
            {"Statement": [{"Effect": "Allow", "Action": [1], "Resource": "*"}]},
            "statement 0: Action: 1 is not a string",
        ),
        ("[" * 100_000 + "]" * 100_000, "it is nested deeper than a JSON reader follows"),
    ],
    ids=[
        "unknown",
        "not JSON",
        "a list",
        "no Statement",
        "unknown Statement",
        "not an object",
        "not a string",
        "nested 100,000 deep",
    ],
)
def test_unreadable_documents_are_errors_that_say_why(document: Any, message: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse(document)
    assert message in str(caught.value)


def test_a_deep_document_is_read_without_recursion() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = {"k": deep}
    document = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": deep}]}
    [statement] = parse(document)
    assert ambiguities(document) == []
    assert statement.has_condition


def test_unknowns_are_marked_where_they_are() -> None:
    [statement] = parse(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [UNKNOWN, "s3:GetObject"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceArn": UNKNOWN}},
                }
            ]
        }
    )
    assert statement.actions == ("s3:GetObject",)
    assert statement.unknown_in == {"Action", "Condition"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["Statement", "statement", "Effect", "Action", "action", "Resource", "NotResource", "Condition", "x"]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@given(JSON)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_no_json_value_crashes_the_reader(value: Any) -> None:
    for candidate in (value, json.dumps(value)):
        ambiguities(candidate)
        with contextlib.suppress(DocumentError):
            parse(candidate)
