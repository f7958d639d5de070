"""Post or update the pull request's comment for one stack's `pulumi preview` (one comment per stack).

    python -m tools.ci.pr_comment --stack NAME --output preview.txt

Run by .github/workflows/preview.yml with GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, HEAD_SHA and EXIT_CODE
in the environment; with GITHUB_STEP_SUMMARY set (as in GitHub Actions) it also writes the comment there.
The comment starts with a hidden marker naming the stack; a later run finds it and
edits it (`gh api`, preinstalled on GitHub's runners) instead of adding another, but only a comment its own
identity wrote (COMMENT_AUTHOR, `github-actions[bot]` for the workflow's token): anyone can type the marker.
The preview's output goes in a code fence longer than any run of backticks it holds, so nothing in it can
close the fence and pass for the verdict; the verdict comes first; the whole stays under GitHub's limit.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from tools.ci.github import DEFAULT_AUTHOR, MAX_COMMENT, MAX_OUTPUT, fenced, gh, own_marked, plain, required_env, upsert
from tools.ci.github import exit_code as read_exit_code

__all__ = ["MAX_COMMENT", "MAX_OUTPUT", "body", "main", "marker"]


def marker(stack: str) -> str:
    return f"<!-- pulumi-preview:{plain(stack)} -->"


def body(stack: str, output: str, exit_code: str, head_sha: str) -> str:
    """The comment: verdict, commit and config, then the diff and the policy results (the end, if long)."""
    code = read_exit_code(exit_code)
    if code == "0":
        verdict = "no mandatory policy violation"
    else:
        verdict = f"failed (exit code {code})" if code else "failed (no exit code)"
    head = [
        marker(stack),
        f"### `pulumi preview` of stack `{plain(stack)}`: {verdict}",
        "",
        f"Commit {plain(head_sha)}; policy pack `policies` with `policies/config/{plain(stack)}.json`.",
        "",
        "<details><summary>Changes and policy results</summary>",
        "",
    ]
    return fenced(head, output, tail=["</details>"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ci.pr_comment", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--output", type=Path, required=True, help="the captured output of pulumi preview")
    args = parser.parse_args(argv)
    env = required_env("GITHUB_REPOSITORY", "PR_NUMBER", "HEAD_SHA", "EXIT_CODE")
    if env is None:
        return 2
    text = body(args.stack, args.output.read_text(errors="replace"), env["EXIT_CODE"], env["HEAD_SHA"])
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # the run's page shows the same verdict and output as the comment
        with open(summary, "a", encoding="utf-8") as stream:
            stream.write(text + "\n")
    repo, number = env["GITHUB_REPOSITORY"], env["PR_NUMBER"]
    author = os.environ.get("COMMENT_AUTHOR") or DEFAULT_AUTHOR
    comments = json.loads(gh(f"repos/{repo}/issues/{number}/comments", "--paginate", "--slurp"))
    existing = own_marked(comments, marker(args.stack), author, "id")
    upsert(
        f"repos/{repo}/issues/comments/{existing[0]}" if existing else None,
        f"repos/{repo}/issues/{number}/comments",
        {"body": text},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
