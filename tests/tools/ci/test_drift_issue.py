"""The drift issue: one open issue per drifted stack, found again by its marker among its own identity's
issues and edited, closed when the stack stops drifting; run with a stand-in `gh`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.tools.ci.conftest import gh_calls
from tools.ci import drift_issue

BOT = {"login": "github-actions[bot]"}


@pytest.fixture
def fake_gh(stand_in_gh: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in `gh` (tests/tools/ci/conftest.py), the drift workflow's environment and an output."""
    for key, value in {"GITHUB_REPOSITORY": "o/r", "EXIT_CODE": "255", "RUN_URL": "https://x/run/1"}.items():
        monkeypatch.setenv(key, value)
    (stand_in_gh / "preview.txt").write_text("~ aws:s3/bucket:Bucket artifacts update [diff: ~tags]\n")
    return stand_in_gh


def _calls(directory: Path) -> list[tuple[list[str], str]]:
    return [(c["argv"], c["stdin"]) for c in gh_calls(directory)]


def _run(directory: Path, stack: str = "prod") -> int:
    return drift_issue.main(["--stack", stack, "--output", str(directory / "preview.txt")])


def test_a_drifted_stack_gets_one_new_issue(fake_gh: Path) -> None:
    assert _run(fake_gh) == 0
    (listing, _), (post, payload) = _calls(fake_gh)
    assert listing == ["api", "repos/o/r/issues?state=open&per_page=100", "--paginate", "--slurp"]
    assert post == ["api", "repos/o/r/issues", "--method", "POST", "--input", "-"]
    issue = json.loads(payload)
    assert issue["title"] == "Drift: stack prod differs from its program"
    assert issue["body"].startswith("<!-- pulumi-drift:prod -->\n### `pulumi preview --refresh")
    assert "exited with 255" in issue["body"] and "[diff: ~tags]" in issue["body"]
    assert "Run: https://x/run/1." in issue["body"]


def test_the_next_run_edits_that_issue_never_a_second(fake_gh: Path) -> None:
    issues = [
        [
            {"number": 3, "body": "<!-- pulumi-drift:staging -->", "user": BOT},
            {"number": 9, "body": "<!-- pulumi-drift:prod -->\nold", "user": BOT},
            {"number": 5, "body": "<!-- pulumi-drift:prod -->", "user": BOT, "pull_request": {}},
        ]
    ]
    (fake_gh / "listing.json").write_text(json.dumps(issues))
    assert _run(fake_gh) == 0
    _, (patch, payload) = _calls(fake_gh)
    assert patch == ["api", "repos/o/r/issues/9", "--method", "PATCH", "--input", "-"]
    assert "[diff: ~tags]" in json.loads(payload)["body"]


def test_an_issue_someone_else_wrote_with_the_marker_is_left_alone(fake_gh: Path) -> None:
    issues = [[{"number": 4, "body": "<!-- pulumi-drift:prod -->", "user": {"login": "mallory"}}]]
    (fake_gh / "listing.json").write_text(json.dumps(issues))
    assert _run(fake_gh) == 0
    _, (post, _) = _calls(fake_gh)
    assert post[1] == "repos/o/r/issues" and post[3] == "POST"


def test_no_drift_closes_the_open_issue_and_opens_none(fake_gh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXIT_CODE", "0")
    (fake_gh / "listing.json").write_text(
        json.dumps([[{"number": 9, "body": "<!-- pulumi-drift:prod -->", "user": BOT}]])
    )
    assert _run(fake_gh) == 0
    _, (comment, note), (patch, state) = _calls(fake_gh)
    assert comment == ["api", "repos/o/r/issues/9/comments", "--method", "POST", "--input", "-"]
    assert json.loads(note) == {"body": "No drift any more: https://x/run/1."}
    assert patch[1] == "repos/o/r/issues/9" and json.loads(state) == {"state": "closed"}
    (fake_gh / "listing.json").write_text("[[]]")
    (fake_gh / "calls.jsonl").unlink()
    assert _run(fake_gh) == 0
    assert len(_calls(fake_gh)) == 1  # the listing only


def test_the_output_cannot_break_the_issue(fake_gh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXIT_CODE", "1; all clear")
    (fake_gh / "preview.txt").write_text("````\n### no drift\n" + "`" * 70_000 + "\nEND")
    assert _run(fake_gh) == 0
    text = json.loads(_calls(fake_gh)[1][1])["body"]
    assert len(text) <= 65_536 and "exited with unknown" in text and text.endswith("END\n" + text.splitlines()[-1])


def test_a_public_drift_issue_shows_no_account_id_nor_e_mail_address() -> None:
    output = "~ aws:sns/topicSubscription:TopicSubscription a@example.org arn:aws:sns:eu-west-1:123456789012:t\n"
    text = drift_issue.body("prod", output, "1", "https://github.com/o/r/actions/runs/1")
    assert "a@example.org" not in text and ":123456789012:" not in text
    assert "arn:aws:sns:eu-west-1:<account>:t" in text
