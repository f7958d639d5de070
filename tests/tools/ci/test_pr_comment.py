"""The preview comment: one per stack, found by its marker and edited on the next push, never duplicated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.ci.conftest import gh_calls
from tools.ci import pr_comment


def test_body_has_the_marker_verdict_and_the_end_of_a_long_output() -> None:
    output = "x" * (pr_comment.MAX_OUTPUT + 10) + "\nPolicies:\n    mandatory: [iam] ...\n"
    body = pr_comment.body("prod", output, "255", "abc123")
    lines = body.splitlines()
    assert lines[0] == "<!-- pulumi-preview:prod -->"
    assert lines[1] == "### `pulumi preview` of stack `prod`: failed (exit code 255)"
    assert "Commit abc123; policy pack `policies` with `policies/config/prod.json`." in lines
    assert "...(start cut)" in body and body.endswith("    mandatory: [iam] ...\n````\n</details>")
    assert len(body) < 65_536
    assert "no mandatory policy violation" in pr_comment.body("dev", "ok", "0", "abc")


@pytest.fixture
def fake_gh(stand_in_gh: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in `gh` (tests/tools/ci/conftest.py), the preview workflow's environment and an output."""
    for key, value in {"GITHUB_REPOSITORY": "o/r", "PR_NUMBER": "7", "HEAD_SHA": "abc", "EXIT_CODE": "0"}.items():
        monkeypatch.setenv(key, value)
    (stand_in_gh / "preview.txt").write_text("+ 3 to create\n")
    return stand_in_gh


def test_first_preview_posts_a_comment(fake_gh: Path) -> None:
    (fake_gh / "listing.json").write_text(json.dumps([[{"id": 1, "body": "<!-- pulumi-preview:staging -->"}]]))
    assert pr_comment.main(["--stack", "dev", "--output", str(fake_gh / "preview.txt")]) == 0
    listing, post = gh_calls(fake_gh)
    assert listing["argv"] == ["api", "repos/o/r/issues/7/comments", "--paginate", "--slurp"]
    assert post["argv"] == ["api", "repos/o/r/issues/7/comments", "--method", "POST", "--input", "-"]
    assert json.loads(str(post["stdin"]))["body"].startswith("<!-- pulumi-preview:dev -->\n")


def test_in_github_actions_the_run_summary_shows_the_comment(fake_gh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = fake_gh / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert pr_comment.main(["--stack", "prod", "--output", str(fake_gh / "preview.txt")]) == 0
    _, post = gh_calls(fake_gh)
    assert summary.read_text() == "earlier step\n" + json.loads(str(post["stdin"]))["body"] + "\n"


def test_later_previews_edit_the_stacks_comment(fake_gh: Path) -> None:
    comments = [
        [{"id": 1, "body": "<!-- pulumi-preview:staging -->", "user": {"login": "github-actions[bot]"}}],
        [{"id": 42, "body": "<!-- pulumi-preview:dev -->", "user": {"login": "github-actions[bot]"}}],
    ]
    (fake_gh / "listing.json").write_text(json.dumps(comments))
    assert pr_comment.main(["--stack", "dev", "--output", str(fake_gh / "preview.txt")]) == 0
    _, patch = gh_calls(fake_gh)
    assert patch["argv"] == ["api", "repos/o/r/issues/comments/42", "--method", "PATCH", "--input", "-"]


def test_missing_environment_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("GITHUB_REPOSITORY", "PR_NUMBER", "HEAD_SHA", "EXIT_CODE"):
        monkeypatch.delenv(key, raising=False)
    assert pr_comment.main(["--stack", "dev", "--output", "x"]) == 2
    assert (
        capsys.readouterr().err
        == "error: set GITHUB_REPOSITORY, PR_NUMBER, HEAD_SHA, EXIT_CODE (the workflow passes them)\n"
    )


def test_a_comment_someone_else_wrote_with_the_marker_is_never_edited(fake_gh: Path) -> None:
    spoof = {"id": 9, "body": "<!-- pulumi-preview:dev -->\n### all good", "user": {"login": "mallory"}}
    (fake_gh / "listing.json").write_text(json.dumps([[spoof]]))
    assert pr_comment.main(["--stack", "dev", "--output", str(fake_gh / "preview.txt")]) == 0
    _, post = gh_calls(fake_gh)
    assert post["argv"] == ["api", "repos/o/r/issues/7/comments", "--method", "POST", "--input", "-"]


def test_output_cannot_close_the_fence_or_fake_the_verdict() -> None:
    hostile = "ok\n`````\n</details>\n### `pulumi preview` of stack `prod`: no mandatory policy violation\n"
    body = pr_comment.body("prod", hostile, "255", "abc")
    lines = body.splitlines()
    fence = lines[lines.index("<details><summary>Changes and policy results</summary>") + 2]
    assert set(fence) == {"`"} and len(fence) == 6  # longer than the output's five
    assert lines[1] == "### `pulumi preview` of stack `prod`: failed (exit code 255)"
    assert body.count(fence) == 2 and body.endswith(f"{fence}\n</details>")


def test_the_comment_stays_under_githubs_limit_whatever_the_output() -> None:
    body = pr_comment.body("prod", "`" * 70_000 + "\nend\n", "1", "abc")
    assert len(body) <= pr_comment.MAX_COMMENT
    assert "end" in body


def test_values_outside_the_fence_are_plain() -> None:
    body = pr_comment.body("prod<img src=x>", "ok", "0", "abc`<b>")
    assert "<img" not in body and "<b>" not in body


@pytest.mark.parametrize(
    ("exit_code", "verdict"),
    [
        ("0", "no mandatory policy violation"),
        ("255\n", "failed (exit code 255)"),
        ("", "failed (no exit code)"),
        ("0 -- all clear", "failed (no exit code)"),  # the artifact is written by the PR's code
        ("1: **no mandatory policy violation**", "failed (no exit code)"),
    ],
)
def test_the_verdict_takes_only_a_number_from_the_artifact(exit_code: str, verdict: str) -> None:
    first = pr_comment.body("dev", "out", exit_code, "abc").splitlines()[1]
    assert first == f"### `pulumi preview` of stack `dev`: {verdict}"


@given(
    backticks=st.integers(min_value=0, max_value=70_000),
    rest=st.integers(min_value=0, max_value=70_000),
    spread=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_any_mix_of_backticks_and_text_fits_and_keeps_its_end(backticks: int, rest: int, spread: bool) -> None:
    """Found by review: 32,603 backticks then 27,397 other characters once recursed without end."""
    ticks = "`" * backticks if not spread else "``` x " * (backticks // 6)
    output = ticks + "y" * rest + "\nEND"
    body = pr_comment.body("prod", output, "1", "abc")
    assert len(body) <= pr_comment.MAX_COMMENT
    assert body.splitlines()[1] == "### `pulumi preview` of stack `prod`: failed (exit code 1)"
    assert "END" in body


def test_the_case_the_review_found() -> None:
    body = pr_comment.body("prod", "`" * 32_603 + "y" * 27_397, "0", "abc")
    assert len(body) <= pr_comment.MAX_COMMENT and body.rstrip().endswith("</details>")


def test_a_public_comment_shows_no_account_id_nor_e_mail_address() -> None:
    output = (
        "+ aws:iam/role:Role tumor-prod-sfn arn:aws:iam::123456789012:role/tumor-prod-sfn\n"
        "+ aws:sns/topicSubscription:TopicSubscription email ml-platform-oncall@example.com\n"
        "sub repo:example-org/ml-pipelines:environment:prod:ref:refs/heads/main:job_workflow_ref:"
        "example-org/ml-pipelines/.github/workflows/pulumi-up.yml@refs/heads/main\n"
        "cost 1234567890123 stays (thirteen digits)\n"
    )
    text = pr_comment.body("prod", output, "0", "abc123")
    assert "iam::123456789012:" not in text and "ml-platform-oncall@example.com" not in text
    assert "arn:aws:iam::<account>:role/tumor-prod-sfn" in text and "<e-mail>" in text
    assert "pulumi-up.yml@refs/heads/main" in text and "1234567890123" in text
