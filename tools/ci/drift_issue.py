"""Open, update or close the drift issue of one stack after `pulumi preview --refresh --expect-no-changes`.

    python -m tools.ci.drift_issue --stack NAME --output preview.txt

Run by .github/workflows/drift.yml with GH_TOKEN, GITHUB_REPOSITORY, EXIT_CODE and RUN_URL in the environment.
One open issue per drifted stack, never two: it starts with a hidden marker naming the stack and is found again
by that marker, among the open issues its own identity wrote (ISSUE_AUTHOR, `github-actions[bot]` for the
workflow's token), then edited. When the stack no longer drifts, that issue is closed with a comment. The
output goes in a fence it cannot close (tools.ci.pr_comment), the whole under GitHub's 65,536 characters.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from tools.ci.pr_comment import DEFAULT_AUTHOR, MAX_COMMENT, _gh, _plain, fenced


def marker(stack: str) -> str:
    return f"<!-- pulumi-drift:{_plain(stack)} -->"


def _url(value: str) -> str:
    """The run's address, shown as is: a URL's characters only."""
    return re.sub(r"[^A-Za-z0-9._/:-]", "_", value)


def title(stack: str) -> str:
    return f"Drift: stack {_plain(stack)} differs from its program"


def body(stack: str, output: str, exit_code: str, run_url: str) -> str:
    code = exit_code.strip()
    code = code if re.fullmatch(r"[0-9]{1,3}", code) else "unknown"
    head = [
        marker(stack),
        f"### `pulumi preview --refresh --expect-no-changes` of stack `{_plain(stack)}` exited with {code}",
        "",
        f"The live resources differ from what the program on main declares, or the preview failed. Run: "
        f"{_url(run_url)}. Reconcile with `pulumi up` from main, or change the program; this issue is closed "
        "by the first run that finds no drift.",
        "",
    ]
    return fenced(head, output, MAX_COMMENT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ci.drift_issue", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--output", type=Path, required=True, help="the captured output of the preview")
    args = parser.parse_args(argv)
    env = {k: os.environ.get(k, "") for k in ("GITHUB_REPOSITORY", "EXIT_CODE", "RUN_URL")}
    missing = [k for k, v in env.items() if not v]
    if missing:
        print(f"error: set {', '.join(missing)} (the workflow passes them)", file=sys.stderr)
        return 2
    repo, author = env["GITHUB_REPOSITORY"], os.environ.get("ISSUE_AUTHOR") or DEFAULT_AUTHOR
    pages = json.loads(_gh(f"repos/{repo}/issues?state=open&per_page=100", "--paginate", "--slurp"))
    existing = [
        issue["number"]
        for page in pages
        for issue in page
        if "pull_request" not in issue
        and str(issue.get("body") or "").startswith(marker(args.stack))
        and (issue.get("user") or {}).get("login") == author
    ]
    if env["EXIT_CODE"].strip() == "0":
        for number in existing:
            note = json.dumps({"body": f"No drift any more: {_url(env['RUN_URL'])}."})
            _gh(f"repos/{repo}/issues/{number}/comments", "--method", "POST", "--input", "-", stdin=note)
            _gh(f"repos/{repo}/issues/{number}", "--method", "PATCH", "--input", "-", stdin='{"state": "closed"}')
        return 0
    text = body(args.stack, args.output.read_text(errors="replace"), env["EXIT_CODE"], env["RUN_URL"])
    payload = json.dumps({"title": title(args.stack), "body": text})
    if existing:
        _gh(f"repos/{repo}/issues/{existing[0]}", "--method", "PATCH", "--input", "-", stdin=payload)
    else:
        _gh(f"repos/{repo}/issues", "--method", "POST", "--input", "-", stdin=payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
