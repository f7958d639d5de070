"""The suite's wall time against the floor of this machine: one Python start that imports what the suite uses.

    .venv/bin/python -m bench.suite [--runs 3] [--suite-runs 1] [--fast]

Prints the median of `--runs` timings of `python -c "import pulumi, pulumi_aws, pulumi_policy, moto,
botocore.session"` (the floor), the median of `--suite-runs` timings of `make test` (`--fast`: `make
test-fast`) as a user runs it, and their ratio. Each suite run is preceded by floor timings, so that a machine
whose speed drifts moves both. The target (issue 16) is a ratio of at most 60 for the whole suite and under
10 s for the fast one.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import pulumi, pulumi_aws, pulumi_policy, moto, botocore.session"


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-1:]
        raise SystemExit(f"error: {' '.join(command[:4])} failed: {tail}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timings of the floor (median)")
    parser.add_argument("--suite-runs", type=int, default=1, help="timings of the suite (median)")
    parser.add_argument("--fast", action="store_true", help="time make test-fast instead")
    args = parser.parse_args(argv)
    name = "make test-fast" if args.fast else "make test"
    floors, suites = [], []
    for _ in range(args.suite_runs):
        floors += [_timed([sys.executable, "-c", FLOOR]) for _ in range(args.runs)]
        suites.append(_timed(["make", "--no-print-directory", *name.split()[1:]]))
        print(f"  {name}: {suites[-1]:.1f} s wall", flush=True)
    floor, suite = statistics.median(floors), statistics.median(suites)
    print(f"floor (one Python start importing pulumi, pulumi_aws, pulumi_policy, moto, botocore): {floor:.2f} s")
    print(f"{name}: {suite:.1f} s wall (median of {len(suites)})")
    print(f"ratio: {suite / floor:.0f} x the floor")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
