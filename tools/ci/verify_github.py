"""`ml-pipelines verify-github --repo OWNER/NAME`: the repository's live settings, read through GitHub's REST API,
against what this repository commits (`.github/settings.json` and the rulesets it names): one line per setting
that falls short, exit 1 if any does.

    ml-pipelines verify-github --repo example-org/ml-pipelines
    python3 -m tools.ci.verify_github --repo "$GITHUB_REPOSITORY"     # what the prod deploy job runs first

What is read (REST API version 2022-11-28; a token needs, fine-grained: Metadata, Actions and Contents read, and
Administration read for the workflow permissions; a ruleset's bypass actors are shown only to a token that may
edit the ruleset, so the deploy job's token is an administrator's read-only one):
- `GET /repos/O/R/rulesets` and `/rulesets/{id}`: each committed ruleset, by name, as strict as the file:
  target, `active`, the refs it covers, no bypass actor the file does not list, every rule, each parameter
  (`true` stays true, a count is at least the file's, every required check from the same app);
- `GET /repos/O/R/environments/{name}` and `.../deployment-branch-policies`: each environment exists; one
  with `deploymentBranches` deploys from exactly those branches; one with `requiredReviewers` waits for a
  reviewer, never the one who started the run, and administrators may not bypass it;
- `GET /repos/O/R`: the default branch is `main` (what `~DEFAULT_BRANCH` covers and the roles trust);
- `GET /repos/O/R/actions/oidc/customization/sub`: the subject template the roles trust, keys in order;
- `GET /repos/O/R/actions/permissions/workflow`: the default token read-only, no workflow approving reviews;
- `GET /repos/O/R/codeowners/errors`: CODEOWNERS parses and names owners that exist.

The token: `GH_TOKEN` or `GITHUB_TOKEN`, else `gh auth token`. `GITHUB_API_URL` (set on GitHub's runners)
names another API host. Standard library only: the deploy job runs it with the runner's Python, before any
install and before any credential.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / ".github" / "settings.json"
API_VERSION = "2022-11-28"
UNREADABLE = object()
"""A response the token may not read (401, 403): a setting that cannot be shown to hold falls short."""

Fetch = Callable[[str], Any]
"""GET of an API path: the decoded JSON, None for 404, UNREADABLE for 401/403; anything else raises ApiError."""


class ApiError(Exception):
    """The API did not answer as documented: one line, exit 2."""


class SettingsError(Exception):
    """The committed settings are not what this tool reads: one line naming the file and the key, exit 2."""


def token() -> str:
    for key in ("GH_TOKEN", "GITHUB_TOKEN"):
        if os.environ.get(key):
            return os.environ[key]
    try:
        found = subprocess.run(["gh", "auth", "token"], capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        found = None
    if found is None or found.returncode != 0 or not found.stdout.strip():
        raise ApiError("no token: set GH_TOKEN (or GITHUB_TOKEN), or log in with `gh auth login`")
    return found.stdout.strip()


def http_fetch(secret: str, base: str) -> Fetch:
    """GitHub's REST API over HTTPS, the documented headers, JSON back."""

    def fetch(path: str) -> Any:
        request = urllib.request.Request(
            base.rstrip("/") + path,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {secret}",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "ml-pipelines-verify-github",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            if error.code in (401, 403):
                return UNREADABLE
            raise ApiError(f"GET {path}: HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise ApiError(f"GET {path}: {getattr(error, 'reason', error)}") from error

    return fetch


def load_settings(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The settings file and the rulesets it names (each as the REST API takes it)."""
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SettingsError(f"{path}: not readable JSON ({error})") from error
    expected = {"oidcSubjectClaimKeys": list, "workflowPermissions": dict, "rulesets": list, "environments": dict}
    for key, kind in expected.items():
        if not isinstance(settings.get(key), kind):
            raise SettingsError(f"{path}: {key}: expected a JSON {kind.__name__ if kind is dict else 'list'}")
    if not isinstance(settings.get("defaultBranch", "main"), str):
        raise SettingsError(f"{path}: defaultBranch: expected a branch name")
    rulesets = []
    for name in settings["rulesets"]:
        file = path.parent / str(name)
        try:
            ruleset = json.loads(file.read_text())
        except (OSError, ValueError) as error:
            raise SettingsError(f"{path}: rulesets: {name}: not readable JSON ({error})") from error
        if not isinstance(ruleset, dict) or not all(k in ruleset for k in ("name", "target", "rules")):
            raise SettingsError(f"{file}: expected a ruleset with name, target and rules (GitHub's REST shape)")
        rulesets.append(ruleset)
    for name, environment in settings["environments"].items():
        branches = environment.get("deploymentBranches") if isinstance(environment, dict) else []
        if not isinstance(environment, dict) or not (branches is None or isinstance(branches, list)):
            raise SettingsError(f"{path}: environments.{name}: expected deploymentBranches, a list or null")
    return settings, rulesets


def _parameters(kind: str, wanted: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """How a live rule's parameters fall short of the file's: a `true` not true, a count below, a check missing,
    any other value different."""
    short = []
    for key, value in wanted.items():
        have = live.get(key)
        if key == "required_status_checks":
            present = {(c.get("context"), c.get("integration_id")) for c in have or []}
            for check in value:
                if (check["context"], check.get("integration_id")) not in present:
                    app = f" from app {check['integration_id']}" if "integration_id" in check else ""
                    short.append(f"{kind}: required check {check['context']!r}{app} missing")
        elif value is True and have is not True:
            short.append(f"{kind}.{key} is {json.dumps(have)}, expected true")
        elif isinstance(value, int) and not isinstance(value, bool) and not (isinstance(have, int) and have >= value):
            short.append(f"{kind}.{key} is {json.dumps(have)}, expected at least {value}")
        elif not isinstance(value, (bool, int)) and have != value:
            short.append(f"{kind}.{key} is {json.dumps(have)}, expected {json.dumps(value)}")
    return short


def _ruleset(wanted: dict[str, Any], live: dict[str, Any]) -> list[str]:
    short = []
    for key, expected in (("target", wanted["target"]), ("enforcement", wanted.get("enforcement", "active"))):
        if live.get(key) != expected:
            short.append(f"{key} is {json.dumps(live.get(key))}, expected {json.dumps(expected)}")
    refs = (wanted.get("conditions") or {}).get("ref_name") or {}
    have = (live.get("conditions") or {}).get("ref_name") or {}
    missing = [r for r in refs.get("include", []) if r not in (have.get("include") or [])]
    extra = [r for r in have.get("exclude") or [] if r not in refs.get("exclude", [])]
    short += [f"does not cover {r}" for r in missing] + [f"excludes {r}" for r in extra]
    if "bypass_actors" not in live:
        short.append("bypass actors cannot be read with this token (a token that may edit the ruleset shows them)")
    else:
        allowed = wanted.get("bypass_actors", [])
        short += [f"bypass actor {json.dumps(a, sort_keys=True)}" for a in live["bypass_actors"] if a not in allowed]
    rules = {rule.get("type"): rule.get("parameters") or {} for rule in live.get("rules") or []}
    for rule in wanted["rules"]:
        if rule["type"] not in rules:
            short.append(f"no {rule['type']} rule")
        else:
            short += _parameters(rule["type"], rule.get("parameters") or {}, rules[rule["type"]])
    return short


def check_rulesets(fetch: Fetch, repo: str, rulesets: list[dict[str, Any]]) -> list[str]:
    listed = fetch(f"/repos/{repo}/rulesets?per_page=100&includes_parents=true")
    if listed is UNREADABLE or listed is None:
        return [f"ruleset {r['name']}: rulesets cannot be read with this token" for r in rulesets]
    short = []
    for wanted in rulesets:
        found = [item for item in listed if item.get("name") == wanted["name"]]
        if not found:
            short.append(f"ruleset {wanted['name']}: not set (apply .github/rulesets/{wanted['name']}.json)")
            continue
        gaps: list[str] = []
        for item in found:  # any ruleset of that name that is as strict as the file will do
            live = fetch(f"/repos/{repo}/rulesets/{item['id']}")
            gaps = ["cannot be read with this token"] if live in (None, UNREADABLE) else _ruleset(wanted, live)
            if not gaps:
                break
        short += [f"ruleset {wanted['name']}: {gap}" for gap in gaps]
    return short


def _reviewers(name: str, environment: dict[str, Any]) -> list[str]:
    rules = [r for r in environment.get("protection_rules") or [] if r.get("type") == "required_reviewers"]
    if not rules or not any(rule.get("reviewers") for rule in rules):
        return [f"environment {name}: no required reviewers"]
    short = []
    if not any(rule.get("prevent_self_review") is True for rule in rules):
        short.append(f"environment {name}: prevent_self_review is off (whoever started the run may approve it)")
    if environment.get("can_admins_bypass") is True:
        short.append(f"environment {name}: can_admins_bypass is on (administrators deploy without a review)")
    return short


def _branches(fetch: Fetch, repo: str, name: str, environment: dict[str, Any], wanted: list[str]) -> list[str]:
    policy = environment.get("deployment_branch_policy")
    if not policy or policy.get("custom_branch_policies") is not True or policy.get("protected_branches"):
        shown = json.dumps(policy)
        return [f"environment {name}: deployment branches are {shown}, expected only {', '.join(wanted)}"]
    listed = fetch(f"/repos/{repo}/environments/{name}/deployment-branch-policies?per_page=100")
    if listed in (None, UNREADABLE):
        return [f"environment {name}: deployment branch policies cannot be read with this token"]
    have = {(p.get("name"), p.get("type", "branch")) for p in listed.get("branch_policies") or []}
    extra = sorted(f"{kind} {n}" for n, kind in have if (n, kind) not in {(b, "branch") for b in wanted})
    missing = sorted(b for b in wanted if (b, "branch") not in have)
    return [f"environment {name}: also deploys from {e}" for e in extra] + [
        f"environment {name}: branch {m} may not deploy" for m in missing
    ]


def check_environments(fetch: Fetch, repo: str, environments: dict[str, Any]) -> list[str]:
    short = []
    for name, wanted in environments.items():
        live = fetch(f"/repos/{repo}/environments/{name}")
        if live is None:
            short.append(f"environment {name}: does not exist")
            continue
        if live is UNREADABLE:
            short.append(f"environment {name}: cannot be read with this token")
            continue
        if wanted.get("requiredReviewers"):
            short += _reviewers(name, live)
        if wanted.get("deploymentBranches") is not None:
            short += _branches(fetch, repo, name, live, wanted["deploymentBranches"])
    return short


def check_default_branch(fetch: Fetch, repo: str, settings: dict[str, Any]) -> list[str]:
    """`~DEFAULT_BRANCH` in a ruleset, and every `refs/heads/main` the roles trust, mean this branch."""
    found = fetch(f"/repos/{repo}")
    branch = settings.get("defaultBranch", "main")
    if found in (None, UNREADABLE):
        return ["default branch: the repository cannot be read with this token"]
    if found.get("default_branch") != branch:
        return [f"default branch: {json.dumps(found.get('default_branch'))}, expected {json.dumps(branch)}"]
    return []


def check_subject_template(fetch: Fetch, repo: str, settings: dict[str, Any]) -> list[str]:
    subject = fetch(f"/repos/{repo}/actions/oidc/customization/sub")
    keys = settings["oidcSubjectClaimKeys"]
    if subject in (None, UNREADABLE):
        return ["OIDC subject template: cannot be read (set it: docs/delivery.md)"]
    if subject.get("use_default") is not False or subject.get("include_claim_keys") != keys:
        shown = "GitHub's default" if subject.get("use_default") else json.dumps(subject.get("include_claim_keys"))
        return [f"OIDC subject template: {shown}, expected {json.dumps(keys)} (the roles trust only that)"]
    return []


def check_workflow_permissions(fetch: Fetch, repo: str, settings: dict[str, Any]) -> list[str]:
    permissions = fetch(f"/repos/{repo}/actions/permissions/workflow")
    if permissions in (None, UNREADABLE):
        return ["workflow permissions: cannot be read with this token (it needs Administration: read)"]
    return [
        f"workflow permissions: {key} is {json.dumps(permissions.get(key))}, expected {json.dumps(value)}"
        for key, value in settings["workflowPermissions"].items()
        if permissions.get(key) != value
    ]


def check_codeowners(fetch: Fetch, repo: str, settings: dict[str, Any]) -> list[str]:
    found = fetch(f"/repos/{repo}/codeowners/errors")
    if found is None:
        return ["CODEOWNERS: none on the default branch"]
    if found is UNREADABLE:
        return ["CODEOWNERS: its errors cannot be read with this token"]
    return [
        f"CODEOWNERS: {e.get('path')} line {e.get('line')}: {e.get('kind')}: {str(e.get('source', '')).strip()}"
        for e in found.get("errors") or []
    ]


REPOSITORY_CHECKS = (check_default_branch, check_subject_template, check_workflow_permissions, check_codeowners)
"""The settings of the repository as a whole, one each; rulesets and environments are one setting apiece."""


def shortfalls(fetch: Fetch, repo: str, settings: dict[str, Any], rulesets: list[dict[str, Any]]) -> list[str]:
    return [
        *check_rulesets(fetch, repo, rulesets),
        *check_environments(fetch, repo, settings["environments"]),
        *(line for check in REPOSITORY_CHECKS for line in check(fetch, repo, settings)),
    ]


def main(argv: list[str] | None = None) -> int:
    from tools.cli import Parser, UsageError

    parser = Parser(prog="ml-pipelines verify-github", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", required=True, help="OWNER/NAME")
    parser.add_argument("--settings", type=Path, default=SETTINGS, help="default: .github/settings.json")
    try:
        args = parser.parse_args(argv)
        if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", args.repo):
            raise UsageError(f"--repo: expected OWNER/NAME, got {args.repo!r}")
        settings, rulesets = load_settings(args.settings)
        fetch = http_fetch(token(), os.environ.get("GITHUB_API_URL") or "https://api.github.com")
        short = shortfalls(fetch, args.repo, settings, rulesets)
    except (UsageError, SettingsError, ApiError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in short:
        print(f"short: {line}")
    checked = len(rulesets) + len(settings["environments"]) + len(REPOSITORY_CHECKS)
    verdict = f"{len(short)} short" if short else "every setting holds"
    print(f"verify-github {args.repo}: {checked} settings checked, {verdict}")
    return 1 if short else 0


if __name__ == "__main__":
    raise SystemExit(main())
