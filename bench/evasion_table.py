"""Run every evasion variant the tests try through the real policy pack, in a prod stack, and print the
README's table: the variant, the verdict, and which policies caught it.

    .venv/bin/python -m bench.evasion_table
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.policies.test_iam import GRANT_SOURCES  # noqa: E402
from tests.policies.test_iam_semantics import VARIANTS  # noqa: E402
from tools.offline_preview.analyzer import PolicyPack, StackResource  # noqa: E402


def main() -> int:
    started = time.perf_counter()
    pack = PolicyPack(ROOT / "policies", project="ml-pipelines", stack="prod", dry_run=True).start()
    rows: list[tuple[str, str, str]] = []
    try:
        pack.configure([])
        cases: list[tuple[str, str, dict, bool]] = [
            (
                name,
                "aws:iam/rolePolicy:RolePolicy",
                {"role": "r", "policy": document if isinstance(document, str) else json.dumps(document)},
                flagged,
            )
            for name, document, flagged in VARIANTS
        ]
        cases += [(f"in {name}", type_, values, True) for name, type_, values, _ in GRANT_SOURCES]
        misses = 0
        for name, type_, values, expected in cases:
            urn = f"urn:pulumi:prod::ml-pipelines::{type_}::subject"
            found = pack.analyze(StackResource(urn, type_, "subject", values))
            caught = sorted({d.policy_name for d in found if d.policy_name == "sagemaker-no-full-access-in-prod"})
            others = sorted({d.policy_name for d in found} - set(caught))
            verdict = "blocked (mandatory)" if caught else "passes"
            if bool(caught) != expected:
                misses += 1
                verdict += " **UNEXPECTED**"
            rows.append((name, verdict, ", ".join(others) or "-"))
    finally:
        pack.close()
    print("| Variant (prod stack) | `sagemaker-no-full-access-in-prod` | Also reported by |")
    print("| --- | --- | --- |")
    for name, verdict, others in rows:
        print(f"| {name} | {verdict} | {others} |")
    print(f"\n{len(rows)} variants, {misses} unexpected, {time.perf_counter() - started:.1f} s")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
