"""Permissions boundaries: what a principal gets is what its policies allow and its boundary allows.

The check is independent of the pack's matcher: a request is allowed by a statement as IAM's documentation words
it (Action or NotAction, Resource or NotResource, wildcards `*` and `?`; actions without case, ARNs with case),
evaluated here with `fnmatch`. The cut must never lose a request both allow (the audit would miss a grant), and
must lose what only one of them allows where the difference can be written."""

from __future__ import annotations

import fnmatch
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.access.boundary import bounded, intersection
from policies.access.document import Statement, parse

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeModel",
    "iam:PassRole",
    "iam:CreateRole",
]
ACTION_PATTERNS = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:*Object",
    "sagemaker:*",
    "sagemaker:Describe*",
    "*:Describe*",
    "sagemaker:*TrainingJob",
    "iam:PassRole",
    "s3:GetObject",
    "iam:*",
    "?3:GetObject",
]
RESOURCES = [
    "arn:aws:s3:::data/train/a.csv",
    "arn:aws:s3:::data/test/a.csv",
    "arn:aws:s3:::logs/a",
    "arn:aws:sagemaker:eu-west-1:111122223333:training-job/tumor-1",
    "arn:aws:iam::111122223333:role/tumor-sfn",
    "arn:aws:iam::111122223333:role/AdminRole",
    "arn:aws:iam::111122223333:user/alice",
]
USERNAME = "alice"
"""The requester's `${aws:username}`: IAM puts the request's value in a policy variable before it matches."""
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::data/*",
    "arn:aws:s3:::data/train/*",
    "arn:aws:s3:::*/a.csv",
    "arn:aws:s3:::logs/a",
    "arn:aws:sagemaker:*:111122223333:training-job/tumor-*",
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:s3:::data/t???/a.csv",
    # ARNs are read with case; a variable is the request's value.
    "arn:aws:iam::111122223333:role/adminrole",
    "arn:aws:iam::111122223333:role/AdminRole",
    "arn:aws:iam::111122223333:role/Admin*",
    "arn:aws:iam::111122223333:user/${aws:username}",
    "arn:aws:iam::111122223333:user/$*",
    "arn:aws:iam::111122223333:user/alice",
]


def _named(patterns: list[str], value: str, case: bool) -> bool:
    patterns = [p.replace("${aws:username}", USERNAME) for p in patterns]
    if case:
        return any(fnmatch.fnmatchcase(value, p.replace("[", "[[]")) for p in patterns)
    return any(fnmatch.fnmatchcase(value.lower(), p.lower().replace("[", "[[]")) for p in patterns)


def allows(statement: Statement, action: str, resource: str) -> bool:
    """IAM's reading of one Allow statement for a request, conditions aside."""
    if statement.actions is not None:
        acted = _named(list(statement.actions), action, case=False)
    else:
        acted = not _named(list(statement.not_actions or ()), action, case=False)
    if statement.resources is not None:
        reached = _named(list(statement.resources), resource, case=True)
    else:
        reached = not _named(list(statement.not_resources or ()), resource, case=True)
    return statement.allow and acted and reached


def _statement(draw: st.DrawFn) -> dict[str, object]:
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3))
    return {
        "Effect": "Allow",
        "NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action": actions,
        "NotResource" if draw(st.booleans()) and draw(st.booleans()) else "Resource": resources,
    }


statements = st.composite(_statement)


@settings(max_examples=400, deadline=None)
@given(first=statements(), second=statements())
def test_the_cut_keeps_every_request_both_allow(first: dict[str, object], second: dict[str, object]) -> None:
    granted = parse(json.dumps({"Version": "2012-10-17", "Statement": [first]}), "identity")[0]
    limit = parse(json.dumps({"Version": "2012-10-17", "Statement": [second]}), "boundary")[0]
    cut = intersection(granted, limit)
    for action in ACTIONS:
        for resource in RESOURCES:
            if allows(granted, action, resource) and allows(limit, action, resource):
                assert cut is not None and allows(cut, action, resource), (action, resource, cut)


def one(document: dict[str, object], source: str) -> list[Statement]:
    return parse(json.dumps({"Version": "2012-10-17", "Statement": [document]}), source)


@pytest.mark.parametrize(
    ("granted", "limit", "cut_away"),
    [
        # A literal outside the other's pattern: nothing of it is left.
        (
            {"Action": "sagemaker:*", "Resource": "*"},
            {"Action": "s3:GetObject", "Resource": "*"},
            [("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:eu-west-1:111122223333:training-job/tumor-1")],
        ),
        (
            {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/a"},
            {"Action": "s3:*", "Resource": "arn:aws:s3:::data/*"},
            [("s3:GetObject", "arn:aws:s3:::logs/a")],
        ),
        # Two wildcards of one service: the actions IAM publishes that both name.
        (
            {"Action": "sagemaker:Describe*", "Resource": "*"},
            {"Action": "sagemaker:*TrainingJob", "Resource": "*"},
            [("sagemaker:DescribeModel", "arn:aws:s3:::logs/a")],
        ),
        # NotAction in the boundary takes its actions away.
        (
            {"Action": "s3:*", "Resource": "*"},
            {"NotAction": "s3:Put*", "Resource": "*"},
            [("s3:PutObject", "arn:aws:s3:::data/train/a.csv")],
        ),
        # Two NotActions: neither's actions are left.
        (
            {"NotAction": "s3:Put*", "Resource": "*"},
            {"NotAction": "iam:*", "Resource": "*"},
            [("iam:CreateRole", "arn:aws:iam::111122223333:role/tumor-sfn"), ("s3:PutObject", "arn:aws:s3:::logs/a")],
        ),
        # A narrower resource pattern of the boundary is what is left.
        (
            {"Action": "s3:GetObject", "Resource": "*"},
            {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"},
            [("s3:GetObject", "arn:aws:s3:::logs/a")],
        ),
    ],
)
def test_what_only_one_allows_is_cut_away(
    granted: dict[str, object], limit: dict[str, object], cut_away: list[tuple[str, str]]
) -> None:
    cut = bounded(one({"Effect": "Allow", **granted}, "identity"), one({"Effect": "Allow", **limit}, "boundary"))
    for action, resource in cut_away:
        assert not any(allows(s, action, resource) for s in cut)
    assert all(s.source == "identity" for s in cut)  # a witness names the policy that grants


def test_a_boundary_without_an_allow_leaves_nothing_and_its_denies_stay() -> None:
    granted = one({"Effect": "Allow", "Action": "*", "Resource": "*"}, "identity")
    assert bounded(granted, one({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}, "boundary")) == one(
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}, "boundary"
    )
    within = bounded(granted, one({"Effect": "Allow", "Action": "*", "Resource": "*"}, "boundary"))
    assert within == granted


def test_both_conditions_apply() -> None:
    granted = one(
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        "identity",
    )
    limit = one(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        },
        "boundary",
    )
    (cut,) = bounded(granted, limit)
    assert cut.condition == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com", "aws:RequestedRegion": "eu-west-1"}
    }
