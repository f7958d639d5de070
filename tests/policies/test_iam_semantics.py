"""IAM semantics behind `sagemaker-no-full-access-in-prod`: what is granted, however it is spelt."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.iam_semantics import UNKNOWN, DocumentError, parse_document, sagemaker_full_access


def grant(**statement: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


FULL = "every SageMaker action on every SageMaker resource"

# (variant, document, flagged). The table the README's evasion table is measured from.
VARIANTS: list[tuple[str, Any, bool]] = [
    ("the grant this project started from", grant(Action=["lambda:InvokeFunction", "sagemaker:*"], Resource="*"), True),
    ("statement as an object", {"Statement": {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}}, True),
    ("mixed case", grant(Action="SageMaker:*", Resource="*"), True),
    ("glob in the service prefix", grant(Action="s*maker:*", Resource="*"), True),
    ("? in the service prefix", grant(Action="sage?aker:*", Resource="*"), True),
    ("every action", grant(Action="*", Resource="*"), True),
    ("*:*", grant(Action="*:*", Resource="*"), True),
    (
        "JSON escape in the action",
        '{"Statement": {"Effect": "Allow", "Action": "sagemaker\\u003a*", "Resource": "*"}}',
        True,
    ),
    ("resource arn:*", grant(Action="sagemaker:*", Resource="arn:*"), True),
    ("resource arn:aws:sagemaker:*", grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:*"), True),
    ("resource arn:*:sagemaker:*:*:*", grant(Action="sagemaker:*", Resource="arn:*:sagemaker:*:*:*"), True),
    (
        "one region and account",
        grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:eu-west-1:123456789012:*"),
        True,
    ),
    ("one region, any account", grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:eu-west-1:*:*"), True),
    ("another partition", grant(Action="sagemaker:*", Resource="arn:aws-cn:sagemaker:*"), True),
    ("NotAction on another service", grant(NotAction="iam:*", Resource="*"), True),
    ("NotResource on another service", grant(Action="sagemaker:*", NotResource="arn:aws:s3:::bucket/*"), True),
    (
        "with a Condition",
        grant(Action="sagemaker:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "true"}}),
        True,
    ),
    (
        "with a decoy Deny",
        {
            "Statement": [
                {"Effect": "Deny", "Action": "sagemaker:DeleteModel", "Resource": "arn:aws:sagemaker:*:*:model/x"},
                {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
            ]
        },
        True,
    ),
    (
        "split over two statements (as AmazonSageMakerFullAccess)",
        {
            "Statement": [
                {"Effect": "Allow", "Action": "sagemaker:*", "NotResource": ["arn:aws:sagemaker:*:*:domain/*"]},
                {
                    "Effect": "Allow",
                    "Action": "sagemaker:*",
                    "Resource": "arn:aws:sagemaker:*:*:domain/*",
                    "Condition": {"Null": {"sagemaker:ResourceTag/owner": "false"}},
                },
            ]
        },
        True,
    ),
    ("lower-case element names", {"statement": [{"effect": "Allow", "action": "sagemaker:*", "resource": "*"}]}, True),
    (
        "scoped to the pipeline",
        grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:eu-west-1:1:training-job/churn-*"),
        False,
    ),
    ("some actions only", grant(Action="sagemaker:Create*", Resource="*"), False),
    ("NotAction excluding a SageMaker action", grant(NotAction="sagemaker:DeleteDomain", Resource="*"), False),
    (
        "NotResource excluding SageMaker resources",
        grant(Action="sagemaker:*", NotResource="arn:aws:sagemaker:*"),
        False,
    ),
    ("Deny only", {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}, False),
    ("another service", grant(Action="s3:*", Resource="*"), False),
]


@pytest.mark.parametrize(("document", "flagged"), [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_variants(document: Any, flagged: bool) -> None:
    found = sagemaker_full_access(parse_document(document))
    assert (found is not None) is flagged
    if found is not None:
        assert FULL in found.describe()


def test_enumerating_todays_actions_is_not_every_action() -> None:
    from policies.iam_semantics import sagemaker_actions

    known = [a for a in sagemaker_actions() if "\x01" not in a]
    assert len(known) > 300
    # Every action known today, but not one AWS adds tomorrow: not "every SageMaker action".
    assert sagemaker_full_access(parse_document(grant(Action=known, Resource="*"))) is None
    # ...while the same list with a wildcard for the rest is.
    assert sagemaker_full_access(parse_document(grant(Action=[*known, "sagemaker:*"], Resource="*"))) is not None


def test_the_finding_names_the_statements_and_scope() -> None:
    document = {
        "Statement": [
            {"Sid": "Ok", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {
                "Sid": "Wide",
                "Effect": "Allow",
                "Action": "sagemaker:*",
                "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:*",
            },
        ]
    }
    found = sagemaker_full_access(parse_document(document))
    assert found is not None
    assert found.describe() == (
        "statement 1 (Wide) grants every SageMaker action on every SageMaker resource (aws/eu-west-1/123456789012)"
    )


def test_a_known_star_beside_unknown_resources_is_still_a_full_grant() -> None:
    [statement] = parse_document(grant(Action="sagemaker:*", Resource=[UNKNOWN, "*"]))
    assert statement.has_unknowns
    assert sagemaker_full_access([statement]) is not None


def test_an_unknown_not_resource_excludes_nothing() -> None:
    assert sagemaker_full_access(parse_document(grant(Action="sagemaker:*", NotResource=[UNKNOWN]))) is not None


def test_unknown_resources_alone_are_reported_as_unknown_not_judged() -> None:
    [statement] = parse_document(grant(Action="sagemaker:*", Resource=UNKNOWN))
    assert statement.has_unknowns
    assert sagemaker_full_access([statement]) is None


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
    ],
)
def test_unreadable_documents_are_errors_that_say_why(document: Any, message: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_document(document)
    assert message in str(caught.value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["Statement", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "x"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@given(JSON)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_no_json_value_crashes_the_judgement(value: Any) -> None:
    for candidate in (value, json.dumps(value)):
        try:
            statements = parse_document(candidate)
        except DocumentError:
            continue
        sagemaker_full_access(statements)


ACTIONS = ["sagemaker:*", "*", "*:*", "s*:*", "sage?aker:*", "sagemaker*", "sa*"]
RESOURCES = ["*", "arn:*", "arn:aws:sagemaker:*", "arn:*:sagemaker:*:*:*", "arn:aws:sagemaker:*:*:*"]
DECOYS = [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
    {"Effect": "Deny", "Action": "sagemaker:*", "Resource": "arn:aws:sagemaker:*:*:model/secret"},
    {"Effect": "Allow", "Action": "logs:CreateLogDelivery", "Resource": "*"},
]


def _recase(text: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


@given(
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(RESOURCES),
    seed=st.integers(0, 2**32),
    as_list=st.booleans(),
    as_text=st.booleans(),
    escape=st.booleans(),
    condition=st.booleans(),
    decoys=st.lists(st.sampled_from(DECOYS), max_size=3),
)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_a_full_grant_is_flagged_however_it_is_written(
    action: str,
    resource: str,
    seed: int,
    as_list: bool,
    as_text: bool,
    escape: bool,
    condition: bool,
    decoys: list[dict[str, Any]],
) -> None:
    rng = random.Random(seed)
    actions: Any = [_recase(action, rng), "s3:GetObject"] if as_list else _recase(action, rng)
    resources: Any = ["arn:aws:s3:::b", resource] if as_list else resource
    if as_list:
        rng.shuffle(actions)
        rng.shuffle(resources)
    statement: dict[str, Any] = {
        "Effect": rng.choice(["Allow", "allow", "ALLOW"]),
        "Action": actions,
        "Resource": resources,
    }
    if condition:
        statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    statements = [*decoys, statement]
    rng.shuffle(statements)
    document: Any = {
        "Version": "2012-10-17",
        "Statement": statements if len(statements) > 1 or rng.random() < 0.5 else statement,
    }
    if as_text:
        document = json.dumps(document)
        if escape:
            document = document.replace(":", "\\u003a").replace('"\\u003a', '":').replace('\\u003a "', ': "')
    found = sagemaker_full_access(parse_document(document))
    assert found is not None
