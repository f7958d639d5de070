"""Open, update or close the account audit's issues: one open issue per finding (principal and rule) of an account.

    python -m tools.ci.audit_issue --account NAME --result result.json [--max-new N]

Run by .github/workflows/audit.yml with GH_TOKEN, GITHUB_REPOSITORY, EXIT_CODE and RUN_URL in the environment;
`result.json` is what `ml-pipelines audit-account --json` printed (redacted), EXIT_CODE its exit code. As
tools.ci.drift_issue does for a stack: each issue starts with a hidden marker naming the account, the rule and
the principal, and is found again by that marker among the open issues its own identity wrote (ISSUE_AUTHOR,
`github-actions[bot]` for the workflow's token), never opened twice. A finding seen again edits its issue (only
when the text changed); an issue whose finding is gone is closed with a comment. When the audit itself failed
(an exit code other than 0 or 1, or a result that is not the command's JSON) nothing is closed: one issue per
account says so, closed by the next audit that runs. At most `--max-new` issues are opened per run (GitHub limits
how fast content is created); the rest are opened by the following runs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tools.ci.github import (
    DEFAULT_AUTHOR,
    close,
    fenced,
    link,
    open_issues,
    own_marked_items,
    plain,
    redact,
    required_env,
    upsert,
)
from tools.ci.github import exit_code as read_exit_code

PREFIX = "<!-- ml-pipelines-audit:"
MAX_NEW = 20
MAX_TITLE = 200  # GitHub takes 256 characters


def account_prefix(account: str) -> str:
    """What every finding's marker of `account` starts with (and the failure marker does not)."""
    return f"{PREFIX}{plain(account)}:"


def failure_marker(account: str) -> str:
    return f"{PREFIX}{plain(account)} -->"


def _key(value: str, safe: str) -> str:
    """A rule's name or a principal's ARN in a marker: redacted (no account ID), then every character IAM allows
    in a name kept and the rest %-encoded, so two principals never share a marker and nothing closes the comment
    (`>`, `!` and spaces are encoded: a key cannot end the marker early)."""
    return quote(redact(value), safe=safe)


def marker(account: str, principal: str, rule: str) -> str:
    """The rule's `:` encoded, so the first `:` after it is the separator: no two (rule, principal) meet."""
    return f"{account_prefix(account)}{_key(rule, '/+=,.@_-')}:{_key(principal, '/:+=,.@_-')} -->"


def _name(principal: str) -> str:
    """`role/path/name` of an IAM ARN (the rest, account ID included, is the same for every issue)."""
    parts = principal.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[5] else principal


def title(account: str, principal: str, rule: str) -> str:
    text = f"Audit of {plain(account)}: {plain(rule)} on {plain(redact(_name(principal)))}"
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 3] + "..."


def body(account: str, principal: str, rule: str, findings: list[dict[str, Any]], run_url: str) -> str:
    """The rule and principal (plain, outside the fence), then each message and witness of the finding, in a
    fence they cannot close: the principal's name and documents are the account's, whoever wrote them."""
    levels = sorted({plain(str(f.get("enforcementLevel") or "unknown")) for f in findings})
    head = [
        marker(account, principal, rule),
        f"### `ml-pipelines audit-account` of account `{plain(account)}`: `{plain(rule)}` ({', '.join(levels)})",
        "",
        f"Principal: `{plain(redact(principal))}`. Run: {link(run_url)}. Change the principal (or, where the finding "
        f"is accepted, the rule's settings in the policy config); this issue is closed by the first audit that no "
        "longer finds it.",
        "",
    ]
    shown = "\n\n".join(
        f"{f.get('message', '')}\n{json.dumps(f.get('witness'), indent=2, sort_keys=True)}" for f in findings
    )
    return fenced(head, shown)


def failure_body(account: str, exit_code: str, run_url: str) -> str:
    code = read_exit_code(exit_code) or "unknown"
    return "\n".join(
        [
            failure_marker(account),
            f"### `ml-pipelines audit-account --live` of account `{plain(account)}` did not run (exit code {code})",
            "",
            f"No finding was opened or closed. Run: {link(run_url)}. This issue is closed by the next audit that runs.",
        ]
    )


def read_findings(path: Path) -> dict[tuple[str, str], list[dict[str, Any]]] | None:
    """(principal, rule) -> its findings, from the command's JSON; None when the file is not that JSON."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    findings = result.get("findings") if isinstance(result, dict) else None
    if not isinstance(findings, list):
        return None
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for finding in findings:
        if not (
            isinstance(finding, dict)
            and isinstance(finding.get("principal"), str)
            and isinstance(finding.get("policyName"), str)
        ):
            return None
        grouped.setdefault((finding["principal"], finding["policyName"]), []).append(finding)
    return grouped


def reconcile(
    repo: str,
    account: str,
    grouped: dict[tuple[str, str], list[dict[str, Any]]],
    own: list[dict[str, Any]],
    run_url: str,
    max_new: int,
) -> int:
    """Each finding's issue edited or opened, each issue of a finding no longer found closed; the number of
    findings left for the next run (past `max_new`)."""
    by_marker: dict[str, list[dict[str, Any]]] = {}
    for item in own:
        by_marker.setdefault(str(item["body"]).split("\n", 1)[0], []).append(item)
    wanted = {marker(account, p, r): (p, r) for p, r in grouped}
    opened = left = 0
    for mark, (principal, rule) in sorted(wanted.items()):
        payload = {
            "title": title(account, principal, rule),
            "body": body(account, principal, rule, grouped[(principal, rule)], run_url),
        }
        found = by_marker.get(mark, [])
        if found and (found[0].get("body"), found[0].get("title")) == (payload["body"], payload["title"]):
            continue
        if not found and opened >= max_new:
            left += 1
            continue
        opened += 0 if found else 1
        upsert(f"repos/{repo}/issues/{found[0]['number']}" if found else None, f"repos/{repo}/issues", payload)
    for mark, items in sorted(by_marker.items()):
        if mark not in wanted:
            for item in items:
                close(repo, item["number"], f"No longer found by the audit: {link(run_url)}.")
    return left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ci.audit_issue", description=__doc__.splitlines()[0])
    parser.add_argument("--account", required=True)
    parser.add_argument("--result", type=Path, required=True, help="what `audit-account --json` printed")
    parser.add_argument("--max-new", type=int, default=MAX_NEW, help="issues opened per run at most")
    args = parser.parse_args(argv)
    env = required_env("GITHUB_REPOSITORY", "EXIT_CODE", "RUN_URL")
    if env is None:
        return 2
    repo, author, run_url = env["GITHUB_REPOSITORY"], os.environ.get("ISSUE_AUTHOR") or DEFAULT_AUTHOR, env["RUN_URL"]
    pages = open_issues(repo)
    failed = [i["number"] for i in own_marked_items(pages, failure_marker(args.account), author)]
    grouped = read_findings(args.result) if read_exit_code(env["EXIT_CODE"]) in ("0", "1") else None
    if grouped is None:
        upsert(
            f"repos/{repo}/issues/{failed[0]}" if failed else None,
            f"repos/{repo}/issues",
            {
                "title": f"Audit of {plain(args.account)} did not run",
                "body": failure_body(args.account, env["EXIT_CODE"], run_url),
            },
        )
        return 0
    for number in failed:
        close(repo, number, f"The audit ran again: {link(run_url)}.")
    own = own_marked_items(pages, account_prefix(args.account), author)
    left = reconcile(repo, args.account, grouped, own, run_url, args.max_new)
    if left:
        print(f"::warning::{left} finding(s) of {plain(args.account)} get their issue on a later run (--max-new)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
