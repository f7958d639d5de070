"""The pack's rules over an account's IAM: every principal as `ml-pipelines audit-account` judges it.

The principals and policies of `aws iam get-account-authorization-details` become the model the pack's stack
policies read (`details.inventory`), and the same functions those policies report from decide here
(`full_access_findings`, `escalation_findings`, `passrole_findings`, `reach_findings`, `trust_findings`,
`gap_findings`), with the same config: each rule's level and settings from the pack config, reconciled as the
engine reconciles it (`tools/offline_preview/policy_config.py`). What differs from a stack:
- nothing in the account is the stack's own: an escalation action counts as safe only on what the config's
  `deployedResources` names (the resources other stacks' previews hold to the pack), never on a resource merely
  because it exists in the account;
- every principal is read as the account holds it, with its permissions boundary (`policies/access/boundary.py`);
- a finding's principal is an ARN, and its message names policies as IAM does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.access.document import DocumentError, Statement, parse
from policies.access.principals import Gap, Model, collect
from policies.access.reach import Own
from policies.data_reach import reach_findings
from policies.escalation import escalation_findings
from policies.framework import Finding
from policies.iam import full_access_findings, gap_findings
from policies.passrole import passrole_findings
from policies.trust import trust_findings, trust_settings
from tools.audit.details import Details, Names, aws_managed, default_document, inventory
from tools.offline_preview.policy_config import PackInfo, PolicyConfig, PolicyInfo, reconcile

PACK = Path(__file__).resolve().parents[2] / "policies"

Rule = Callable[[Model, Mapping[str, Any]], Iterator[Finding]]
RULES: dict[str, Rule] = {
    "sagemaker-no-full-access-in-prod": lambda found, _: full_access_findings(found),
    "iam-no-privilege-escalation": lambda found, config: escalation_findings(
        found,
        Own(frozenset(), frozenset()).with_config(
            config.get("deployedResources", []), config.get("allowedAccounts", [])
        ),
    ),
    "iam-passrole-scoped": lambda found, config: passrole_findings(found, config.get("allowedRoles", [])),
    "iam-no-data-plane-reach": lambda found, _: reach_findings(found),
    "iam-trust-restricted": lambda found, config: trust_findings(found, trust_settings(config)),
    "iam-attached-policies-checked": lambda found, _: gap_findings(found),
}
"""The pack's rules an account is audited with, by policy name: full SageMaker access, privilege escalation,
PassRole reach, data-plane reach, trust open to outsiders, and grants that cannot be judged (fail closed)."""


@dataclass(frozen=True)
class AuditFinding:
    principal: str
    """The ARN of the principal (or customer-managed policy) the finding is on."""
    policy_name: str
    enforcement_level: str
    message: str
    witness: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "policyName": self.policy_name,
            "enforcementLevel": self.enforcement_level,
            "message": self.message,
            "witness": self.witness,
        }


@dataclass(frozen=True)
class Audit:
    account: str | None
    principals: int
    """Users, groups and roles judged."""
    findings: list[AuditFinding]

    @property
    def mandatory(self) -> bool:
        return any(f.enforcement_level == "mandatory" for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "principals": self.principals,
            "findings": [f.as_json() for f in self.findings],
        }


def pack_info() -> PackInfo:
    """What the pack's GetAnalyzerInfo says, read in this process: each policy's level and config schema."""
    import yaml
    from pulumi_policy import EnforcementLevel

    from policies.catalog import PACK_NAME, POLICIES

    manifest = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text(encoding="utf-8")) or {}
    policies = tuple(
        PolicyInfo(
            policy.name,
            (policy.enforcement_level or EnforcementLevel.MANDATORY).value,
            dict(policy.config_schema.properties) if policy.config_schema else None,
            tuple(policy.config_schema.required or ()) if policy.config_schema else (),
        )
        for policy in POLICIES
    )
    return PackInfo(PACK_NAME, str(manifest.get("version", "")), policies)


def settings(configs: list[Mapping[str, PolicyConfig]]) -> dict[str, PolicyConfig]:
    """The rules' levels and settings: the pack's defaults (prod's levels), then each config given, validated as
    the engine validates them (`ConfigError` lists every error)."""
    return reconcile(pack_info(), configs)


def model_of(details: Details) -> tuple[Model, Names]:
    """The account's grant model, its principals within their boundaries, and what its names stand for."""
    resources, names = inventory(details)
    found = collect(resources, (), aws_managed(details))
    _boundaries(details, found, names)
    return found, names


def audit(details: Details, config: Mapping[str, PolicyConfig]) -> Audit:
    """Every principal of the account judged by each rule the config does not disable."""
    found, names = model_of(details)
    findings: list[AuditFinding] = []
    whole = details.account or "the account"  # what a finding on no one principal is on
    for name, rule in RULES.items():
        level = config[name].enforcement_level
        if level == "disabled":
            continue
        for finding in rule(found, config[name].properties or {}):
            principal = names.owner.get(finding.urn or "", whole)
            if principal in names.service_linked:
                continue  # AWS's to keep: nothing the account can change (details.service_linked)
            findings.append(
                AuditFinding(
                    principal, name, level, _words(finding.message, names), _witness(finding, principal, names, found)
                )
            )
    principals = len(details.users) + len(details.groups) + len(details.roles)
    return Audit(details.account, principals, _one_per_principal_and_rule(findings))


def _one_per_principal_and_rule(findings: list[AuditFinding]) -> list[AuditFinding]:
    """One finding per principal and rule, sorted: where a rule finds several things on one principal (two
    PassRole statements, two trust statements), the first (by message) leads and the others follow in its
    witness (`more`: each one's message and witness)."""
    grouped: dict[tuple[str, str], list[AuditFinding]] = {}
    for finding in sorted(findings, key=lambda f: (f.principal, f.policy_name, f.message)):
        grouped.setdefault((finding.principal, finding.policy_name), []).append(finding)
    merged = []
    for (principal, rule), found in grouped.items():
        first, rest = found[0], found[1:]
        if not rest:
            merged.append(first)
            continue
        more = [{"message": f.message, "witness": f.witness} for f in rest]
        message = f"{first.message} ({len(rest)} more on this principal: witness.more)"
        merged.append(AuditFinding(principal, rule, first.enforcement_level, message, {**first.witness, "more": more}))
    return merged


def _boundaries(details: Details, found: Model, names: Names) -> None:
    """Each principal's permissions boundary, from the file's copy of the policy; one the file lacks (or that
    cannot be read) is a gap and cuts nothing (fail closed)."""
    managed = {p["Arn"]: (i, p) for i, p in enumerate(details.policies)}
    for key, arn in names.boundary.items():
        principal = found.principals[key]
        entry = managed.get(arn)
        what = f"{principal.label}: PermissionsBoundary"
        if entry is None:
            found.gaps.append(
                Gap(
                    principal.urn,
                    what,
                    f"its boundary {arn} is not in the authorization details, so "
                    "what it cuts cannot be judged; it is judged without it",
                )
            )
            continue
        index, policy = entry
        try:
            principal.boundary = parse(
                default_document(policy, details.path, f"Policies[{index}]"), f"permissions boundary {arn}"
            )
        except DocumentError as error:
            found.gaps.append(
                Gap(principal.urn, what, f"its boundary {arn} cannot be read ({error}); it is judged without it")
            )


_NAMED = re.compile(
    r'(?:AWS-managed policy \S+ \([^)]*\) attached by )?aws:iam/\w+:\w+ "[^"]*"'
    r"(?: inlinePolicies\[\d+\] \([^)]*\)| policy| assumeRolePolicy)?"
)
_MANAGED = re.compile(r"^AWS-managed policy (\S+) \(")


def _words(message: str, names: Names) -> str:
    """The pack's message with each resource the model names as IAM names it."""

    def named(match: re.Match[str]) -> str:
        text = match.group(0)
        if text in names.text:
            return names.text[text]
        head, sep, rest = text.partition(" attached by ")
        if sep:
            return f"{head} attached to {names.holder.get(rest) or names.text.get(rest, rest)}"
        for suffix in (" policy", " assumeRolePolicy"):
            if text.endswith(suffix) and text.removesuffix(suffix) in names.text:
                return names.text[text.removesuffix(suffix)] + suffix
        return text

    return _NAMED.sub(named, message)


def _witness(finding: Finding, principal: str, names: Names, found: Model) -> dict[str, Any]:
    """The finding's witness as data: its statements as IAM names them, and through what the principal holds
    each (itself, or a group)."""
    witness: dict[str, Any] = {}
    for key, value in finding.witness.items():
        if key == "statements":
            witness[key] = [_statement(s, principal, names) for s in value]
        elif isinstance(value, str):
            witness[key] = _words(value, names)
        else:
            witness[key] = value
    if principal in names.profiles:
        witness["instanceProfiles"] = names.profiles[principal]
    model_key = names.keys.get(principal)
    if model_key is not None and model_key in names.boundary:
        witness["permissionsBoundary"] = names.boundary[model_key]
    return witness


def _statement(statement: Statement, principal: str, names: Names) -> dict[str, Any]:
    origin = names.origin.get(statement.source)
    if origin is None:
        managed = _MANAGED.match(statement.source)
        arn = names.aws_managed.get(managed.group(1)) if managed else None
        origin = {"policy": arn or statement.source, "policyType": "aws-managed" if managed else "other"}
    found: dict[str, Any] = {**origin, "statement": statement.index, "sid": statement.sid}
    holders = [principal, *names.groups.get(principal, [])]
    if origin.get("holder") is not None:
        found["through"] = [origin["holder"]]
    elif origin["policyType"] in ("managed", "aws-managed"):
        found["through"] = [h for h in holders if origin["policy"] in names.attached.get(h, [])]
    return found
