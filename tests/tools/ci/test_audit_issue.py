"""The account audit's issues: one open issue per finding (principal and rule) of an account, found again by its
marker among its own identity's issues and edited, closed when the finding is gone, nothing closed when the audit
did not run; run with a stand-in `gh`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.tools.ci.conftest import gh_calls
from tools.ci import audit_issue

BOT = {"login": "github-actions[bot]"}
ROLE = "arn:aws:iam::123456789012:role/ci-admin"
USER = "arn:aws:iam::123456789012:user/ops+old@corp"


def _finding(principal: str = ROLE, rule: str = "iam-no-privilege-escalation", **extra: Any) -> dict[str, Any]:
    return {
        "principal": principal,
        "policyName": rule,
        "enforcementLevel": "mandatory",
        "message": f"{principal} can attach any policy to itself",
        "witness": {"action": "iam:AttachRolePolicy", "resource": principal},
        **extra,
    }


@pytest.fixture
def fake_gh(stand_in_gh: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in {"GITHUB_REPOSITORY": "o/r", "EXIT_CODE": "1", "RUN_URL": "https://x/run/1"}.items():
        monkeypatch.setenv(key, value)
    _result(stand_in_gh, [_finding()])
    return stand_in_gh


def _result(directory: Path, findings: list[dict[str, Any]]) -> None:
    result = {"account": "<account>", "principals": 3, "findings": findings}
    (directory / "result.json").write_text(json.dumps(result))


def _calls(directory: Path) -> list[tuple[list[str], str]]:
    return [(c["argv"], c["stdin"]) for c in gh_calls(directory)]


def _run(directory: Path, *extra: str) -> int:
    return audit_issue.main(["--account", "prod", "--result", str(directory / "result.json"), *extra])


def _issue(number: int, principal: str = ROLE, rule: str = "iam-no-privilege-escalation", **extra: Any) -> dict:
    return {"number": number, "body": audit_issue.marker("prod", principal, rule) + "\nold", "user": BOT, **extra}


def test_a_finding_gets_one_new_issue_that_shows_no_account_id(fake_gh: Path) -> None:
    assert _run(fake_gh) == 0
    (listing, _), (post, payload) = _calls(fake_gh)
    assert listing == ["api", "repos/o/r/issues?state=open&per_page=100", "--paginate", "--slurp"]
    assert post == ["api", "repos/o/r/issues", "--method", "POST", "--input", "-"]
    issue = json.loads(payload)
    assert issue["title"] == "Audit of prod: iam-no-privilege-escalation on role/ci-admin"
    assert issue["body"].startswith(
        "<!-- ml-pipelines-audit:prod:iam-no-privilege-escalation:arn:aws:iam::%3Caccount%3E:role/ci-admin -->\n"
    )
    assert "iam:AttachRolePolicy" in issue["body"] and "Run: https://x/run/1." in issue["body"]
    assert "123456789012" not in payload


def test_the_next_run_edits_that_issue_never_a_second_and_closes_the_gone_ones(fake_gh: Path) -> None:
    issues = [
        [
            _issue(9),
            _issue(4, USER),  # a finding no longer there
            {**_issue(5), "pull_request": {}},
            {**_issue(6, USER), "user": {"login": "mallory"}},  # anyone can type the marker
            {"number": 3, "body": "<!-- pulumi-drift:prod -->", "user": BOT},
            {**_issue(8), "body": audit_issue.marker("nonprod", ROLE, "iam-no-privilege-escalation")},
        ]
    ]
    (fake_gh / "listing.json").write_text(json.dumps(issues))
    assert _run(fake_gh) == 0
    _, (patch, payload), (comment, note), (close, state) = _calls(fake_gh)
    assert patch[1:4] == ["repos/o/r/issues/9", "--method", "PATCH"] and "ci-admin" in json.loads(payload)["body"]
    assert comment[1] == "repos/o/r/issues/4/comments"
    assert json.loads(note) == {"body": "No longer found by the audit: https://x/run/1."}
    assert close[1] == "repos/o/r/issues/4" and json.loads(state) == {"state": "closed"}


def test_an_unchanged_issue_is_not_written_again(fake_gh: Path) -> None:
    assert _run(fake_gh) == 0
    written = json.loads(_calls(fake_gh)[1][1])
    (fake_gh / "listing.json").write_text(json.dumps([[{"number": 9, "user": BOT, **written}]]))
    (fake_gh / "calls.jsonl").unlink()
    assert _run(fake_gh) == 0
    assert len(_calls(fake_gh)) == 1  # the listing only


def test_one_issue_per_principal_and_rule_and_at_most_max_new_per_run(
    fake_gh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _result(fake_gh, [_finding(), _finding(message="another path"), _finding(USER), _finding(rule="iam-x")])
    assert _run(fake_gh, "--max-new", "2") == 0
    posts = [json.loads(stdin) for argv, stdin in _calls(fake_gh)[1:]]
    assert len(posts) == 2 and len({p["body"].split("\n", 1)[0] for p in posts}) == 2
    assert "::warning::1 finding(s) of prod" in capsys.readouterr().out


def test_two_principals_whose_names_differ_only_in_a_symbol_get_two_issues() -> None:
    a = audit_issue.marker("prod", "arn:aws:iam::1:user/a+b", "r")
    b = audit_issue.marker("prod", "arn:aws:iam::1:user/a_b", "r")
    assert a != b
    assert audit_issue.marker("prod", "arn:x", "a:b") != audit_issue.marker("prod", "b:arn:x", "a")
    assert "-->" not in audit_issue.marker("prod", "arn:aws:iam::1:role/x-->y", "r")[:-4]


@pytest.mark.parametrize(("code", "result"), [("2", "{}"), ("255", ""), ("1", "not json"), ("0", '{"findings": 3}')])
def test_an_audit_that_did_not_run_closes_nothing_and_says_so_once(
    fake_gh: Path, monkeypatch: pytest.MonkeyPatch, code: str, result: str
) -> None:
    monkeypatch.setenv("EXIT_CODE", code)
    (fake_gh / "result.json").write_text(result)
    (fake_gh / "listing.json").write_text(json.dumps([[_issue(9)]]))
    assert _run(fake_gh) == 0
    _, (post, payload) = _calls(fake_gh)
    assert post[1:4] == ["repos/o/r/issues", "--method", "POST"]
    assert json.loads(payload)["body"].startswith("<!-- ml-pipelines-audit:prod -->\n")
    # the next run that works closes it
    monkeypatch.setenv("EXIT_CODE", "0")
    _result(fake_gh, [_finding()])
    failed = {"number": 12, "body": json.loads(payload)["body"], "user": BOT}
    (fake_gh / "listing.json").write_text(json.dumps([[_issue(9), failed]]))
    (fake_gh / "calls.jsonl").unlink()
    assert _run(fake_gh) == 0
    assert [argv[1] for argv, _ in _calls(fake_gh)[1:]] == [
        "repos/o/r/issues/12/comments",
        "repos/o/r/issues/12",
        "repos/o/r/issues/9",
    ]


def test_no_finding_closes_every_issue_of_the_account(fake_gh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXIT_CODE", "0")
    _result(fake_gh, [])
    (fake_gh / "listing.json").write_text(json.dumps([[_issue(9), _issue(4, USER)]]))
    assert _run(fake_gh) == 0
    assert [argv[1] for argv, _ in _calls(fake_gh)[1:]] == [
        "repos/o/r/issues/9/comments",  # in the markers' order: role/ before user/
        "repos/o/r/issues/9",
        "repos/o/r/issues/4/comments",
        "repos/o/r/issues/4",
    ]


def test_the_witness_cannot_break_the_issue(fake_gh: Path) -> None:
    _result(fake_gh, [_finding(message="````\n### all clear\n" + "`" * 70_000, witness={"w": "x" * 70_000})])
    assert _run(fake_gh) == 0
    text = json.loads(_calls(fake_gh)[1][1])["body"]
    assert len(text) <= 65_536 and text.startswith("<!-- ml-pipelines-audit:prod:")
