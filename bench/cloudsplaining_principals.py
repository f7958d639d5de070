"""Cloudsplaining's verdicts per principal on an authorization-details file, as JSON (run by bench/audit_peers.py
in the interpreter that has the bench extra: `pip install ".[bench]"`; never imported by the project).

    python bench/cloudsplaining_principals.py DETAILS.json [--default-exclusions] [--flag-all-risky-actions]

Cloudsplaining (0.9.1) judges each policy document alone (`AuthorizationDetails(...).results`, as `cloudsplaining
scan` does, without its HTML report); a principal's findings here are the union over the policies it holds (its
inline and attached policies, and a user's groups'). Cloudsplaining has no administrator flag: `admin` is its
ServiceWildcard finding naming every service, which only an unconditioned Allow of Action `*` gives. Prints
{"methods": {name: [actions]}, "principals": {ARN: {...}}}.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from typing import Any

from cloudsplaining.scan.authorization_details import AuthorizationDetails
from cloudsplaining.shared.constants import DEFAULT_EXCLUSIONS_CONFIG
from cloudsplaining.shared.exclusions import Exclusions
from cloudsplaining.shared.validation import check_authorization_details_schema
from policy_sentry.querying.all import get_all_service_prefixes

logging.getLogger("cloudsplaining").setLevel(logging.ERROR)

FINDING_KEYS = (
    "PrivilegeEscalation",
    "ResourceExposure",
    "DataExfiltration",
    "CredentialsExposure",
    "ServiceWildcard",
    "InfrastructureModification",
)


def _exclusions(use_default: bool) -> Exclusions:
    if use_default:
        # what `cloudsplaining scan` uses: drops AdministratorAccess, *ServiceRolePolicy,
        # "MyRole", roles named service-role*/aws-service-role*, ...
        return Exclusions(DEFAULT_EXCLUSIONS_CONFIG)
    # keep include-actions (s3:GetObject etc. in InfrastructureModification) but exclude
    # no principal and no policy, so AdministratorAccess is scanned too
    cfg = copy.deepcopy(DEFAULT_EXCLUSIONS_CONFIG)
    for k in ("policies", "roles", "users", "groups"):
        cfg[k] = [""]
    return Exclusions(cfg)


def cloudsplaining_per_principal(
    path: str, default_exclusions: bool = False, flag_all_risky_actions: bool = False
) -> dict[str, dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        authz = json.load(f)
    if not check_authorization_details_schema(authz):
        raise ValueError(
            "not an authorization-details file (needs UserDetailList, GroupDetailList, RoleDetailList, Policies)"
        )
    ad = AuthorizationDetails(
        authz,
        exclusions=_exclusions(default_exclusions),
        # the CLI's -aR/--flag-all-risky-actions sets both; NB user inline policies ignore them
        # (UserDetailList does not forward the flags to UserDetail in 0.9.1)
        flag_conditional_statements=flag_all_risky_actions,
        flag_resource_arn_statements=flag_all_risky_actions,
    )
    res = ad.results  # same dict as iam-results-<account>.json written by `cloudsplaining scan`
    pols: dict[str, dict] = {}
    pols.update(res["inline_policies"])
    pols.update(res["customer_managed_policies"])
    pols.update(res["aws_managed_policies"])
    all_services = set(get_all_service_prefixes())

    def policy_ids(p: dict) -> list[str]:
        return [*p["inline_policies"], *p["customer_managed_policies"], *p["aws_managed_policies"]]

    out: dict[str, dict[str, Any]] = {}
    for ptype in ("users", "groups", "roles"):
        for p in res[ptype].values():
            ids = policy_ids(p)
            via = {i: "direct" for i in ids}
            if ptype == "users":
                for gname, g in p["groups"].items():
                    for i in policy_ids(g):
                        via.setdefault(i, f"group:{gname}")
            agg: dict[str, set] = {k: set() for k in FINDING_KEYS}
            pe_by_policy: dict[str, list[str]] = {}
            for i, how in via.items():
                pol = pols.get(i)
                if pol is None or pol.get("is_excluded"):
                    continue
                pname = pol["PolicyName"]
                for k in FINDING_KEYS:
                    for f in pol[k]["findings"]:
                        agg[k].add(f["type"] if k == "PrivilegeEscalation" else f)
                pe = sorted(f["type"] for f in pol["PrivilegeEscalation"]["findings"])
                if pe:
                    pe_by_policy[f"{pname} ({how})"] = pe
            out[p["arn"]] = {
                "type": ptype[:-1],
                "name": p["name"],
                "is_excluded": p["is_excluded"],
                "policies": sorted(
                    f"{pols[i]['PolicyName']} ({h})" if i in pols else f"<not scanned: {i[:12]}> ({h})"
                    for i, h in via.items()
                ),
                "privilege_escalation": sorted(agg["PrivilegeEscalation"]),
                "privilege_escalation_by_policy": pe_by_policy,
                # Cloudsplaining has no admin flag; the nearest signal is ServiceWildcard listing
                # every service prefix, which only an unconditioned Allow of Action "*" produces.
                "admin": all_services <= agg["ServiceWildcard"],
                "service_wildcard": sorted(agg["ServiceWildcard"])
                if not all_services <= agg["ServiceWildcard"]
                else ["<all services>"],
                "resource_exposure_count": len(agg["ResourceExposure"]),
                "data_exfiltration": sorted(agg["DataExfiltration"]),
                "credentials_exposure": sorted(agg["CredentialsExposure"]),
                "infrastructure_modification_count": len(agg["InfrastructureModification"]),
            }
    return out


if __name__ == "__main__":
    from cloudsplaining.shared.constants import PRIVILEGE_ESCALATION_METHODS

    found = cloudsplaining_per_principal(
        sys.argv[1],
        default_exclusions="--default-exclusions" in sys.argv,
        flag_all_risky_actions="--flag-all-risky-actions" in sys.argv,
    )
    methods = {name: sorted(actions) for name, actions in PRIVILEGE_ESCALATION_METHODS.items()}
    print(json.dumps({"methods": methods, "principals": found}))
