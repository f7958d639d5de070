"""An account's authorization details read into the grant model: one hand-written file per grant path, and the
grant each gives (the full-SageMaker decision is the pack's own, `algebra.full_access`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from policies.access.algebra import full_access
from tools.audit.account import model_of
from tools.audit.details import DetailsError, load

ACCOUNT = "123456789012"
TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}
NARROW = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sagemaker:DescribeTrainingJob",
            "Resource": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:training-job/tumor-*",
        }
    ],
}


def role(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "Path": "/",
        "AssumeRolePolicyDocument": TRUST_LAMBDA,
        **extra,
    }


def managed(name: str, versions: list[tuple[str, dict[str, Any], bool]], aws: bool = False) -> dict[str, Any]:
    arn = f"arn:aws:iam::aws:policy/{name}" if aws else f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    return {
        "PolicyName": name,
        "Arn": arn,
        "DefaultVersionId": next(v for v, _, default in versions if default),
        "PolicyVersionList": [
            {"VersionId": v, "Document": d, "IsDefaultVersion": default} for v, d, default in versions
        ],
    }


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "details.json"
    path.write_text(json.dumps(data))
    return path


def sagemaker_everything(path: Path, kind: str, name: str) -> bool:
    found, _ = model_of(load(path))
    return full_access(found.granted(found.principals[f"{kind}:{name}"]), "sagemaker") is not None


def test_a_roles_inline_policy(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "RoleDetailList": [
                role("wide", RolePolicyList=[{"PolicyName": "p", "PolicyDocument": EVERYTHING}]),
                role("tight", RolePolicyList=[{"PolicyName": "p", "PolicyDocument": NARROW}]),
            ]
        },
    )
    assert sagemaker_everything(path, "role", "wide")
    assert not sagemaker_everything(path, "role", "tight")


@pytest.mark.parametrize(("default", "expected"), [("v1", False), ("v2", True)])
def test_only_a_managed_policys_default_version_grants(tmp_path: Path, default: str, expected: bool) -> None:
    policy = managed("ml", [("v1", NARROW, default == "v1"), ("v2", EVERYTHING, default == "v2")])
    attached = [{"PolicyName": "ml", "PolicyArn": policy["Arn"]}]
    path = write(tmp_path, {"RoleDetailList": [role("r", AttachedManagedPolicies=attached)], "Policies": [policy]})
    assert sagemaker_everything(path, "role", "r") is expected


def test_a_user_gets_what_its_group_is_attached_and_aws_managed_documents_come_from_the_file(tmp_path: Path) -> None:
    arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    group = {
        "GroupName": "ml",
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/ml",
        "AttachedManagedPolicies": [{"PolicyName": "AmazonSageMakerFullAccess", "PolicyArn": arn}],
    }
    user = {"UserName": "ana", "Arn": f"arn:aws:iam::{ACCOUNT}:user/ana", "GroupList": ["ml"]}
    loner = {"UserName": "bo", "Arn": f"arn:aws:iam::{ACCOUNT}:user/bo", "GroupList": []}
    full = managed("AmazonSageMakerFullAccess", [("v9", EVERYTHING, True)], aws=True)
    path = write(tmp_path, {"UserDetailList": [user, loner], "GroupDetailList": [group], "Policies": [full]})
    assert sagemaker_everything(path, "user", "ana")
    assert not sagemaker_everything(path, "user", "bo")
    # The account's copy, not the pack's snapshot: a default version that grants less grants less.
    narrowed = managed("AmazonSageMakerFullAccess", [("v9", NARROW, True)], aws=True)
    path = write(tmp_path, {"UserDetailList": [user], "GroupDetailList": [group], "Policies": [narrowed]})
    assert not sagemaker_everything(path, "user", "ana")


def test_documents_as_the_api_sends_them_url_encoded(tmp_path: Path) -> None:
    encoded = quote(json.dumps(EVERYTHING))
    path = write(
        tmp_path,
        {
            "RoleDetailList": [
                role(
                    "r",
                    AssumeRolePolicyDocument=quote(json.dumps(TRUST_LAMBDA)),
                    RolePolicyList=[{"PolicyName": "p", "PolicyDocument": encoded}],
                )
            ]
        },
    )
    assert sagemaker_everything(path, "role", "r")


def test_pages_are_merged_and_a_trust_to_another_account_is_read(tmp_path: Path) -> None:
    outside = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    pages = [
        {"RoleDetailList": [role("a")], "IsTruncated": True, "Marker": "m"},
        {"RoleDetailList": [role("b", AssumeRolePolicyDocument=outside)], "IsTruncated": False},
    ]
    found, _ = model_of(load(write(tmp_path, pages)))
    assert {"role:a", "role:b"} <= set(found.principals)
    trusted = [s.principal for s in found.principals["role:b"].trust]
    assert trusted == [{"AWS": "arn:aws:iam::999999999999:root"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not json", "not JSON"),
        ({"Roles": []}, "an object with UserDetailList, GroupDetailList, RoleDetailList, Policies is required"),
        ({"RoleDetailList": {"a": 1}}, "RoleDetailList: a list of objects is required"),
        ({"RoleDetailList": [{"RoleName": "r"}]}, "RoleDetailList[0].Arn: a string is required"),
        (
            {"RoleDetailList": [role("r", AssumeRolePolicyDocument=7)]},
            "RoleDetailList[0].AssumeRolePolicyDocument: a policy document is required",
        ),
        (
            {"Policies": [{"PolicyName": "p", "Arn": "arn:aws:iam::1:policy/p", "PolicyVersionList": []}]},
            "Policies[0].PolicyVersionList: a list holding the default version is required",
        ),
        # What the reviewer found: part of an account, or a file AWS never prints, is refused, not judged.
        ([], "no page"),
        (
            {"RoleDetailList": [], "roleDetailList": [role("r")]},
            "roleDetailList: not a key of GetAccountAuthorizationDetails",
        ),
        (
            [{"RoleDetailList": [role("a")], "IsTruncated": True, "Marker": "m"}],
            "[0]IsTruncated: the last page says more follow",
        ),
        ({"RoleDetailList": [role("a")], "IsTruncated": True}, "IsTruncated: the last page says more follow"),
        (
            [{"RoleDetailList": [role("a")], "IsTruncated": True}, {"RoleDetailList": [role("a")]}],
            "RoleDetailList[1]: the same as RoleDetailList[0] (a)",
        ),
        ({"RoleDetailList": [role("Admin"), role("admin")]}, "RoleDetailList[1]: the same as RoleDetailList[0]"),
        (
            {"RoleDetailList": [role("r", RolePolicyList=["x"])]},
            "RoleDetailList[0].RolePolicyList: a list of {PolicyName, PolicyDocument}",
        ),
        (
            {
                "GroupDetailList": [
                    {
                        "GroupName": "g",
                        "Arn": "arn:aws:iam::1:group/g",
                        "PermissionsBoundary": {
                            "PermissionsBoundaryType": "Policy",
                            "PermissionsBoundaryArn": "arn:aws:iam::1:policy/b",
                        },
                    }
                ]
            },
            "GroupDetailList[0].PermissionsBoundary: a group has no permissions boundary",
        ),
        (
            {"RoleDetailList": [role("r", InstanceProfileList=5)]},
            "RoleDetailList[0].InstanceProfileList: a list of instance profiles",
        ),
        (
            {"UserDetailList": [{"UserName": "arn:aws:iam::1:user/x", "Arn": "arn:aws:iam::1:user/x"}]},
            "UserDetailList[0].UserName: an IAM name is required",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_file_and_the_key(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "details.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(DetailsError) as raised:
        model_of(load(path))
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value)
    assert "\n" not in str(raised.value)
