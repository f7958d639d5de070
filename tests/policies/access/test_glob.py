"""IAM's wildcard matching (`policies.access.algebra.Glob`): the same answers as a matcher written apart from it
(dynamic programming over pattern and value), and patterns crafted for a backtracking matcher answered too."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.access.algebra import Glob, action_mask, matches
from policies.access.catalog import service


def reference(pattern: str, value: str) -> bool:
    """Whether `value` matches `pattern` (`*`: any run, `?`: any one character), by the textbook table."""
    reach = [True] + [False] * len(value)
    for c in pattern:
        if c == "*":
            for i in range(1, len(value) + 1):
                reach[i] = reach[i] or reach[i - 1]
        else:
            reach = [False] + [reach[i] and (c == "?" or c == value[i]) for i in range(len(value))]
    return reach[-1]


ALPHABET = st.sampled_from("ab*?:/")


@settings(max_examples=3000, deadline=None)
@given(st.text(ALPHABET, max_size=12), st.text(st.sampled_from("ab:/*?"), max_size=12))
def test_glob_agrees_with_an_independent_matcher(pattern: str, value: str) -> None:
    assert (Glob(pattern).fullmatch(value) is not None) == reference(pattern, value)


def test_patterns_that_stall_a_backtracking_matcher_get_their_answer() -> None:
    """A regular expression of `.*.` per `*?` run (what the pack compiled before) takes exponential time on these;
    bench/hostile_patterns.py measures them through the pack."""
    value = "arn:aws:s3:::" + "a" * 3000
    assert matches("arn:aws:s3:::" + "*?" * 500 + "z", value) is False
    assert matches("arn:aws:s3:::" + "*a" * 500 + "*", value) is True
    assert matches("arn:aws:s3:::" + "*a" * 500 + "b", value) is False
    sagemaker = service("sagemaker")
    assert sagemaker is not None
    assert action_mask("sagemaker:" + "*?" * 400 + "x", "sagemaker") == 0
    assert action_mask("sagemaker:" + "*?" * 3 + "*", "sagemaker") == sagemaker.everything
    assert action_mask("sagemaker:c*?*?*?*", "sagemaker") == sum(
        1 << i for i, a in enumerate(sagemaker.actions) if a.name.lower().startswith("sagemaker:c")
    )


def test_an_id_shaped_pattern_is_read_within_an_arns_length() -> None:
    """The ID-shaped check (a regular expression of the ARN format) reads runs of `*` as one, and a pattern with
    more than 2,048 other characters (longer than any ARN: botocore's IAM `arnType`) as matching nothing."""
    import botocore.session

    from policies.access.reach import ARN_MAX, _id_shaped

    shape = botocore.session.get_session().get_service_model("iam").shape_for("arnType")
    assert shape.metadata["max"] == ARN_MAX
    snapshot = "arn:${Partition}:ec2:${Region}::snapshot/${SnapshotId}"
    assert _id_shaped("arn:aws:ec2:*::snapshot/snap-*", "ec2", snapshot)
    assert _id_shaped("arn:aws:ec2:***::snapshot/snap-****", "ec2", snapshot)
    assert not _id_shaped("arn:aws:ec2:*::snapshot/snap-0123*", "ec2", snapshot)
    padded = "arn:aws:ec2:*" + "?" * ARN_MAX + "::snapshot/snap-*"
    assert not _id_shaped(padded, "ec2", snapshot)
    assert not _id_shaped("arn:" + ":ec2:" * 100_000 + "::snapshot", "ec2", snapshot)
