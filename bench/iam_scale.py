"""How the pack's IAM reasoning scales, and whether it agrees with an independent expansion.

    .venv/bin/python -m bench.iam_scale [--skip-corpus]

1. Corpus: every AWS-managed policy document in the pack's snapshot (policies/data), inline on one prod role
   each: the grant model, the full-SageMaker decision and least privilege, in ms per document; and the
   decision compared with an independent expansion (tests/policies/access/evaluator.py: every published
   SageMaker action on one concrete ARN of each type it accepts).
   And the same documents end to end: each inline on a prod role of its own in one stack, through
   `python -m tools.offline_preview`, in ms per document (target: under 10).
2. Size: a prod stack whose RolePolicy holds a one-statement document, then ~10 MB of statements naming
   other ARNs, run end to end through `python -m tools.offline_preview` (program, pack process, gRPC): the
   ratio must stay under 10.
3. Accounts: trust and bucket policies naming 1,200, 2,400 and 4,800 distinct accounts, end to end: the
   time per statement must not grow with their number.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROGRAM = """
import json
from pathlib import Path

import pulumi_aws as aws

here = Path(__file__).parent
trust = (here / "trust.json").read_text()
role = aws.iam.Role("subject", name="subject", assume_role_policy=trust,
                    tags={"owner": "b", "cost-center": "b", "environment": "prod"})
aws.iam.RolePolicy("subject-policy", role="subject", policy=(here / "policy.json").read_text())
"""
CORPUS_PROGRAM = """
import json
from pathlib import Path

import pulumi_aws as aws

here = Path(__file__).parent
trust = (here / "trust.json").read_text()
for index, document in enumerate(json.loads((here / "documents.json").read_text())):
    aws.iam.Role(f"r{index}", name=f"r{index}", assume_role_policy=trust,
                 tags={"owner": "b", "cost-center": "b", "environment": "prod"})
    aws.iam.RolePolicy(f"r{index}-policy", role=f"r{index}", policy=document)
"""
TRUST = {
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
}


def corpus() -> None:
    from policies.access import catalog
    from policies.access.algebra import full_access
    from policies.access.least_privilege import findings
    from policies.access.principals import Resource, collect
    from tests.policies.access.test_algebra import _expanded

    data = catalog._managed()["policies"]
    started = time.perf_counter()
    decided: dict[str, bool] = {}
    for name, entry in data.items():
        model = collect(
            [
                Resource("urn:r", "aws:iam/role:Role", "r", {"name": "r"}),
                Resource("urn:p", "aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": entry["document"]}),
            ]
        )
        statements = model.granted(model.principals["role:r"])
        decided[name] = full_access(statements, "sagemaker") is not None
        for statement in statements:
            findings(statement)
    elapsed = time.perf_counter() - started
    print(
        f"corpus: {len(data)} AWS-managed policy documents (snapshot {catalog.managed_snapshot()}, IAM data of "
        f"{catalog.data_date()}): {elapsed:.2f} s, {1000 * elapsed / len(data):.2f} ms per document"
    )
    started = time.perf_counter()
    disagree = []
    for name, entry in data.items():
        document = entry["document"]
        independent = _expanded([document])
        if independent != decided[name]:
            disagree.append(f"{name} (pack: {decided[name]}, independent: {independent})")
    flagged = sum(decided.values())
    print(
        f"  full SageMaker access: {flagged} documents; independent expansion disagrees on {len(disagree)} "
        f"({time.perf_counter() - started:.1f} s){': ' + ', '.join(disagree[:5]) if disagree else ''}"
    )


def corpus_end_to_end(runs: int) -> None:
    """Every AWS-managed document of the snapshot inline on a prod role of its own, in one stack, through
    `python -m tools.offline_preview` (the program, the pack's process, gRPC): seconds per document."""
    from policies.access import catalog

    documents = [json.dumps(entry["document"]) for entry in catalog._managed()["policies"].values()]
    with tempfile.TemporaryDirectory() as tmp:
        directory = project(Path(tmp), "corpus", {"Statement": statements(1)}, TRUST)
        (directory / "__main__.py").write_text(CORPUS_PROGRAM)
        (directory / "documents.json").write_text(json.dumps(documents))
        elapsed = min(plan(directory) for _ in range(runs))
    print(
        f"corpus end to end: {len(documents)} AWS-managed documents, each inline on a prod role of its own, one "
        f"stack ({2 * len(documents)} resources): {elapsed:.2f} s, {1000 * elapsed / len(documents):.2f} ms per "
        "document"
    )


def plan(directory: Path) -> float:
    command = [
        sys.executable,
        "-m",
        "tools.offline_preview",
        "--cwd",
        str(directory),
        "--stack",
        "prod",
        "--policy-pack",
        str(ROOT / "policies"),
        "--policy-pack-config",
        str(ROOT / "policies/config/prod.json"),
        "--json",
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode == 2:
        raise SystemExit(f"the offline preview failed: {result.stderr.strip()[-400:]}")
    return elapsed


def project(root: Path, name: str, policy: dict, trust: dict) -> Path:
    directory = root / name
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (directory / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (directory / "__main__.py").write_text(PROGRAM)
    (directory / "policy.json").write_text(json.dumps(policy))
    (directory / "trust.json").write_text(json.dumps(trust))
    return directory


def statements(count: int) -> list[dict]:
    return [
        {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeTrainingJob", "s3:GetObject"],
            "Resource": [
                f"arn:aws:sagemaker:eu-west-1:{100000000000 + i}:training-job/job-{i}",
                f"arn:aws:s3:::bucket-{i}/key/*",
            ],
        }
        for i in range(count)
    ]


def size_and_accounts(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        one = project(root, "one", {"Statement": statements(1)}, TRUST)
        big_statements = statements(45_000)
        big = project(root, "big", {"Statement": big_statements}, TRUST)
        size = (big / "policy.json").stat().st_size
        small = min(plan(one) for _ in range(runs))
        large = min(plan(big) for _ in range(runs))
        print(
            f"size: one statement {small:.2f} s; {size / 1e6:.1f} MB ({len(big_statements)} statements) "
            f"{large:.2f} s: {large / small:.1f} x"
        )
        for count in (1200, 2400, 4800):
            trust = {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{200000000000 + i}:root"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"sts:ExternalId": f"x{i}"}},
                    }
                    for i in range(count)
                ]
            }
            directory = project(root, f"accounts{count}", {"Statement": statements(count)}, trust)
            elapsed = min(plan(directory) for _ in range(runs)) - small
            print(
                f"accounts: {count} distinct accounts in a trust policy and a role policy: {elapsed:.2f} s over "
                f"the one-statement run, {1e3 * elapsed / count:.3f} ms per statement"
            )
            shutil.rmtree(directory)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.iam_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-corpus", action="store_true", help="only the end-to-end size and account runs")
    parser.add_argument("--runs", type=int, default=2, help="end-to-end runs per case; the fastest counts")
    args = parser.parse_args()
    if not args.skip_corpus:
        corpus()
        corpus_end_to_end(args.runs)
    size_and_accounts(args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
