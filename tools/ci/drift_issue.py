"""Open, update or close the drift issue of one stack after `pulumi preview --refresh --expect-no-changes`.

    python -m tools.ci.drift_issue --stack NAME --output preview.txt

Run by .github/workflows/drift.yml with GH_TOKEN, GITHUB_REPOSITORY, EXIT_CODE and RUN_URL in the environment.
One open issue per drifted stack, never two: it starts with a hidden marker naming the stack and is found again
by that marker, among the open issues its own identity wrote (ISSUE_AUTHOR, `github-actions[bot]` for the
workflow's token), then edited. When the stack no longer drifts, that issue is closed with a comment. The
output goes in a fence it cannot close (tools.ci.github), the whole under GitHub's 65,536 characters.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tools.ci.github import DEFAULT_AUTHOR, close, fenced, link, open_issues, own_marked, plain, required_env, upsert
from tools.ci.github import exit_code as read_exit_code


def marker(stack: str) -> str:
    return f"<!-- pulumi-drift:{plain(stack)} -->"


def title(stack: str) -> str:
    return f"Drift: stack {plain(stack)} differs from its program"


def body(stack: str, output: str, exit_code: str, run_url: str) -> str:
    code = read_exit_code(exit_code) or "unknown"
    head = [
        marker(stack),
        f"### `pulumi preview --refresh --expect-no-changes` of stack `{plain(stack)}` exited with {code}",
        "",
        f"The live resources differ from what the program on main declares, or the preview failed. Run: "
        f"{link(run_url)}. Reconcile with `pulumi up` from main, or change the program; this issue is closed "
        "by the first run that finds no drift.",
        "",
    ]
    return fenced(head, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ci.drift_issue", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--output", type=Path, required=True, help="the captured output of the preview")
    args = parser.parse_args(argv)
    env = required_env("GITHUB_REPOSITORY", "EXIT_CODE", "RUN_URL")
    if env is None:
        return 2
    repo, author = env["GITHUB_REPOSITORY"], os.environ.get("ISSUE_AUTHOR") or DEFAULT_AUTHOR
    existing = own_marked(open_issues(repo), marker(args.stack), author, "number")
    if env["EXIT_CODE"].strip() == "0":
        for number in existing:
            close(repo, number, f"No drift any more: {link(env['RUN_URL'])}.")
        return 0
    text = body(args.stack, args.output.read_text(errors="replace"), env["EXIT_CODE"], env["RUN_URL"])
    upsert(
        f"repos/{repo}/issues/{existing[0]}" if existing else None,
        f"repos/{repo}/issues",
        {"title": title(args.stack), "body": text},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
