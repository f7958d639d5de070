"""`ml-pipelines verify-github`: the live settings against the committed ones, read over HTTP from a local server
that answers with recorded responses (`github_api.json`, shaped as GitHub documents each endpoint); each test
breaks one setting the way an administrator could, and reads the line that names it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tools.ci import verify_github

RECORDED = json.loads((Path(__file__).parent / "github_api.json").read_text())["responses"]
REPO = "/repos/example-org/ml-pipelines"


class Status:
    def __init__(self, code: int) -> None:
        self.code = code


class Server:
    """The recorded responses, a copy per test, served at `url`; `seen` holds each request's path and headers."""

    def __init__(self) -> None:
        self.responses: dict[str, Any] = copy.deepcopy(RECORDED)
        self.seen: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                found = server.responses.get(self.path.split("?", 1)[0], Status(404))
                code = found.code if isinstance(found, Status) else 200
                body = json.dumps({"message": "Not Found"} if isinstance(found, Status) else found).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    server = Server()
    thread = threading.Thread(target=server.http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GH_TOKEN", "recorded-token")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    yield server
    server.http.shutdown()


def run(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str], str]:
    code = verify_github.main(["--repo", "example-org/ml-pipelines", *extra])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_a_repository_set_as_the_files_say_passes_and_every_setting_is_read(
    github: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = run(capsys)
    assert (code, err) == (0, "")
    assert lines == ["verify-github example-org/ml-pipelines: 12 settings checked, every setting holds"]
    paths = {path.split("?", 1)[0] for path, _ in github.seen}
    assert paths == set(RECORDED)  # each recorded endpoint asked, nothing else
    for _, headers in github.seen:
        assert headers["authorization"] == "Bearer recorded-token"
        assert headers["x-github-api-version"] == "2022-11-28"
        assert headers["accept"] == "application/vnd.github+json"


def _rule(ruleset: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(rule for rule in ruleset["rules"] if rule["type"] == kind)


def _checks(ruleset: dict[str, Any]) -> list[dict[str, Any]]:
    return _rule(ruleset, "required_status_checks")["parameters"]["required_status_checks"]


MAIN, TAGS = f"{REPO}/rulesets/42", f"{REPO}/rulesets/314"
PROD = f"{REPO}/environments/prod"
Break = Callable[[dict[str, Any]], None]
BROKEN: list[tuple[str, Break, str]] = [
    ("no main ruleset", lambda r: r.__setitem__(f"{REPO}/rulesets", r[f"{REPO}/rulesets"][1:]),
     "ruleset main: not set (apply .github/rulesets/main.json)"),
    ("main only evaluated", lambda r: r[MAIN].__setitem__("enforcement", "evaluate"),
     'ruleset main: enforcement is "evaluate", expected "active"'),
    ("main on another branch", lambda r: r[MAIN]["conditions"]["ref_name"].__setitem__("include", ["refs/heads/x"]),
     "ruleset main: does not cover ~DEFAULT_BRANCH"),
    ("an admin may bypass main",
     lambda r: r[MAIN].__setitem__("bypass_actors", [{"actor_id": 5, "actor_type": "RepositoryRole",
                                                       "bypass_mode": "always"}]),
     'ruleset main: bypass actor {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}'),
    ("bypass actors hidden from the token", lambda r: r[MAIN].pop("bypass_actors"),
     "ruleset main: bypass actors cannot be read with this token (a token that may edit the ruleset shows them)"),
    ("force pushes allowed", lambda r: r[MAIN]["rules"].remove(_rule(r[MAIN], "non_fast_forward")),
     "ruleset main: no non_fast_forward rule"),
    ("stale approvals kept", lambda r: _rule(r[MAIN], "pull_request")["parameters"].__setitem__(
        "dismiss_stale_reviews_on_push", False),
     "ruleset main: pull_request.dismiss_stale_reviews_on_push is false, expected true"),
    ("the last pusher approves", lambda r: _rule(r[MAIN], "pull_request")["parameters"].__setitem__(
        "require_last_push_approval", False),
     "ruleset main: pull_request.require_last_push_approval is false, expected true"),
    ("no code owner review", lambda r: _rule(r[MAIN], "pull_request")["parameters"].__setitem__(
        "require_code_owner_review", False),
     "ruleset main: pull_request.require_code_owner_review is false, expected true"),
    ("no approval needed", lambda r: _rule(r[MAIN], "pull_request")["parameters"].__setitem__(
        "required_approving_review_count", 0),
     "ruleset main: pull_request.required_approving_review_count is 0, expected at least 1"),
    ("a check dropped", lambda r: _checks(r[MAIN]).pop(),
     "ruleset main: required_status_checks: required check 'preview prod' from app 15368 missing"),
    ("a check any app may post", lambda r: _checks(r[MAIN])[0].pop("integration_id"),
     "ruleset main: required_status_checks: required check 'lint, typecheck, test, plan' from app 15368 missing"),
    ("tags may move", lambda r: r[TAGS]["rules"].remove(_rule(r[TAGS], "update")),
     "ruleset tags: no update rule"),
    ("no prod environment", lambda r: r.pop(PROD), "environment prod: does not exist"),
    ("prod without reviewers", lambda r: r[PROD].__setitem__("protection_rules", r[PROD]["protection_rules"][:1]),
     "environment prod: no required reviewers"),
    ("prod self-approved", lambda r: r[PROD]["protection_rules"][1].__setitem__("prevent_self_review", False),
     "environment prod: prevent_self_review is off (whoever started the run may approve it)"),
    ("admins bypass prod", lambda r: r[PROD].__setitem__("can_admins_bypass", True),
     "environment prod: can_admins_bypass is on (administrators deploy without a review)"),
    ("prod from any branch", lambda r: r[PROD].__setitem__("deployment_branch_policy", None),
     "environment prod: deployment branches are null, expected only main"),
    ("prod from protected branches", lambda r: r[PROD].__setitem__(
        "deployment_branch_policy", {"protected_branches": True, "custom_branch_policies": False}),
     'environment prod: deployment branches are {"protected_branches": true, "custom_branch_policies": false}, '
     "expected only main"),
    ("staging from a release pattern", lambda r: r[f"{REPO}/environments/staging/deployment-branch-policies"][
        "branch_policies"].append({"id": 9, "node_id": "x", "name": "release/*", "type": "branch"}),
     "environment staging: also deploys from branch release/*"),
    ("dev from a tag named main", lambda r: r[f"{REPO}/environments/dev/deployment-branch-policies"][
        "branch_policies"].append({"id": 10, "node_id": "y", "name": "main", "type": "tag"}),
     "environment dev: also deploys from tag main"),
    ("no preview environment", lambda r: r.pop(f"{REPO}/environments/preview-prod"),
     "environment preview-prod: does not exist"),
    ("the default branch renamed", lambda r: r[REPO].__setitem__("default_branch", "develop"),
     'default branch: "develop", expected "main"'),
    ("default OIDC subject", lambda r: r[f"{REPO}/actions/oidc/customization/sub"].__setitem__("use_default", True),
     'OIDC subject template: GitHub\'s default, expected ["repo", "context", "ref", "job_workflow_ref"] '
     "(the roles trust only that)"),
    ("OIDC keys reordered", lambda r: r[f"{REPO}/actions/oidc/customization/sub"]["include_claim_keys"].reverse(),
     'OIDC subject template: ["job_workflow_ref", "ref", "context", "repo"], expected '
     '["repo", "context", "ref", "job_workflow_ref"] (the roles trust only that)'),
    ("write token by default", lambda r: r[f"{REPO}/actions/permissions/workflow"].__setitem__(
        "default_workflow_permissions", "write"),
     'workflow permissions: default_workflow_permissions is "write", expected "read"'),
    ("workflows approve pull requests", lambda r: r[f"{REPO}/actions/permissions/workflow"].__setitem__(
        "can_approve_pull_request_reviews", True),
     "workflow permissions: can_approve_pull_request_reviews is true, expected false"),
    ("workflow permissions need an admin token", lambda r: r.__setitem__(
        f"{REPO}/actions/permissions/workflow", Status(403)),
     "workflow permissions: cannot be read with this token (it needs Administration: read)"),
    ("the placeholder team left in CODEOWNERS", lambda r: r[f"{REPO}/codeowners/errors"]["errors"].append(
        {"line": 9, "column": 12, "kind": "Unknown owner", "source": "/.github/ @example-org/platform-admins\n",
         "suggestion": None, "message": "Unknown owner on line 9", "path": ".github/CODEOWNERS"}),
     "CODEOWNERS: .github/CODEOWNERS line 9: Unknown owner: /.github/ @example-org/platform-admins"),
    ("no CODEOWNERS", lambda r: r.pop(f"{REPO}/codeowners/errors"), "CODEOWNERS: none on the default branch"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "broken", "line"), BROKEN, ids=[case for case, _, _ in BROKEN])
def test_each_setting_that_falls_short_is_one_line_and_exit_1(
    github: Server, capsys: pytest.CaptureFixture[str], case: str, broken: Break, line: str
) -> None:
    broken(github.responses)
    code, lines, err = run(capsys)
    assert (code, err) == (1, "")
    assert lines == [f"short: {line}", "verify-github example-org/ml-pipelines: 12 settings checked, 1 short"]


def test_a_stricter_repository_than_the_files_passes(github: Server, capsys: pytest.CaptureFixture[str]) -> None:
    """More reviewers, more checks, an extra rule, thread resolution required: nothing falls short."""
    main = github.responses[MAIN]
    _rule(main, "pull_request")["parameters"].update(required_approving_review_count=2,
                                                      required_review_thread_resolution=True)  # fmt: skip
    _checks(main).append({"context": "codeql", "integration_id": 57789})
    main["rules"].append({"type": "required_linear_history"})
    assert run(capsys)[0] == 0


def test_bad_input_is_one_line_and_exit_2(
    github: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert verify_github.main(["--repo", "not-a-repo"]) == 2
    assert capsys.readouterr().err == "error: --repo: expected OWNER/NAME, got 'not-a-repo'\n"
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({**json.loads(verify_github.SETTINGS.read_text()), "environments": []}))
    assert run(capsys, "--settings", str(settings))[0] == 2
    assert capsys.readouterr().err == ""  # run() already read it: check the message through a second call
    verify_github.main(["--repo", "o/r", "--settings", str(settings)])
    assert capsys.readouterr().err == f"error: {settings}: environments: expected a JSON dict\n"
    github.responses[f"{REPO}/rulesets"] = Status(500)
    code, lines, err = run(capsys)
    assert (code, lines, err) == (2, [], "error: GET /repos/example-org/ml-pipelines/rulesets?per_page=100"
                                         "&includes_parents=true: HTTP 500\n")  # fmt: skip
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `gh` either
    code, lines, err = run(capsys)
    assert (code, err) == (2, "error: no token: set GH_TOKEN (or GITHUB_TOKEN), or log in with `gh auth login`\n")


def test_the_command_runs_from_the_checkout_with_the_runners_python_alone(github: Server) -> None:
    """What the prod deploy job runs, before any install: `python3 -m tools.ci.verify_github`, no dependency."""
    result = subprocess.run(
        [sys.executable, "-S", "-m", "tools.ci.verify_github", "--repo", "example-org/ml-pipelines"],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={"GITHUB_API_URL": github.url, "GH_TOKEN": "t", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith("every setting holds\n")
