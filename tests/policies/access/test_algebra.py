"""`policies/access/algebra.py`: whole-service access decided over every published action, with witnesses
checked against an independent evaluator (`evaluator.py`)."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.access import catalog
from policies.access.algebra import allows, full_access
from policies.access.document import parse
from tests.policies.access import evaluator
from tests.policies.access.variants import VARIANTS, grant

SAGEMAKER = catalog.service("sagemaker")
assert SAGEMAKER is not None


def decide(*documents: Any) -> Any:
    statements = [s for i, d in enumerate(documents) for s in parse(d, f"document {i}")]
    return full_access(statements, "sagemaker")


@pytest.mark.parametrize(("document", "full"), [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_variants(document: Any, full: bool) -> None:
    found = decide(document)
    assert (found is not None) is full
    if found is not None:
        # The witness is a published action on a concrete ARN that the document really allows.
        assert catalog.action(found.witness.action) is not None
        assert "*" not in found.witness.resource or found.witness.resource == "*"
        assert evaluator.allowed([document], found.witness.action, found.witness.resource)


def test_the_finding_names_the_witness_the_data_and_the_statements() -> None:
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
    found = decide(document)
    assert found is not None
    assert found.describe() == (
        f"allowed every SageMaker action IAM publishes ({len(SAGEMAKER.actions)}, IAM data of "
        f"{catalog.data_date()}) on every resource type each accepts, e.g. sagemaker:CreateTrainingJob on "
        "arn:aws:sagemaker:eu-west-1:123456789012:reserved-capacity/example, granted by document 0 statement 1 "
        "(Wide); through document 0 statement 1 (Wide)"
    )


def test_every_published_action_named_one_by_one_is_every_action() -> None:
    names = [a.name for a in SAGEMAKER.actions]
    assert decide(grant(Action=names, Resource="*")) is not None
    # One action short leaves out the types only it needs, a few: still full access (the NotAction escape).
    assert decide(grant(Action=names[:-1], Resource="*")) is not None
    assert decide(grant(Action=names[: len(names) // 2], Resource="*")) is None  # half is not


def test_a_grant_split_over_several_documents_is_one_grant() -> None:
    half = len(SAGEMAKER.actions) // 2
    first = grant(Action=[a.name for a in SAGEMAKER.actions[:half]], Resource="*")
    second = grant(Action=[a.name for a in SAGEMAKER.actions[half:]], Resource="*")
    assert decide(first) is None
    assert decide(second) is None
    found = decide(first, second)
    assert found is not None
    assert {s.source for s in found.statements} == {"document 0", "document 1"}


def test_a_deny_takes_away_only_what_it_certainly_covers() -> None:
    allow = {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}
    one_arn = {"Effect": "Deny", "Action": "sagemaker:*", "Resource": "arn:aws:sagemaker:*:*:model/secret"}
    one_type = {"Effect": "Deny", "Action": "sagemaker:*", "Resource": "arn:aws:sagemaker:*:*:model/*"}
    one_region = {"Effect": "Deny", "Action": "sagemaker:*", "Resource": "arn:aws:sagemaker:eu-west-1:*:*"}
    assert decide({"Statement": [one_arn, allow]}) is not None  # a Deny on one ARN leaves the type allowed
    assert decide({"Statement": [one_region, allow]}) is not None  # every other region still
    # No model anywhere: one type of 74 left out, which is still full access; a tenth and more is not.
    assert decide({"Statement": [one_type, allow]}) is not None
    types = sorted(SAGEMAKER.arn_formats)[: math.ceil(len(SAGEMAKER.arn_formats) / 10) + 1]
    many = {**one_type, "Resource": [f"arn:aws:sagemaker:*:*:{t}/*" for t in types]}
    assert decide({"Statement": [many, allow]}) is None
    assert decide({"Statement": [allow]}, {"Statement": [many]}) is None


def test_allows_evaluates_one_request() -> None:
    statements = parse(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::data/*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/secret/*"},
            ]
        },
        "d",
    )
    assert allows(statements, "s3:GetObject", "arn:aws:s3:::data/x") is not None
    assert allows(statements, "s3:GetObject", "arn:aws:s3:::data/secret/x") is None
    assert allows(statements, "s3:PutObject", "arn:aws:s3:::data/x") is None


# -- property tests against the independent evaluator -------------------------------------------------------
ACTIONS = [
    "sagemaker:*",
    "*",
    "s*:*",
    "sagemaker:?*",
    "sagemaker:Create*",
    "sagemaker:Describe*",
    "sagemaker:List*",
    "sagemaker:CreateTrainingJob",
    "s3:GetObject",
    *[f"sagemaker:{c}*" for c in "ABCDEGILPQRSTU"],
]
RESOURCES = [
    "*",
    "arn:*",
    "arn:aws:sagemaker:*",
    "arn:aws:sagemaker:*:*:*/*",
    "arn:aws:sagemaker:*:*:training-job/*",
    "arn:aws:sagemaker:us-east-1:123456789012:*",
    "arn:aws:s3:::b/*",
    *[f"arn:aws:sagemaker:*:*:{c}*" for c in "acdefhijlmnoprstuw"],
]
STATEMENT = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Allow", "Deny"]),
        "Action": st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=6),
        "Resource": st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=8),
    },
    optional={"Condition": st.just({"Bool": {"aws:SecureTransport": "true"}})},
)


def _left_out(documents: list[Any]) -> set[str]:
    """The SageMaker resource types on whose concrete ARN some action that accepts the type is not allowed (and
    `*` when an action that accepts only `*` is not named by any Allow, or is denied on `*`), decided by the
    independent evaluator alone."""
    left: set[str] = set()
    found = [s for d in documents for s in evaluator.statements(d)]
    allows = [s for s in found if str(evaluator._element(s, "Effect")).lower() != "deny"]
    for action in SAGEMAKER.actions:
        if not action.resource_types:
            # Requested on `*`; a grant naming the action on any resource counts (the pack's reading).
            named = any(evaluator._names(s, "Action", "NotAction", action.name) for s in allows)
            denied = any(
                str(evaluator._element(s, "Effect")).lower() == "deny"
                and evaluator._element(s, "Condition") is None
                and evaluator._names(s, "Action", "NotAction", action.name)
                and evaluator._names(s, "Resource", "NotResource", "*")
                for s in found
            )
            if not named or denied:
                left.add("*")
            continue
        for type_ in action.resource_types:
            if type_ in left:
                continue
            arn = SAGEMAKER.arn_formats[type_]
            for variable, value in (
                ("${Partition}", "aws"),
                ("${Region}", "us-east-1"),
                ("${Account}", "123456789012"),
            ):
                arn = arn.replace(variable, value)
            while "${" in arn:
                start = arn.index("${")
                arn = arn[:start] + "zz9" + arn[arn.index("}", start) + 1 :]
            if not evaluator.allowed(documents, action.name, arn):
                left.add(type_)
    return left


def _expanded(documents: list[Any]) -> bool:
    """Full SageMaker access by docs/policies.md's definition: every published action on every resource type it
    accepts, but at most a tenth of SageMaker's resource types (rounded up) left out; written here, not taken
    from the pack."""
    return len(_left_out(documents)) <= math.ceil(len(SAGEMAKER.arn_formats) / 10)


@given(st.lists(st.lists(STATEMENT, min_size=1, max_size=4), min_size=1, max_size=3))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_full_grant_is_missed_and_every_witness_is_allowed(statement_lists: list[list[dict[str, Any]]]) -> None:
    documents = [{"Version": "2012-10-17", "Statement": statements} for statements in statement_lists]
    found = decide(*documents)
    if found is not None:
        assert evaluator.allowed(documents, found.witness.action, found.witness.resource)
    # Sound: whatever the independent expansion finds fully granted, the algebra flags.
    if _expanded(documents):
        assert found is not None


@given(
    action=st.sampled_from(["sagemaker:*", "*", "*:*", "s*:*", "sage?aker:*", "sagemaker*", "sa*"]),
    resource=st.sampled_from(["*", "arn:*", "arn:aws:sagemaker:*", "arn:*:sagemaker:*:*:*"]),
    seed=st.integers(0, 2**32),
    as_text=st.booleans(),
)
@settings(max_examples=100, deadline=None)
def test_a_full_grant_is_flagged_however_it_is_spelt(action: str, resource: str, seed: int, as_text: bool) -> None:
    rng = random.Random(seed)
    recased = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in action)
    document: Any = grant(Action=[recased, "s3:GetObject"], Resource=["arn:aws:s3:::b", resource])
    if as_text:
        document = json.dumps(document).replace(":", "\\u003a").replace('"\\u003a', '":').replace('\\u003a "', ': "')
    assert decide(document) is not None


@pytest.mark.data
def test_the_aws_managed_snapshot_agrees_with_the_independent_expansion() -> None:
    """Every AWS-managed document the pack ships, inline: the decision equals the independent expansion's
    (`bench/iam_scale.py` prints the same comparison with timings)."""
    policies = catalog._managed()["policies"]
    flagged = []
    for name, entry in policies.items():
        decided = decide(entry["document"]) is not None
        assert decided is _expanded([entry["document"]]), name
        if decided:
            flagged.append(name)
    assert {"AdministratorAccess", "PowerUserAccess"} <= set(flagged)
    # The AWS-managed policies that grant every SageMaker action on every resource, or on all but a few types
    # (AmazonSageMakerFullAccess spares 7 of 74, Studio's administration, with a NotResource; DataScientist and
    # the DataZone boundary a few more with a NotResource or a Deny): all of them.
    assert {
        "AmazonSageMakerFullAccess",
        "DataScientist",
        "AmazonDataZoneSageMakerEnvironmentRolePermissionsBoundary",
        "AWSDeepRacerServiceRolePolicy",
        "SageMakerStudioAdminIAMPermissiveExecutionPolicy",
        "SageMakerStudioUserIAMPermissiveExecutionPolicy",
    } <= set(flagged)


def test_a_deny_on_exactly_what_an_allow_names_takes_it_away_whatever_the_widening() -> None:
    """Hypothesis found it: an Allow on one region and account counts as every resource (fail closed), and a
    Deny of the very same pattern took nothing away (a Deny counts only where it reaches every region and
    account), so full access was reported with a witness IAM does not allow. A Deny whose pattern covers the
    Allow's now takes away what that Allow grants; one that covers less takes nothing."""
    scoped = "arn:aws:sagemaker:us-east-1:123456789012:*"
    allow = {"Effect": "Allow", "Action": ["sagemaker:*"], "Resource": [scoped]}
    create = {"Effect": "Allow", "Action": ["sagemaker:Create*"], "Resource": ["*"]}
    for deny_pattern in (scoped, "arn:aws:sagemaker:*:123456789012:*", "*"):
        deny = {"Effect": "Deny", "Action": ["sagemaker:*"], "Resource": [deny_pattern]}
        assert decide({"Version": "2012-10-17", "Statement": [allow, create, deny]}) is None, deny_pattern
    narrower = {
        "Effect": "Deny",
        "Action": ["sagemaker:*"],
        "Resource": ["arn:aws:sagemaker:us-east-1:123456789012:m*"],
    }
    found = decide({"Version": "2012-10-17", "Statement": [allow, create, narrower]})
    assert found is not None
    assert evaluator.allowed(
        [{"Version": "2012-10-17", "Statement": [allow, create, narrower]}],
        found.witness.action,
        found.witness.resource,
    )
    # A Deny of only some actions takes only those: granted again through a pattern it does not cover, the
    # whole is full access once more.
    some = {"Effect": "Deny", "Action": ["sagemaker:Delete*"], "Resource": [scoped]}
    assert decide({"Version": "2012-10-17", "Statement": [allow, some]}) is None
    elsewhere = {"Effect": "Allow", "Action": ["sagemaker:Delete*"], "Resource": ["arn:aws:sagemaker:eu-west-1:*"]}
    assert decide({"Version": "2012-10-17", "Statement": [allow, some, elsewhere]}) is not None
