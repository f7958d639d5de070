"""`ml-pipelines audit-account` against Cloudsplaining on the same authorization-details files, per principal:
privilege escalation and admin-like access, where the two agree and differ, and why.

    .venv/bin/pip install ".[bench]"     # Cloudsplaining: a bench-only extra, never imported by the project
    .venv/bin/python -m bench.audit_peers [--cloudsplaining-python PYTHON] [--all]

Cloudsplaining runs in its own process (`bench/cloudsplaining_principals.py`, with `--cloudsplaining-python`, by
default this interpreter), on each file written as `aws iam get-account-authorization-details` prints it:
- `peer-cases`: one small account per known difference between the two models (below);
- `grant-paths`: the hand-written files of `tests/tools/audit/test_account.py`;
- `generated`: `bench.audit_account`'s generated account (300 roles, 120 customer-managed policies).

Escalation: ours is every method `iam-no-privilege-escalation` finds open (`witness.methods`), theirs every
`PrivilegeEscalation` finding of a policy the principal holds. Admin-like: ours is every IAM action on every
resource (`algebra.full_access(..., "iam")`: a principal that can write IAM can grant itself anything), theirs a
ServiceWildcard naming every service. Each difference gets the first reason that holds, checked on the
principal's own statements, or "unexplained".
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.tools.audit.test_account import ACCOUNT, TRUST_LAMBDA  # noqa: E402

TRUST = TRUST_LAMBDA
"""The trust every role of the peer cases has (the audit tests': Lambda, guarded by the account)."""


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _role(name: str, *policies: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "Path": "/",
        "AssumeRolePolicyDocument": TRUST,
        "AttachedManagedPolicies": [],
        "RolePolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": d} for i, d in enumerate(policies)],
        **extra,
    }


def _managed(name: str, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "Path": "/",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": document}],
    }


def peer_cases() -> dict[str, Any]:
    """One role per known difference, and roles both should flag (and neither)."""
    allow = {"Effect": "Allow", "Resource": "*"}
    boundary = _managed("read-only-boundary", _doc({**allow, "Action": ["s3:GetObject", "logs:Get*"]}))
    roles = [
        _role("both-admin", _doc({**allow, "Action": "*"})),
        _role(
            "both-lambda-escalation",
            _doc({**allow, "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]}),
        ),
        _role("neither", _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"})),
        # A method split across two policies: Cloudsplaining judges each policy alone.
        _role(
            "split",
            _doc({**allow, "Action": "iam:PassRole"}),
            _doc({**allow, "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"]}),
        ),
        # Escalation on ARN patterns, not `*`: Cloudsplaining counts a literal `*` only.
        _role(
            "patterned",
            _doc({"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"}),
        ),
        # Under a condition that does not stop it: Cloudsplaining skips every conditioned statement.
        _role(
            "conditioned",
            _doc(
                {
                    **allow,
                    "Action": "iam:AttachRolePolicy",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
                }
            ),
        ),
        # Everything but one service: admin through NotAction, which Cloudsplaining's wildcard check does not count.
        _role("not-action-admin", _doc({**allow, "NotAction": "sagemaker:*"})),
        # Every IAM action without `Action: *`.
        _role("iam-star", _doc({**allow, "Action": "iam:*"})),
        # A permissions boundary that cuts it all: Cloudsplaining reads no boundary.
        _role(
            "bounded-admin",
            _doc({**allow, "Action": "*"}),
            PermissionsBoundary={"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary["Arn"]},
        ),
        # A Deny in another policy: Cloudsplaining applies a Deny only within its own policy.
        _role(
            "denied-elsewhere",
            _doc({**allow, "Action": "*"}),
            _doc({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}),
        ),
        # `*` on one bucket: Cloudsplaining's service wildcard whatever the resource.
        _role("star-on-one-bucket", _doc({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::data"})),
    ]
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": [boundary]}


def grant_paths() -> list[tuple[str, dict[str, Any]]]:
    """The hand-written files of the audit's tests, one account each."""
    from tests.tools.audit.test_account import CASES

    return [(f"grant-paths/{name}", data) for name, data, _ in CASES]


def generated() -> list[tuple[str, dict[str, Any]]]:
    from bench.audit_account import account

    return [("generated", account(300, 120, 30, seed=5))]


FILES = [lambda: [("peer-cases", peer_cases())], grant_paths, generated]


def ours(path: Path) -> dict[str, dict[str, Any]]:
    """Per principal ARN: the escalation methods open, whether admin-like, and what explains a difference."""
    from policies.access.algebra import full_access
    from tools.audit import account, details
    from tools.offline_preview import policy_config

    config = account.settings([policy_config.load(ROOT / "policies" / "config" / "prod.json")])
    read = details.load(path)
    found, names = account.model_of(read)
    # Cloudsplaining never scans AWS's service-role policies (managed_policy_detail.py: "Always exclude the AWS
    # service role policies", by the path /aws-service-role/).
    unscanned = {p["PolicyName"] for p in read.policies if str(p.get("Path", "")).startswith("/aws-service-role/")}
    escalation = config["iam-no-privilege-escalation"].properties or {}
    methods: dict[str, list[str]] = {}
    for finding in account.RULES["iam-no-privilege-escalation"](found, escalation):
        methods[names.owner[finding.urn or ""]] = list(finding.witness["methods"])
    result = {}
    for principal in found.principals.values():
        arn = names.owner.get(principal.urn)
        if arn is None or principal.kind not in ("role", "user", "group") or arn in names.service_linked:
            continue  # the command reports nothing on AWS's own service-linked roles
        granted = found.granted(principal)
        result[arn] = {
            "methods": methods.get(arn, []),
            "admin": full_access(granted, "iam", found.partitions) is not None,
            "statements": granted,
            "bounded": principal.boundary is not None,
            "unscanned": unscanned,
        }
    return result


def _why_ours(method: str, actions: list[str], principal: dict[str, Any], theirs_list: set[str]) -> str:
    from policies.access.reach import allowing

    if method not in theirs_list:
        return "not a method of Cloudsplaining's list"
    granting = {a: allowing(principal["statements"], a) for a in actions}
    unscanned = [f"AWS-managed policy {name} " for name in principal["unscanned"]]
    if any(all(any(u in s.source for u in unscanned) for s in found) for found in granting.values()):
        return "granted by an AWS service-role policy (path /aws-service-role/), which Cloudsplaining never scans"
    # What Cloudsplaining sees (without -aR): statements with no Condition, on a literal Resource `*`.
    seen = {a: [s for s in found if not s.has_condition and s.resources == ("*",)] for a, found in granting.items()}
    for action, found in granting.items():
        if not seen[action]:
            if all(s.has_condition for s in found):
                return f"granted only under a Condition ({action}), and Cloudsplaining skips conditioned statements"
            return f"on ARN patterns or NotResource ({action}), and Cloudsplaining counts only a literal Resource `*`"
    sources = {s.source for found in seen.values() for s in found}
    if not any(all(any(s.source == source for s in seen[a]) for a in actions) for source in sources):
        return "split across policies, and Cloudsplaining judges each policy alone"
    return "unexplained"


def _why_theirs(principal: dict[str, Any]) -> str:
    if principal["bounded"]:
        return "its permissions boundary cuts it, and Cloudsplaining reads no boundary"
    if any(not s.allow for s in principal["statements"]):
        return "a Deny in another policy takes it away, and Cloudsplaining applies a Deny only within its own policy"
    return "unexplained"


def _why_admin(ours_admin: bool, principal: dict[str, Any]) -> str:
    statements = principal["statements"]
    if not ours_admin:
        if principal["bounded"] or any(not s.allow for s in statements):
            return _why_theirs(principal)
        return "Action `*` on resources other than `*`: Cloudsplaining counts the wildcard whatever the resource"
    unscanned = [f"AWS-managed policy {name} " for name in principal["unscanned"]]
    if all(any(u in s.source for u in unscanned) for s in statements if s.allow):
        return "granted by an AWS service-role policy (path /aws-service-role/), which Cloudsplaining never scans"
    if any(s.allow and s.not_actions is not None for s in statements):
        return "granted through NotAction, which Cloudsplaining's service-wildcard check does not count"
    return "every IAM action without `Action: *` (Cloudsplaining's admin signal is `*` alone)"


_ALWAYS = {
    "RoleDetailList": {
        "RoleId": "AROA",
        "CreateDate": "2026-01-05T10:00:00Z",
        "Path": "/",
        "InstanceProfileList": [],
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
        "Tags": [],
        "RoleLastUsed": {},
    },
    "UserDetailList": {
        "UserId": "AIDA",
        "CreateDate": "2026-01-05T10:00:00Z",
        "Path": "/",
        "GroupList": [],
        "UserPolicyList": [],
        "AttachedManagedPolicies": [],
    },
    "GroupDetailList": {
        "GroupId": "AGPA",
        "CreateDate": "2026-01-05T10:00:00Z",
        "Path": "/",
        "GroupPolicyList": [],
        "AttachedManagedPolicies": [],
    },
    "Policies": {
        "PolicyId": "ANPA",
        "CreateDate": "2026-01-05T10:00:00Z",
        "UpdateDate": "2026-01-05T10:00:00Z",
        "Path": "/",
        "AttachmentCount": 1,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
    },
}
"""What the API returns for every entry (botocore's IAM model), which hand-written files leave out and
Cloudsplaining requires: IDs made from each entry's position."""


def as_the_api_prints(data: dict[str, Any]) -> dict[str, Any]:
    filled: dict[str, Any] = {key: [] for key in _ALWAYS}
    for key, always in _ALWAYS.items():
        for index, entry in enumerate(data.get(key, [])):
            ids = {k: f"{v}{index:016d}" for k, v in always.items() if k.endswith("Id")}
            filled[key].append({**always, **ids, **entry})
    for policy in filled["Policies"]:
        for version in policy["PolicyVersionList"]:
            version.setdefault("CreateDate", "2026-01-05T10:00:00Z")
    return filled


def compare(name: str, data: Any, python: str, show_all: bool, reasons: Counter[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "details.json"
        path.write_text(json.dumps(as_the_api_prints(data)))
        script = ROOT / "bench" / "cloudsplaining_principals.py"
        done = subprocess.run([python, str(script), str(path)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"Cloudsplaining failed ({python}): {done.stderr.strip()[-400:]}; pip install '.[bench]'")
        peer = json.loads(done.stdout)
        mine = ours(path)
    their_list = set(peer["methods"])
    print(f"\n### {name}: {len(mine)} principals")
    for arn in sorted(mine):
        principal, theirs = mine[arn], peer["principals"].get(arn, {"privilege_escalation": [], "admin": False})
        our_methods, their_methods = set(principal["methods"]), set(theirs["privilege_escalation"])
        lines = []
        for method in sorted(our_methods - their_methods):
            actions = _methods()[method]
            why = _why_ours(method, list(actions), principal, their_list)
            lines.append(f"  escalation {method}: ours only; {why}")
            reasons[f"escalation, ours only: {re.sub(r' [(][^)]*[)]', '', why)}"] += 1
        for method in sorted(their_methods - our_methods):
            why = _why_theirs(principal)
            lines.append(f"  escalation {method}: Cloudsplaining only; {why}")
            reasons[f"escalation, Cloudsplaining only: {why}"] += 1
        if principal["admin"] != theirs["admin"]:
            why = _why_admin(principal["admin"], principal)
            side = "ours only" if principal["admin"] else "Cloudsplaining only"
            lines.append(f"  admin-like: {side}; {why}")
            reasons[f"admin-like, {side}: {why}"] += 1
        shared = sorted(our_methods & their_methods)
        counts["escalation agree"] += our_methods == their_methods
        counts["admin agree"] += principal["admin"] == theirs["admin"]
        if lines or show_all:
            both = f"{len(shared)} methods both" if shared else "no method both"
            admin = "admin-like both" if principal["admin"] and theirs["admin"] else ""
            print(f"{arn}: {both}{'; ' + admin if admin else ''}")
            for line in lines:
                print(line)
    print(
        f"{name}: escalation agrees on {counts['escalation agree']} of {len(mine)} principals, admin-like on "
        f"{counts['admin agree']}"
    )
    counts["principals"] = len(mine)
    return counts


def _methods() -> dict[str, tuple[str, ...]]:
    from policies.access.reach import escalation_methods

    return escalation_methods()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloudsplaining-python", default=sys.executable)
    parser.add_argument("--all", action="store_true", help="print every principal, not only those that differ")
    args = parser.parse_args()
    reasons: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for make in FILES:
        for name, data in make():
            totals += compare(name, data, args.cloudsplaining_python, args.all, reasons)
    print(
        f"\nAll files: {totals['principals']} principals; escalation agrees on {totals['escalation agree']}, "
        f"admin-like on {totals['admin agree']}. Differences (each method, or admin-like, of a principal) by reason:"
    )
    for reason, count in reasons.most_common():
        print(f"  {count:5d}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
