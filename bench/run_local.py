"""How long each step of the local run takes and how much memory its container uses, on the shipped dataset.

    .venv/bin/python -m bench.run_local [--stack dev] [--runs 3]

Runs `python -m tools.run_local --stack STACK --json` --runs times (a new process each run, as a user runs it)
and prints, per step, the median wall-clock seconds and the median peak resident memory of the step's process
(the kernel's ru_maxrss of that one process), then the whole command's median wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_local", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    steps: dict[str, list[tuple[float, float]]] = {}
    walls, rows = [], 0
    for _ in range(args.runs):
        started = time.perf_counter()
        command = [sys.executable, "-m", "tools.run_local", "--stack", args.stack, "--json"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - started)
        if result.returncode not in (0, 1):
            raise SystemExit(f"run-local failed ({result.returncode}): {result.stderr[-500:]}")
        for pipeline in json.loads(result.stdout)["pipelines"]:
            rows = len(pipeline["predictions"])
            for step in pipeline["steps"]:
                steps.setdefault(f"{pipeline['pipeline']} {step['name']}", []).append(
                    (step["seconds"], step["peakMemoryMB"])
                )
    print(f"run-local --stack {args.stack}, median of {args.runs} runs (scikit-learn's breast cancer data, 569 rows)")
    print(f"{'step':<24} {'seconds':>8} {'peak MB':>8}")
    for name, figures in steps.items():
        seconds = statistics.median(f[0] for f in figures)
        memory = statistics.median(f[1] for f in figures)
        print(f"{name:<24} {seconds:8.2f} {memory if memory else float('nan'):8.0f}")
    print(f"{'whole command':<24} {statistics.median(walls):8.2f}   ({rows} held-out predictions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
