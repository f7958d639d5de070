"""Regenerate the data the policy pack reads, from the installed packages' own data.

    python -m tools.policy_data          # rewrite policies/data/*.json
    python -m tools.policy_data --check  # exit 1 when they are stale (a test runs this)

- `aws_managed_full_sagemaker.json`: the AWS-managed policies whose documents grant every SageMaker action on
  every SageMaker resource, judged by the pack's own IAM semantics on moto's copy of AWS's managed-policy
  documents (moto/iam/aws_managed_policies.py). The pack blocks attaching them in prod without shipping
  moto or 4 MB of documents.
- `aws_taggable_types.json`: the pulumi_aws resource types that take `tags`, read from the SDK's resource
  classes, so `required-tags` asks for tags only where AWS can store them.

The pack runs with pulumi-policy and policy_sentry only; the generator needs the tools extra (moto).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "policies" / "data"
MANAGED = DATA / "aws_managed_full_sagemaker.json"
TAGGABLE = DATA / "aws_taggable_types.json"

_TOKEN = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'(aws:[^']+)'")


def managed_full_sagemaker() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    sys.path.insert(0, str(ROOT))
    from policies.iam_semantics import parse_document, sagemaker_full_access

    found: dict[str, Any] = {}
    for name, policy in sorted(json.loads(aws_managed_policies_data).items()):
        grant = sagemaker_full_access(parse_document(policy["Document"]))
        if grant is not None:
            found[name] = {"path": policy["Path"], "finding": grant.describe()}
    return {"source": "moto.iam.aws_managed_policies", "policies": found}


def taggable_types() -> dict[str, Any]:
    import pulumi_aws

    types: set[str] = set()
    for module in sorted(Path(pulumi_aws.__file__).parent.rglob("*.py")):
        text = module.read_text(encoding="utf-8")
        match = _TOKEN.search(text)
        if match and '__props__.__dict__["tags"] = tags' in text:
            types.add(match.group(1))
    return {"source": f"pulumi_aws {pulumi_aws_version()}", "types": sorted(types)}


def pulumi_aws_version() -> str:
    from importlib.metadata import version

    return version("pulumi_aws")


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.policy_data", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed files are stale")
    args = parser.parse_args(argv)
    stale = []
    for path, build in ((MANAGED, managed_full_sagemaker), (TAGGABLE, taggable_types)):
        text = render(build())
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.relative_to(ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        names = ", ".join(str(p) for p in stale)
        print(
            f"error: {names} out of date with the installed packages; run: python -m tools.policy_data", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
