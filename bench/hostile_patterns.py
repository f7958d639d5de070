"""Patterns written to make a backtracking matcher stall, through the real pack (its process, over the engine's
gRPC protocol, prod's config): the time to a verdict per family and length must stay flat.

    .venv/bin/python -m bench.hostile_patterns

Each row: a role with one inline statement whose action or resource is the hostile pattern (the rest
ordinary), analysed resource by resource and as a stack, as `pulumi preview` would. Families: runs of `*?`
(a regular expression of `.*.` per run backtracks in the number of runs), many `*` separated by a character the
value lacks, the same in a resource ARN, a resource with many `:`-separated wildcards (every ARN field a
pattern), a resource repeating a literal of an ARN format (8 per run: the check of ID-shaped patterns
matches a regular expression of the format), and a tag condition of many `*` runs.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.offline_preview.analyzer import PolicyPack, StackResource  # noqa: E402

LENGTHS = (8, 32, 128, 512)


def _statement(runs: int, family: str) -> dict[str, object]:
    families: dict[str, Callable[[int], dict[str, object]]] = {
        "action *? runs": lambda n: {"Action": "sagemaker:" + "*?" * n + "x", "Resource": "*"},
        "action * a rare character": lambda n: {"Action": "s3:" + "*a" * n + "*q", "Resource": "*"},
        "resource *? runs": lambda n: {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "*?" * n + "z"},
        "resource * a rare character": lambda n: {
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::" + "*a" * n + "b",
        },
        "resource : wildcards": lambda n: {
            "Action": "ec2:DeleteSnapshot",
            "Resource": "arn:aws:ec2:" + "*:" * n + "snapshot/snap-*",
        },
        "resource repeating :ec2:": lambda n: {
            "Action": "ec2:DeleteSnapshot",
            "Resource": "arn:" + ":ec2:" * (8 * n) + "::snapshot",
        },
        "tag condition * runs": lambda n: {
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::*/*",
            "Condition": {"StringLike": {"aws:ResourceTag/team": "*a" * n + "*"}},
        },
    }
    return {"Effect": "Allow", **families[family](runs)}


FAMILIES = (
    "action *? runs",
    "action * a rare character",
    "resource *? runs",
    "resource * a rare character",
    "resource : wildcards",
    "resource repeating :ec2:",
    "tag condition * runs",
)


def resources(statement: dict[str, object]) -> list[StackResource]:
    role, policy = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return [
        StackResource(
            f"urn:pulumi:prod::b::{role}::r", role, "r", {"name": "r", "assumeRolePolicy": json.dumps(trust)}
        ),
        StackResource(f"urn:pulumi:prod::b::{policy}::p", policy, "p", {"role": "r", "policy": document}),
    ]


def main() -> int:
    pack = PolicyPack(ROOT / "policies", project="b", stack="prod", dry_run=True).start()
    try:
        pack.configure([ROOT / "policies" / "config" / "prod.json"])
        pack.analyze_stack(resources(_statement(1, FAMILIES[0])))  # warm: the first call loads the IAM data
        print(f"{'family':<30} " + " ".join(f"{f'{n} runs':>10}" for n in LENGTHS) + "   (ms to a verdict)")
        for family in FAMILIES:
            cells = []
            for runs in LENGTHS:
                found = resources(_statement(runs, family))
                started = time.perf_counter()
                for resource in found:
                    pack.analyze(resource)
                verdicts = pack.analyze_stack(found)
                cells.append(f"{1000 * (time.perf_counter() - started):>10.1f}")
                assert verdicts is not None
            print(f"{family:<30} " + " ".join(cells))
    finally:
        pack.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
