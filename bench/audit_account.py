"""`ml-pipelines audit-account` on a large account: time end to end, and per principal.

    .venv/bin/python -m bench.audit_account [--roles 5000] [--policies 2000] [--users 500] [--runs 1]

Generates an authorization-details file of that size (seeded: the same file every run), written as the AWS CLI
prints it, and runs the command on it in a new process (`python -m tools.audit --authorization-details FILE
--config policies/config/prod.json --json`), as a user would. Target (issue 28): 5,000 roles and 2,000
customer-managed policies in under 30 s on two cores.

The account is shaped like a real one: most roles are service roles with one or two scoped inline policies and a
few customer-managed attachments; a tenth have wildcards, a few hold AWS-managed policies (the pack's snapshot
copies, as the account's own), some are bounded; managed policies have up to five versions; users belong to
groups.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT = "123456789012"
SERVICES = ["lambda", "sagemaker", "states", "ecs-tasks", "glue", "ec2", "events", "scheduler"]
AWS_MANAGED = [
    "AmazonS3ReadOnlyAccess",
    "AmazonSageMakerFullAccess",
    "CloudWatchLogsFullAccess",
    "ReadOnlyAccess",
    "AWSLambdaBasicExecutionRole",
    "AmazonEC2ContainerRegistryReadOnly",
]


def _statement(rng: random.Random, index: int) -> dict[str, Any]:
    """A statement: mostly scoped to named ARNs, sometimes a wildcard or a conditioned PassRole."""
    roll = rng.random()
    if roll < 0.55:
        bucket = f"data-{rng.randrange(300)}"
        return {
            "Effect": "Allow",
            "Action": rng.sample(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], 2),
            "Resource": [f"arn:aws:s3:::{bucket}/team-{index % 40}/*"],
        }
    if roll < 0.75:
        return {
            "Effect": "Allow",
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"],
            "Resource": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:training-job/team-{index % 40}-*",
        }
    if roll < 0.85:
        return {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": f"arn:aws:iam::{ACCOUNT}:role/svc-{index}",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }
    if roll < 0.95:
        return {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/team-{index % 40}:*",
        }
    return {"Effect": "Allow", "Action": rng.choice(["s3:*", "sagemaker:*", "iam:PassRole", "ec2:*"]), "Resource": "*"}


def _document(rng: random.Random, index: int) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [_statement(rng, index) for _ in range(rng.randint(1, 4))]}


def _trust(rng: random.Random) -> dict[str, Any]:
    service = rng.choice(SERVICES)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": f"{service}.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }


def _managed(rng: random.Random, policies: int) -> list[dict[str, Any]]:
    """Customer-managed policies of 1 to 5 versions, and the AWS-managed ones some principals hold."""
    from policies.access import catalog

    managed = []
    for i in range(policies):
        versions = rng.randint(1, 5)
        default = rng.randrange(versions)
        managed.append(
            {
                "PolicyName": f"team-policy-{i}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:policy/team-policy-{i}",
                "Path": "/",
                "DefaultVersionId": f"v{default + 1}",
                "PolicyVersionList": [
                    {"VersionId": f"v{v + 1}", "IsDefaultVersion": v == default, "Document": _document(rng, i)}
                    for v in range(versions)
                ],
            }
        )
    for name in AWS_MANAGED:
        document = catalog.aws_managed_document(name)
        if document is not None:
            managed.append(
                {
                    "PolicyName": name,
                    "Arn": f"arn:aws:iam::aws:policy/{name}",
                    "Path": "/",
                    "DefaultVersionId": "v1",
                    "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": document}],
                }
            )
    return managed


def _attachments(rng: random.Random, policies: int, count: int) -> list[dict[str, str]]:
    found = [
        {"PolicyName": f"team-policy-{j}", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/team-policy-{j}"}
        for j in rng.sample(range(policies), count)
    ]
    if rng.random() < 0.05:
        name = rng.choice(AWS_MANAGED)
        found.append({"PolicyName": name, "PolicyArn": f"arn:aws:iam::aws:policy/{name}"})
    return found


def _role(rng: random.Random, i: int, policies: int, boundary: str) -> dict[str, Any]:
    role: dict[str, Any] = {
        "RoleName": f"svc-{i}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/svc-{i}",
        "Path": "/",
        "AssumeRolePolicyDocument": _trust(rng),
        "RolePolicyList": [
            {"PolicyName": f"inline-{j}", "PolicyDocument": _document(rng, i)} for j in range(rng.randint(1, 2))
        ],
        "AttachedManagedPolicies": _attachments(rng, policies, rng.randint(0, 3)),
        "InstanceProfileList": [],
    }
    if rng.random() < 0.1:
        role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return role


def account(roles: int, policies: int, users: int, seed: int = 28) -> dict[str, Any]:
    """The authorization details of a generated account, one page."""
    rng = random.Random(seed)
    managed = _managed(rng, policies)
    role_list = [_role(rng, i, policies, managed[0]["Arn"]) for i in range(roles)]
    groups = [
        {
            "GroupName": f"team-{g}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:group/team-{g}",
            "Path": "/",
            "GroupPolicyList": [{"PolicyName": "team", "PolicyDocument": _document(rng, g)}],
            "AttachedManagedPolicies": _attachments(rng, policies, 1),
        }
        for g in range(40)
    ]
    user_list = [
        {
            "UserName": f"person-{u}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/person-{u}",
            "Path": "/",
            "GroupList": [f"team-{u % 40}"],
            "UserPolicyList": [],
            "AttachedManagedPolicies": [],
        }
        for u in range(users)
    ]
    return {
        "UserDetailList": user_list,
        "GroupDetailList": groups,
        "RoleDetailList": role_list,
        "Policies": managed,
        "IsTruncated": False,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=2000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "details.json"
        path.write_text(json.dumps(account(args.roles, args.policies, args.users)))
        command = [
            sys.executable,
            "-m",
            "tools.audit",
            "--authorization-details",
            str(path),
            "--config",
            str(ROOT / "policies" / "config" / "prod.json"),
            "--json",
        ]
        seconds = []
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
            seconds.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                print(done.stderr, file=sys.stderr)
                return 2
        result = json.loads(done.stdout)
        size = path.stat().st_size
    took = statistics.median(seconds)
    principals = result["principals"] + args.policies
    print(
        f"account: {args.roles} roles, {args.policies} customer-managed policies, 40 groups, {args.users} users "
        f"({size / 1e6:.1f} MB)"
    )
    print(f"audit-account end to end: {took:.2f} s (median of {args.runs}); target under 30 s")
    print(
        f"per principal (users, groups, roles and customer-managed policies, {principals}): "
        f"{took / principals * 1000:.2f} ms"
    )
    counts: dict[str, int] = {}
    for finding in result["findings"]:
        counts[finding["policyName"]] = counts.get(finding["policyName"], 0) + 1
    print("findings: " + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
