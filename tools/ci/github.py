"""What the workflow tools share: `gh api`, values made plain for Markdown, output in a fence it cannot close,
the workflow's environment, and finding the one item (comment or issue) this tool's identity wrote.

Standard library only: the jobs that hold a write token run these with the runner's Python, installing nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

# GitHub rejects comment and issue bodies over 65,536 characters; the end of a preview holds the results.
MAX_COMMENT = 65_536
MAX_OUTPUT = 60_000
DEFAULT_AUTHOR = "github-actions[bot]"
"""The login of the workflow's GITHUB_TOKEN: the only author whose marked items are edited."""


def plain(value: str) -> str:
    """A value shown outside the fence: no Markdown or HTML can ride in on it."""
    return re.sub(r"[^A-Za-z0-9._/-]", "_", value)


def exit_code(value: str) -> str | None:
    """The exit code a job left in its artifact, which the pull request's or the program's code could have
    written: a number of 1-3 digits, or None; never text for a verdict line."""
    code = value.strip()
    return code if re.fullmatch(r"[0-9]{1,3}", code) else None


def gh(*args: str, stdin: str | None = None) -> str:
    """`gh api ARGS` (preinstalled on GitHub's runners); a failure is one line."""
    result = subprocess.run(["gh", "api", *args], input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"error: gh api {args[0]}: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout


def send(method: str, path: str, payload: dict[str, Any]) -> str:
    """`gh api PATH --method METHOD` with a JSON body."""
    return gh(path, "--method", method, "--input", "-", stdin=json.dumps(payload))


def upsert(existing: str | None, create: str, payload: dict[str, Any]) -> None:
    """Edit the item at `existing` (this tool's own, found by `own_marked`), or create one at `create`."""
    if existing is not None:
        send("PATCH", existing, payload)
    else:
        send("POST", create, payload)


def required_env(*keys: str) -> dict[str, str] | None:
    """The workflow's values, or None after one line naming those missing."""
    env = {k: os.environ.get(k, "") for k in keys}
    missing = [k for k, v in env.items() if not v]
    if missing:
        print(f"error: set {', '.join(missing)} (the workflow passes them)", file=sys.stderr)
        return None
    return env


def link(value: str) -> str:
    """A run's address, shown as is: a URL's characters only."""
    return re.sub(r"[^A-Za-z0-9._/:-]", "_", value)


def open_issues(repo: str) -> list[list[dict[str, Any]]]:
    """Every open issue of the repository, as pages (`own_marked_items` reads them)."""
    return json.loads(gh(f"repos/{repo}/issues?state=open&per_page=100", "--paginate", "--slurp"))


def close(repo: str, number: int, note: str) -> None:
    """Comment why, then close."""
    send("POST", f"repos/{repo}/issues/{number}/comments", {"body": note})
    send("PATCH", f"repos/{repo}/issues/{number}", {"state": "closed"})


def own_marked_items(pages: Iterable[list[dict[str, Any]]], marker: str, author: str) -> list[dict[str, Any]]:
    """The items (a `--paginate --slurp` listing) that start with `marker` and that `author` wrote: anyone can
    type the marker. Pull requests in an issue listing are skipped. `marker` may be a prefix shared by a family
    of markers (one account's audit issues), each item then told apart by its own first line."""
    return [
        item
        for page in pages
        for item in page
        if "pull_request" not in item
        and str(item.get("body") or "").startswith(marker)
        and (item.get("user") or {}).get("login") == author
    ]


def own_marked(pages: Iterable[list[dict[str, Any]]], marker: str, author: str, key: str) -> list[Any]:
    """`key` of the items `own_marked_items` finds."""
    return [item[key] for item in own_marked_items(pages, marker, author)]


_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def redact(text: str) -> str:
    """What a preview or a drift check prints, fit for a public comment or issue: AWS account IDs (twelve digits)
    and e-mail addresses (the stack file's alarm addresses) replaced."""
    return _ACCOUNT.sub("<account>", _EMAIL.sub("<e-mail>", text))


def fenced(head: list[str], output: str, limit: int = MAX_COMMENT, tail: list[str] | None = None) -> str:
    """`head`, then the longest end of `output` (redacted) that fits in `limit` characters in a code fence it
    cannot close, then `tail`. The text only grows with what is kept (more output, a fence at least as long), so a
    binary search finds it; keeping nothing always fits."""
    output = redact(output)
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
