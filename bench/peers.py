"""How this project's policy pack and three peer checkers judge the evasion variants of "grant all of SageMaker".

    .venv/bin/python -m bench.peers

The corpus is `VARIANTS` in tests/policies/access/variants.py: (name, document, flagged), flagged True when
the document grants every SageMaker action on every SageMaker resource (non-compliant), False when it is
compliant. Every tool sees every variant; the script prints, on stdout, one summary table (caught of the
non-compliant, false positives of the compliant, version, seconds), the per-variant table, and the rules below.

When each tool counts as having flagged a variant:

- this pack: the document, as JSON text, is the `policy` of an `aws:iam/rolePolicy:RolePolicy` on a role of a prod
  stack, analyzed as the CLI does (AnalyzeStack and Analyze) with policies/config/prod.json; flagged when
  `sagemaker-no-full-access-in-prod`, the rule measured here, is mandatory on it. The cell names every
  mandatory policy (a compliant variant can still be wider than least privilege, which another rule reports).
- Checkov: the document, decoded, is the PolicyDocument of an `AWS::IAM::Policy` attached to a role in one
  CloudFormation template per variant, all scanned by one `checkov --framework cloudformation` run; flagged
  when any check fails on that policy resource (they are all IAM checks). The cell lists the check IDs.
- Cloudsplaining: its `scan-policy-file` logic (`scan_policy`, default exclusions, default flags) on the decoded
  document; flagged when a ServiceWildcard, PrivilegeEscalation, DataExfiltration, ResourceExposure,
  CredentialsExposure or InfrastructureModification finding covers SageMaker, that is names an action or a
  service wildcard whose service prefix, read as an IAM glob, matches `sagemaker` (case-insensitively). Its
  findings on other services do not count: it reports a `s3:*` grant too, which is not what is measured here.
- parliament: `analyze_policy_string` on the JSON text with the community auditors (privilege escalation,
  permissions management, credentials exposure...), as `parliament --include-community-auditors` runs; flagged
  when a finding is left at severity MEDIUM or above after the CLI's own filter (`is_finding_filtered`). The cell
  lists the findings' issues.

A variant a tool cannot read (a document that is not JSON, a template Checkov cannot parse, a crash) counts as
neither caught nor flagged and is marked "unreadable" in its cell.

The peers are an optional bench extra, never imported by the pack or tools: each is imported (or run) only here,
and one that is not installed is skipped with the command that installs it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PACK_POLICY_TYPE = "aws:iam/rolePolicy:RolePolicy"
# The versions this script was written and run against. Newer Checkov releases pin packaging<24 and an old boto3,
# which this project's pulumi (packaging>=26) and botocore>=1.43 exclude: a bare `pip install checkov` would
# downgrade them, so the hint names the release that installs beside them.
INSTALL = {
    "checkov": "checkov==3.1.47",
    "cloudsplaining": "cloudsplaining>=0.9.1,<0.10",
    "parliament": "parliament>=1.6.4,<2",
}

Variant = tuple[str, Any, bool]


@dataclass(frozen=True)
class Verdict:
    """One tool's judgement of one variant: flagged, or None when the tool could not read it."""

    flagged: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Run:
    tool: str
    version: str
    verdicts: list[Verdict] | None  # None: the tool was skipped (not installed, or failed as a whole)
    seconds: float
    note: str = ""


def _pip_hint(requirement: str) -> str:
    venv = ROOT / ".venv"
    pip = ".venv/bin/pip" if Path(sys.prefix).resolve() == venv.resolve() else f"{sys.executable} -m pip"
    return f"{pip} install '{requirement}'"


def _installed(distribution: str, module: str) -> str | None:
    """The distribution's version when its module can be imported here, else None (never imports it)."""
    if importlib.util.find_spec(module) is None:
        return None
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _as_text(document: Any) -> str:
    # JSON text goes to the tools as written, escapes and all: that is what the evasion variants try.
    return document if isinstance(document, str) else json.dumps(document)


def _as_object(document: Any) -> Any:
    """The decoded document (CloudFormation and Cloudsplaining take objects); raises ValueError if not JSON."""
    return json.loads(document) if isinstance(document, str) else document


def _short(error: BaseException, limit: int = 80) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- this pack -------------------------------------------------------------------------------------------------
def _pack_version() -> str:
    import yaml

    try:
        version = str((yaml.safe_load((ROOT / "policies/PulumiPolicy.yaml").read_text()) or {}).get("version", ""))
    except (OSError, yaml.YAMLError, AttributeError):
        version = ""
    # The pack is being rewritten: name the commit, and say when policies/ differs from it.
    head = _git("rev-parse", "--short", "HEAD")
    if head:
        version += f" @ {head}{' + local changes' if _git('status', '--porcelain', '--', 'policies') else ''}"
    return version.strip() or "unknown"


def _git(*arguments: str) -> str:
    """git's output in the repository, or "" when git fails (no git, not a checkout)."""
    try:
        result = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


SAGEMAKER_RULE = "sagemaker-no-full-access-in-prod"


def judge_pack(variants: Sequence[Variant]) -> Run:
    # Only PolicyPack, StackResource, configure, analyze, close and the diagnostics' enforcement_level and
    # policy_name are relied on: the pack and its runner are being rewritten.
    from tools.offline_preview.analyzer import PolicyPack, StackResource

    started = time.perf_counter()
    pack = PolicyPack(ROOT / "policies", project="ml-pipelines", stack="prod", dry_run=True)
    verdicts: list[Verdict] = []
    false_positives: list[str] = []
    try:
        start = getattr(pack, "start", None)
        if callable(start):  # today's runner starts the pack's process explicitly; a rewrite may not
            start()
        pack.configure([ROOT / "policies/config/prod.json"])
        for name, document, expected in variants:
            urn = f"urn:pulumi:prod::ml-pipelines::{PACK_POLICY_TYPE}::subject"
            role_urn = "urn:pulumi:prod::ml-pipelines::aws:iam/role:Role::runner"
            policy = StackResource(urn, PACK_POLICY_TYPE, "subject", {"role": "runner", "policy": _as_text(document)})
            role = StackResource(role_urn, "aws:iam/role:Role", "runner", {"name": "runner"})
            try:
                found = pack.analyze_stack([role, policy]) + pack.analyze(policy)
            except Exception as error:  # a policy that raises fails the analysis of this resource only
                verdicts.append(Verdict(None, f"unreadable: {_short(error)}"))
                print(f"this pack: {name}: {_short(error, 300)}", file=sys.stderr)
                continue
            mandatory = sorted({d.policy_name for d in found if d.enforcement_level == "mandatory"})
            flagged = SAGEMAKER_RULE in mandatory
            verdicts.append(Verdict(flagged, ", ".join(f"`{p}`" for p in mandatory)))
            if flagged and not expected:
                false_positives.append(SAGEMAKER_RULE)
    finally:
        pack.close()
    # The rule counts every mandatory policy, not only the SageMaker one: say which policies the false positives
    # come from, so that a least-privilege finding on a compliant variant is not read as a SageMaker one.
    note = ", ".join(f"`{p}` ({false_positives.count(p)})" for p in sorted(set(false_positives)))
    note = f"the false positives are reported by {note}" if note else ""
    return Run("this pack (prod)", _pack_version(), verdicts, time.perf_counter() - started, note)


# -- Checkov ---------------------------------------------------------------------------------------------------
def _template(document: Any) -> dict[str, Any]:
    """An inline policy on a role, as the pack sees it (a RolePolicy): AWS::IAM::Policy needs a principal, and
    one attached to a role passes CKV_AWS_40, so only the document decides."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
            "Subject": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"PolicyName": "subject", "Roles": [{"Ref": "Role"}], "PolicyDocument": document},
            },
        },
    }


def judge_checkov(variants: Sequence[Variant], version: str) -> Run:
    started = time.perf_counter()
    verdicts: dict[int, Verdict] = {}
    with tempfile.TemporaryDirectory(prefix="peers-checkov-") as directory:
        files: dict[str, int] = {}
        for index, (_, document, _) in enumerate(variants):
            try:
                template = _template(_as_object(document))
            except ValueError as error:
                verdicts[index] = Verdict(None, f"unreadable: {_short(error)}")
                continue
            path = Path(directory, f"variant-{index:03d}.json")
            path.write_text(json.dumps(template, indent=2))
            files[str(path.resolve())] = index
        if not files:
            return Run("Checkov", version, [verdicts[i] for i in range(len(variants))], time.perf_counter() - started)
        # One run for all the templates: Checkov takes seconds to start. --skip-download and BC_SKIP_MAPPING
        # keep it offline (else it asks the Bridgecrew platform for its guidelines and logs a traceback).
        command = [sys.executable, "-m", "checkov.main", "--directory", directory, "--framework", "cloudformation"]
        command += ["--output", "json", "--skip-download"]
        environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
        result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600, check=False)
        # Exit code 1 means "some check failed"; anything else, or no JSON, is Checkov failing as a whole.
        try:
            report = json.loads(result.stdout) if result.returncode in (0, 1) else None
        except json.JSONDecodeError:
            report = None
        if report is None:
            detail = (result.stderr.strip().splitlines() or result.stdout.strip().splitlines() or ["no output"])[-1]
            note = f"checkov failed (exit {result.returncode}): {detail[:200]}"
            return Run("Checkov", version, None, time.perf_counter() - started, note)
        failed: dict[int, set[str]] = {}
        evaluated: set[int] = set()
        unparsed: set[int] = set()
        # A list when several frameworks ran; {"summary": ...} alone when nothing was scanned.
        for block in report if isinstance(report, list) else [report]:
            results = block.get("results", {})
            unparsed |= {files[p] for p in map(_resolved, results.get("parsing_errors", [])) if p in files}
            for outcome in ("passed_checks", "failed_checks"):
                for check in results.get(outcome, []):
                    found = files.get(_resolved(str(check.get("file_abs_path", ""))))
                    # The role is scaffolding, the same in every template: only the policy's checks count.
                    if found is None or not str(check.get("resource", "")).startswith("AWS::IAM::Policy."):
                        continue
                    evaluated.add(found)
                    if outcome == "failed_checks":
                        failed.setdefault(found, set()).add(str(check.get("check_id")))
        for index in files.values():
            if index in unparsed:
                verdicts[index] = Verdict(None, "unreadable: Checkov could not parse the template")
            elif index not in evaluated:
                verdicts[index] = Verdict(None, "unreadable: no check ran on the policy")
            else:
                checks = sorted(failed.get(index, ()), key=_check_order)
                verdicts[index] = Verdict(bool(checks), ", ".join(checks))
    ordered = [verdicts[i] for i in range(len(variants))]
    return Run("Checkov", version, ordered, time.perf_counter() - started)


def _resolved(path: str) -> str:
    return str(Path(path).resolve()) if path else ""


def _check_order(check_id: str) -> tuple[str, int]:
    prefix, _, number = check_id.rpartition("_")
    return (prefix, int(number)) if number.isdigit() else (check_id, 0)


# -- Cloudsplaining --------------------------------------------------------------------------------------------
CLOUDSPLAINING_RISKS = (
    "ServiceWildcard",
    "PrivilegeEscalation",
    "DataExfiltration",
    "ResourceExposure",
    "CredentialsExposure",
    "InfrastructureModification",
)


def _covers_sagemaker(action_or_service: str) -> bool:
    service = action_or_service.partition(":")[0].lower()
    return fnmatch.fnmatchcase("sagemaker", service)


def judge_cloudsplaining(variants: Sequence[Variant], version: str) -> Run:
    started = time.perf_counter()
    from cloudsplaining.command.scan_policy_file import scan_policy

    verdicts: list[Verdict] = []
    for name, document, _ in variants:
        try:
            policy = _as_object(document)
            # It prints notes (NotAction) to stdout and logs; keep this script's stdout the report.
            with contextlib.redirect_stdout(io.StringIO()):
                results = scan_policy(policy)
        except Exception as error:
            verdicts.append(Verdict(None, f"unreadable: {_short(error)}"))
            print(f"cloudsplaining: {name}: {_short(error, 300)}", file=sys.stderr)
            continue
        covered: list[str] = []
        for risk in CLOUDSPLAINING_RISKS:
            findings = (results.get(risk) or {}).get("findings") or []
            # Privilege escalation findings are {"type": ..., "actions": [...]}; the others, action names (or,
            # for ServiceWildcard, service prefixes).
            names = [
                action
                for finding in findings
                for action in (finding.get("actions", []) if isinstance(finding, dict) else [finding])
            ]
            hits = [n for n in names if isinstance(n, str) and _covers_sagemaker(n)]
            if hits:
                covered.append(risk if risk == "ServiceWildcard" else f"{risk} ({len(hits)})")
        verdicts.append(Verdict(bool(covered), ", ".join(covered)))
    return Run("Cloudsplaining", version, verdicts, time.perf_counter() - started)


# -- parliament ------------------------------------------------------------------------------------------------
def judge_parliament(variants: Sequence[Variant], version: str) -> Run:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it imports pkg_resources, deprecated in recent setuptools
        import parliament
        from parliament.cli import is_finding_filtered

    # As `--include-community-auditors` does: their findings' severities come from this override file.
    override = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
    if override.is_file():
        parliament.override_config(str(override))
    verdicts: list[Verdict] = []
    for name, document, _ in variants:
        try:
            policy = parliament.analyze_policy_string(
                _as_text(document), include_community_auditors=True, config=parliament.config
            )
            findings = [parliament.enhance_finding(f) for f in policy.findings]
        except Exception as error:
            verdicts.append(Verdict(None, f"unreadable: {_short(error)}"))
            print(f"parliament: {name}: {_short(error, 300)}", file=sys.stderr)
            continue
        kept = sorted({f"{f.issue} ({f.severity})" for f in findings if not is_finding_filtered(f, "MEDIUM")})
        verdicts.append(Verdict(bool(kept), ", ".join(kept)))
    return Run("parliament", version, verdicts, time.perf_counter() - started)


# -- report ----------------------------------------------------------------------------------------------------
PEERS: list[tuple[str, str, str, Callable[[Sequence[Variant], str], Run]]] = [
    # (tool, distribution, module, judge)
    ("Checkov", "checkov", "checkov", judge_checkov),
    ("Cloudsplaining", "cloudsplaining", "cloudsplaining", judge_cloudsplaining),
    ("parliament", "parliament", "parliament", judge_parliament),
]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _count(run: Run, variants: Sequence[Variant], expected: bool) -> str:
    if run.verdicts is None:
        return "failed" if run.note else "skipped"  # a note says why it failed; a peer not installed has none
    pairs = [(v, f) for v, (_, _, f) in zip(run.verdicts, variants, strict=True) if f is expected]
    flagged = sum(1 for v, _ in pairs if v.flagged)
    unreadable = sum(1 for v, _ in pairs if v.flagged is None)
    return f"{flagged}" + (f" ({unreadable} unreadable)" if unreadable else "")


def _verdict_cell(verdict: Verdict, expected: bool) -> str:
    if verdict.flagged is None:
        return _cell(verdict.detail)
    if verdict.flagged:
        word = "**caught**" if expected else "**false positive**"
        return _cell(f"{word}: {verdict.detail}" if verdict.detail else word)
    return "missed" if expected else "passes"


def report(variants: Sequence[Variant], runs: list[Run]) -> None:
    bad = sum(1 for *_, flagged in variants if flagged)
    good = len(variants) - bad
    print(f"# Peers on the evasion variants of full SageMaker access ({len(variants)} variants)\n")
    print(f"| Tool | Version | Caught (of {bad} non-compliant) | False positives (of {good} compliant) | Seconds |")
    print("| --- | --- | --- | --- | --- |")
    for run in runs:
        seconds = f"{run.seconds:.1f}" if run.verdicts is not None else "-"
        caught, false = _count(run, variants, True), _count(run, variants, False)
        print(f"| {run.tool} | {_cell(run.version)} | {caught} | {false} | {seconds} |")
    for run in runs:
        if run.note:
            print(f"\n{run.tool}: {run.note}")
    judged = [run for run in runs if run.verdicts is not None]
    print("\n| Variant | Non-compliant | " + " | ".join(run.tool for run in judged) + " |")
    print("| --- | --- |" + " --- |" * len(judged))
    for index, (name, _, flagged) in enumerate(variants):
        cells = [_verdict_cell(run.verdicts[index], flagged) for run in judged if run.verdicts is not None]
        print(f"| {_cell(name)} | {'yes' if flagged else 'no'} | " + " | ".join(cells) + " |")
    print(
        "\nRules (bench/peers.py): the pack, sagemaker-no-full-access-in-prod mandatory; Checkov, any failed check on"
        " the AWS::IAM::Policy; Cloudsplaining, a risk finding that covers SageMaker; parliament (community"
        " auditors on), any finding of severity MEDIUM or above."
    )


def main() -> int:
    try:
        from tests.policies.access.variants import VARIANTS
    except Exception as error:  # the corpus is the tests' list: without it there is nothing to measure
        print(f"cannot import VARIANTS from tests.policies.access.variants: {_short(error, 300)}", file=sys.stderr)
        return 1
    variants: list[Variant] = [(str(name), document, bool(flagged)) for name, document, flagged in VARIANTS]
    # Peers log through the root logger (policy_sentry, cloudsplaining); their chatter is not the report.
    logging.disable(logging.WARNING)

    try:
        runs = [judge_pack(variants)]
    except Exception as error:  # e.g. the pack does not start mid-rewrite: still show the peers, then fail
        runs = [Run("this pack (prod)", _pack_version(), None, 0.0, f"failed: {_short(error, 300)}")]
    for tool, distribution, module, judge in PEERS:
        version = _installed(distribution, module)
        if version is None:
            print(f"{tool} is not installed, skipped: {_pip_hint(INSTALL[distribution])}")
            runs.append(Run(tool, "not installed", None, 0.0))
            continue
        try:
            runs.append(judge(variants, version))
        except Exception as error:  # one peer failing as a whole (an API it changed) must not hide the others
            runs.append(Run(tool, version, None, 0.0, f"failed: {_short(error, 300)}"))
    report(variants, runs)
    # The pack is what is measured: a report without it is not a result.
    return 0 if runs[0].verdicts is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
