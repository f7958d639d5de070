"""How fast the offline preview plans and policy-checks, against the floor no implementation can beat.

    .venv/bin/python -m bench.offline_preview [--runs 5]

- floor: start Python and import pulumi, pulumi_aws and pulumi_policy, three times (one per stack);
- SDK floor: the same programs under Pulumi's own mock monitor, answering at once, without a pack
  (`bench.sdk_floor`): the least any offline preview of this program on Pulumi's Python SDK takes;
- make plan: all three stacks planned and checked by the real pack, cold (a new process each run);
- scale: one stack declaring 10, 50 and 100 pipelines (a copy of prod's pipeline, renamed), planned and
  checked, and its SDK floor; the seconds each added pipeline costs stay flat if the cost is linear.
Medians of --runs runs; wall-clock seconds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _timed(command: list[str], cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({result.returncode}): {result.stdout[-500:]}{result.stderr[-500:]}"
        )
    return elapsed


def _median(runs: int, command: list[str], cwd: Path = ROOT) -> float:
    return statistics.median(_timed(command, cwd) for _ in range(runs))


def _floor(runs: int) -> float:
    imports = [PYTHON, "-c", "import pulumi, pulumi_aws, pulumi_policy"]
    return statistics.median(sum(_timed(imports) for _ in range(3)) for _ in range(runs))


def _plan(stacks: list[str], config: str, cwd: Path = ROOT) -> list[str]:
    command = [PYTHON, "-m", "tools.offline_preview", "--cwd", str(cwd)]
    for stack in stacks:
        command += ["--stack", stack]
    return [*command, "--policy-pack", str(ROOT / "policies"), "--policy-pack-config", config, "--preview"]


def _scaled_project(directory: Path, pipelines: int) -> None:
    for item in ("Pulumi.yaml", "__main__.py", "components", "functions", "workloads"):
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, directory / item)
    (directory / "stacks").mkdir()
    prod = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    template = prod["config"]["ml-pipelines:pipelines"][0]
    prod["config"]["ml-pipelines:pipelines"] = [{**template, "name": f"p{i:03d}"} for i in range(pipelines)]
    (directory / "stacks" / "Pulumi.prod.yaml").write_text(yaml.safe_dump(prod))


def _sdk_floor(runs: int, stacks: list[str], cwd: Path = ROOT) -> float:
    return _median(runs, [PYTHON, "-m", "bench.sdk_floor", "--cwd", str(cwd), *stacks])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    floor = _floor(args.runs)
    sdk = _sdk_floor(args.runs, ["dev", "staging", "prod"])
    plan = _median(args.runs, _plan(["dev", "staging", "prod"], str(ROOT / "policies/config/{stack}.json")))
    print(f"floor (3 x python + import pulumi, pulumi_aws, pulumi_policy): {floor:.2f} s")
    print(f"SDK floor (the 3 programs under pulumi's mock monitor, no pack): {sdk:.2f} s ({sdk / floor:.2f} x floor)")
    print(
        f"make plan, 3 stacks planned and policy-checked, cold:         {plan:.2f} s ({plan / floor:.2f} x floor, "
        f"{plan / sdk:.2f} x SDK floor)"
    )
    print("pipelines  seconds  SDK floor  x SDK floor  seconds/pipeline since the last row (SDK floor's)")
    last: tuple[int, float, float] | None = None
    for count in (10, 50, 100):
        with tempfile.TemporaryDirectory() as tmp:
            _scaled_project(Path(tmp), count)
            runs = max(1, args.runs // 2)
            seconds = _median(runs, _plan(["prod"], str(ROOT / "policies/config/prod.json"), Path(tmp)))
            floor_seconds = _sdk_floor(runs, ["prod"], Path(tmp))
        slope = "-"
        if last:
            added = count - last[0]
            slope = f"{(seconds - last[1]) / added:.3f} ({(floor_seconds - last[2]) / added:.3f})"
        print(f"{count:9d}  {seconds:7.2f}  {floor_seconds:9.2f}  {seconds / floor_seconds:11.2f}  {slope}")
        last = (count, seconds, floor_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
