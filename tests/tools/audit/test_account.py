"""`ml-pipelines audit-account`: one hand-written authorization-details file per grant path, and the exact
findings each gives (principal and rule, and the witness: action, resource, the statement and policy that grant
it, through which group or attachment)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.audit.__main__ import main

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role"
TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ],
}
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


SAGEMAKER_ALL = doc(allow("sagemaker:*"))
READ_ONE_BUCKET = doc(allow("s3:GetObject", "arn:aws:s3:::ml-data/train/*"))


def role(name: str, trust: dict[str, Any] = TRUST_LAMBDA, **extra: Any) -> dict[str, Any]:
    return {"RoleName": name, "Arn": f"{ROLE}/{name}", "Path": "/", "AssumeRolePolicyDocument": trust, **extra}


def inline(name: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"PolicyName": name, "PolicyDocument": document}]


def managed(name: str, versions: list[tuple[str, dict[str, Any], bool]]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "Path": "/",
        "DefaultVersionId": next(v for v, _, default in versions if default),
        "PolicyVersionList": [
            {"VersionId": v, "Document": d, "IsDefaultVersion": is_default} for v, d, is_default in versions
        ],
    }


def attached(policy: dict[str, Any]) -> list[dict[str, str]]:
    return [{"PolicyName": policy["PolicyName"], "PolicyArn": policy["Arn"]}]


ML_FULL = managed("ml-full", [("v1", SAGEMAKER_ALL, True)])
READER = managed("reader", [("v1", READ_ONE_BUCKET, True), ("v2", SAGEMAKER_ALL, False)])
BOUNDARY = managed(
    "boundary",
    [
        (
            "v1",
            doc(
                allow("s3:GetObject", "arn:aws:s3:::ml-data/*"),
                allow("sagemaker:Describe*", f"arn:aws:sagemaker:*:{ACCOUNT}:training-job/tumor-*"),
            ),
            True,
        )
    ],
)
WIDE_BOUNDARY = managed("wide-boundary", [("v1", doc(allow("*")), True)])
OUTSIDE = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"})

FULL = "sagemaker-no-full-access-in-prod"
ESCALATION = "iam-no-privilege-escalation"
REACH = "iam-no-data-plane-reach"
TRUST = "iam-trust-restricted"
PASSROLE = "iam-passrole-scoped"
GAPS = "iam-attached-policies-checked"
WIDE = {FULL, ESCALATION, REACH}
"""What `sagemaker:*` on `*` gives: every action, escalation through notebooks and Studio, every model package."""


def statement(policy: str, kind: str, through: list[str], holder: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"policy": policy, "policyType": kind}
    if holder is not None:
        found["holder"] = holder
    return {**found, "statement": 0, "sid": None, "through": through}


def bounded(boundary: dict[str, Any]) -> dict[str, Any]:
    """A role allowed every SageMaker action, within the boundary."""
    return role(
        "bounded",
        RolePolicyList=inline("all", SAGEMAKER_ALL),
        PermissionsBoundary={"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary["Arn"]},
    )


SUPPORT = {
    "PolicyName": "AWSSupportServiceRolePolicy",
    "Arn": "arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy",
    "Path": "/aws-service-role/",
    "DefaultVersionId": "v1",
    "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": doc(allow("*"))}],
}
TRUST_SUPPORT = doc({"Effect": "Allow", "Principal": {"Service": "support.amazonaws.com"}, "Action": "sts:AssumeRole"})


def service_linked(name: str, trust: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        **role(name, trust=trust, AttachedManagedPolicies=attached(SUPPORT), **extra),
        "Path": "/aws-service-role/support.amazonaws.com/",
        "Arn": f"{ROLE}/aws-service-role/support.amazonaws.com/{name}",
    }


CASES: list[tuple[str, dict[str, Any], dict[tuple[str, str], dict[str, Any] | None]]] = [
    (
        "group-membership",
        {
            "UserDetailList": [
                {"UserName": "ana", "Arn": f"arn:aws:iam::{ACCOUNT}:user/ana", "GroupList": ["ml"]},
                {"UserName": "bo", "Arn": f"arn:aws:iam::{ACCOUNT}:user/bo", "GroupList": []},
            ],
            "GroupDetailList": [
                {
                    "GroupName": "ml",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:group/ml",
                    "AttachedManagedPolicies": attached(ML_FULL),
                }
            ],
            "Policies": [ML_FULL],
        },
        {
            **{("user/ana", rule): None for rule in WIDE},
            **{("group/ml", rule): None for rule in WIDE},
            **{("policy/ml-full", rule): None for rule in WIDE},
            ("user/ana", FULL): {
                "statements": [statement(ML_FULL["Arn"], "managed", [f"arn:aws:iam::{ACCOUNT}:group/ml"])]
            },
        },
    ),
    (
        "non-default-version-ignored",
        {"RoleDetailList": [role("reader", AttachedManagedPolicies=attached(READER))], "Policies": [READER]},
        {},
    ),
    (
        "non-default-version-made-default",
        {
            "RoleDetailList": [role("reader", AttachedManagedPolicies=attached(READER))],
            "Policies": [managed("reader", [("v1", READ_ONE_BUCKET, False), ("v2", SAGEMAKER_ALL, True)])],
        },
        {
            **{("role/reader", rule): None for rule in WIDE},
            **{("policy/reader", rule): None for rule in WIDE},
            ("role/reader", FULL): {"statements": [statement(READER["Arn"], "managed", [f"{ROLE}/reader"])]},
        },
    ),
    (
        "boundary-cuts-the-grant",
        {
            "RoleDetailList": [bounded(BOUNDARY)],
            "Policies": [BOUNDARY],
        },
        {},
    ),
    (
        "boundary-that-cuts-nothing",
        {
            "RoleDetailList": [bounded(WIDE_BOUNDARY)],
            "Policies": [WIDE_BOUNDARY],
        },
        {
            **{("role/bounded", rule): None for rule in WIDE},
            # The boundary policy alone allows everything: attached as a policy, it would grant it.
            **{("policy/wide-boundary", rule): None for rule in (*WIDE, PASSROLE)},
            ("role/bounded", FULL): {
                "statements": [statement("all", "inline", [f"{ROLE}/bounded"], f"{ROLE}/bounded")],
                "permissionsBoundary": WIDE_BOUNDARY["Arn"],
            },
        },
    ),
    (
        "boundary-missing-from-the-file",
        {
            "RoleDetailList": [bounded(BOUNDARY)],
        },
        {**{("role/bounded", rule): None for rule in WIDE}, ("role/bounded", GAPS): None},
    ),
    (
        "not-action",
        {
            "RoleDetailList": [
                role(
                    "most",
                    RolePolicyList=inline("most", doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})),
                )
            ]
        },
        {
            **{("role/most", rule): None for rule in WIDE},
            ("role/most", REACH): {"action": "s3:AbortMultipartUpload", "resourceType": "object"},
        },
    ),
    (
        "not-resource",
        {
            "RoleDetailList": [
                role(
                    "almost",
                    RolePolicyList=inline(
                        "almost",
                        doc(
                            {
                                "Effect": "Allow",
                                "Action": "sagemaker:*",
                                "NotResource": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/kept",
                            }
                        ),
                    ),
                )
            ]
        },
        {("role/almost", rule): None for rule in WIDE},
    ),
    (
        "trust-to-another-account",
        {"RoleDetailList": [role("shared", trust=OUTSIDE, RolePolicyList=inline("read", READ_ONE_BUCKET))]},
        {
            ("role/shared", TRUST): {
                "action": "sts:AssumeRole",
                "problem": "lets arn:aws:iam::999999999999:root (account 999999999999) assume it",
                "statements": [statement("trust policy", "trust", [f"{ROLE}/shared"], f"{ROLE}/shared")],
            }
        },
    ),
    (
        "instance-profile-role",
        {
            "RoleDetailList": [
                role(
                    "web",
                    trust=TRUST_EC2,
                    RolePolicyList=inline("secrets", doc(allow("secretsmanager:GetSecretValue"))),
                    InstanceProfileList=[
                        {
                            "InstanceProfileName": "web",
                            "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web",
                            "Roles": [],
                        }
                    ],
                )
            ]
        },
        {
            ("role/web", REACH): {
                "action": "secretsmanager:GetSecretValue",
                "instanceProfiles": [f"arn:aws:iam::{ACCOUNT}:instance-profile/web"],
                "statements": [statement("secrets", "inline", [f"{ROLE}/web"], f"{ROLE}/web")],
            }
        },
    ),
    (
        # AWS's own service-linked role: only the service changes or assumes it, so nothing is reported.
        "service-linked-role",
        {"RoleDetailList": [service_linked("AWSServiceRoleForSupport", TRUST_SUPPORT)], "Policies": [SUPPORT]},
        {},
    ),
    (
        # Under the same path, a role AWS would not make (trusting an account) is judged like any other.
        "service-linked-path-trusting-an-account",
        {"RoleDetailList": [service_linked("Imposter", OUTSIDE)], "Policies": [SUPPORT]},
        {
            **{
                ("role/aws-service-role/support.amazonaws.com/Imposter", rule): None
                for rule in (*WIDE, PASSROLE, TRUST)
            },
        },
    ),
    (
        # An attached ARN the file does not hold is a gap, never a namesake of another path.
        "attached-policy-missing-beside-a-namesake",
        {
            "RoleDetailList": [
                role(
                    "r",
                    AttachedManagedPolicies=[
                        {"PolicyName": "ml", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/team/ml"}
                    ],
                )
            ],
            "Policies": [managed("ml", [("v1", READ_ONE_BUCKET, True)])],
        },
        {
            ("role/r", GAPS): {
                "reason": f"arn:aws:iam::{ACCOUNT}:policy/team/ml is attached, but the account's "
                "authorization details hold no policy of that ARN, so what it grants cannot be judged"
            }
        },
    ),
    (
        # A boundary of "my own user" (a policy variable) keeps the user's own IAM writes: it escalates.
        "boundary-with-a-policy-variable",
        {
            "UserDetailList": [
                {
                    "UserName": "alice",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
                    "UserPolicyList": inline(
                        "self",
                        doc(
                            allow(
                                ["iam:PutUserPolicy", "iam:DeleteUserPermissionsBoundary"],
                                f"arn:aws:iam::{ACCOUNT}:user/alice",
                            )
                        ),
                    ),
                    "PermissionsBoundary": {
                        "PermissionsBoundaryType": "Policy",
                        "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/self-service",
                    },
                }
            ],
            "Policies": [
                managed(
                    "self-service",
                    [("v1", doc(allow("iam:*", "arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}")), True)],
                )
            ],
        },
        {
            ("user/alice", ESCALATION): {
                "action": "iam:PutUserPolicy",
                "permissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/self-service",
            },
            ("policy/self-service", ESCALATION): None,
            ("policy/self-service", PASSROLE): None,  # iam:* includes iam:PassRole, here on no role
        },
    ),
    (
        # An AWS-managed policy named as a customer's: the witness names AWS's, through the user's group.
        "aws-managed-namesake",
        {
            "UserDetailList": [{"UserName": "ana", "Arn": f"arn:aws:iam::{ACCOUNT}:user/ana", "GroupList": ["ml"]}],
            "GroupDetailList": [
                {
                    "GroupName": "ml",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:group/ml",
                    "AttachedManagedPolicies": [
                        {
                            "PolicyName": "AmazonSageMakerFullAccess",
                            "PolicyArn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
                        }
                    ],
                }
            ],
            "RoleDetailList": [
                role(
                    "other",
                    AttachedManagedPolicies=attached(
                        managed("AmazonSageMakerFullAccess", [("v1", READ_ONE_BUCKET, True)])
                    ),
                )
            ],
            "Policies": [
                managed("AmazonSageMakerFullAccess", [("v1", READ_ONE_BUCKET, True)]),
                {
                    **managed("AmazonSageMakerFullAccess", [("v1", SAGEMAKER_ALL, True)]),
                    "Arn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
                },
            ],
        },
        {
            **{(p, rule): None for p in ("user/ana", "group/ml") for rule in WIDE},
            ("user/ana", FULL): {
                "statements": [
                    statement(
                        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
                        "aws-managed",
                        [f"arn:aws:iam::{ACCOUNT}:group/ml"],
                    )
                ]
            },
        },
    ),
    (
        "passrole-anywhere",
        {"RoleDetailList": [role("passer", RolePolicyList=inline("pass", doc(allow("iam:PassRole"))))]},
        {
            ("role/passer", PASSROLE): {
                "action": "iam:PassRole",
                "problems": [
                    "*, which names no one role",
                    "without iam:PassedToService restricted by StringEquals to named services",
                ],
            },
            ("role/passer", REACH): {"action": "iam:PassRole", "resourceType": "role"},
        },
    ),
]


def _run(tmp_path: Path, data: Any, *flags: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "details.json"
    path.write_text(json.dumps(data))
    config = Path(__file__).resolve().parents[3] / "policies" / "config" / "prod.json"
    return _main(["--authorization-details", str(path), "--config", str(config), "--json", *flags])


def _main(argv: list[str]) -> tuple[int, dict[str, Any]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, json.loads(out.getvalue()) if out.getvalue().strip().startswith("{") else {}


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_grant_path_gives_exactly_its_findings(
    tmp_path: Path, data: dict[str, Any], expected: dict[tuple[str, str], dict[str, Any] | None]
) -> None:
    code, printed = _run(tmp_path, data)
    found = {(f["principal"].split(":", 5)[5], f["policyName"]): f for f in printed["findings"]}
    assert set(found) == set(expected)
    for key, witness in expected.items():
        assert found[key]["enforcementLevel"] == "mandatory"
        for field, value in (witness or {}).items():
            assert found[key]["witness"][field] == value, (key, field)
    assert code == (1 if expected else 0)
    assert printed["account"] == ACCOUNT
    # Messages name principals as IAM does: never an attachment where a principal is meant.
    assert not any("attached to the attachment" in f["message"] for f in printed["findings"])


def test_one_finding_per_principal_and_rule_the_others_in_its_witness(tmp_path: Path) -> None:
    two = doc(
        allow("iam:PassRole", f"{ROLE}/*"),
        allow("iam:PassRole", f"{ROLE}/other", Condition={"StringLike": {"iam:PassedToService": "*"}}),
    )
    code, printed = _run(tmp_path, {"RoleDetailList": [role("passer", RolePolicyList=inline("pass", two))]})
    [passrole] = [f for f in printed["findings"] if f["policyName"] == PASSROLE]
    assert passrole["message"].endswith("(1 more on this principal: witness.more)")
    [more] = passrole["witness"]["more"]
    assert more["witness"]["statements"][0]["statement"] == 1
    assert passrole["witness"]["statements"][0]["statement"] == 0
    keys = [(f["principal"], f["policyName"]) for f in printed["findings"]]
    assert len(keys) == len(set(keys)) and code == 1
