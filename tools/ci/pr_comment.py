"""Post or update the pull request's comment for one stack's `pulumi preview` (one comment per stack).

    python -m tools.ci.pr_comment --stack NAME --output preview.txt

Run by .github/workflows/preview.yml with GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, HEAD_SHA and EXIT_CODE
in the environment. The comment starts with a hidden marker naming the stack; a later run finds it and
edits it (`gh api`, preinstalled on GitHub's runners) instead of adding another, but only a comment its own
identity wrote (COMMENT_AUTHOR, `github-actions[bot]` for the workflow's token): anyone can type the marker.
The preview's output goes in a code fence longer than any run of backticks it holds, so nothing in it can
close the fence and pass for the verdict; the verdict comes first; the whole stays under GitHub's limit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

# GitHub rejects comments over 65,536 characters; the end of a preview holds the policy results.
MAX_COMMENT = 65_536
MAX_OUTPUT = 60_000
DEFAULT_AUTHOR = "github-actions[bot]"


def marker(stack: str) -> str:
    return f"<!-- pulumi-preview:{_plain(stack)} -->"


def body(stack: str, output: str, exit_code: str, head_sha: str) -> str:
    """The comment: verdict, commit and config, then the diff and the policy results (the end, if long)."""
    # The exit code comes from the preview job's artifact, which the pull request's code could write: a number
    # or nothing, never text in the verdict line.
    code = exit_code.strip()
    if code == "0":
        verdict = "no mandatory policy violation"
    else:
        verdict = f"failed (exit code {code})" if re.fullmatch(r"[0-9]{1,3}", code) else "failed (no exit code)"
    head = [
        marker(stack),
        f"### `pulumi preview` of stack `{_plain(stack)}`: {verdict}",
        "",
        f"Commit {_plain(head_sha)}; policy pack `policies` with `policies/config/{_plain(stack)}.json`.",
        "",
        "<details><summary>Changes and policy results</summary>",
        "",
    ]
    return fenced(head, output, MAX_COMMENT, tail=["</details>"])


def fenced(head: list[str], output: str, limit: int, tail: list[str] | None = None) -> str:
    """`head`, then the longest end of `output` that fits in `limit` characters in a code fence it cannot close,
    then `tail`. The text only grows with what is kept (more output, a fence at least as long), so a binary
    search finds it; keeping nothing always fits."""
    low, high = 0, min(MAX_OUTPUT, len(output))
    while low < high:
        keep = (low + high + 1) // 2
        if len(_render(head, output, keep, tail or [])) <= limit:
            low = keep
        else:
            high = keep - 1
    return _render(head, output, low, tail or [])


def _render(head: list[str], output: str, keep: int, tail: list[str]) -> str:
    shown = output if len(output) <= keep else "...(start cut)\n" + (output[-keep:] if keep else "")
    # CommonMark closes a fence only with a run at least as long: one longer than any in the output holds.
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * max(4, longest + 1)
    return "\n".join([*head, fence, shown.rstrip("\n"), fence, *tail])


def _plain(value: str) -> str:
    """A value shown outside the fence: no Markdown or HTML can ride in on it."""
    return re.sub(r"[^A-Za-z0-9._/-]", "_", value)


def _gh(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(["gh", "api", *args], input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"error: gh api {args[0]}: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ci.pr_comment", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--output", type=Path, required=True, help="the captured output of pulumi preview")
    args = parser.parse_args(argv)
    env = {k: os.environ.get(k, "") for k in ("GITHUB_REPOSITORY", "PR_NUMBER", "HEAD_SHA", "EXIT_CODE")}
    missing = [k for k, v in env.items() if not v]
    if missing:
        print(f"error: set {', '.join(missing)} (the workflow passes them)", file=sys.stderr)
        return 2
    text = body(args.stack, args.output.read_text(errors="replace"), env["EXIT_CODE"], env["HEAD_SHA"])
    repo, number = env["GITHUB_REPOSITORY"], env["PR_NUMBER"]
    author = os.environ.get("COMMENT_AUTHOR") or DEFAULT_AUTHOR
    comments = json.loads(_gh(f"repos/{repo}/issues/{number}/comments", "--paginate", "--slurp"))
    existing = [
        c["id"]
        for page in comments
        for c in page
        if str(c.get("body", "")).startswith(marker(args.stack)) and (c.get("user") or {}).get("login") == author
    ]
    payload = json.dumps({"body": text})
    if existing:
        _gh(f"repos/{repo}/issues/comments/{existing[0]}", "--method", "PATCH", "--input", "-", stdin=payload)
    else:
        _gh(f"repos/{repo}/issues/{number}/comments", "--method", "POST", "--input", "-", stdin=payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
