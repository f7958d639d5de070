"""Where the offline preview's time goes, per part: the program run, the pack's start, the gRPC round trips, the
parse of each request, and each policy.

    .venv/bin/python -m bench.where_time_goes [--pipelines 100]

For the project's three stacks, and for one prod stack declaring --pipelines copies of prod's pipeline
(`bench.offline_preview`'s scaled project). The program runs under the offline preview's mock runtime; the pack
runs in this process, on the requests the offline preview sends (recorded), through the pack's servicer, each
policy timed; the round trip is a request the pack answers at once, timed through a running pack. Seconds.
"""

from __future__ import annotations

import argparse
import collections
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel

from bench.offline_preview import ROOT, _scaled_project
from policies import catalog, servicer
from tools.mock_runtime.program import run_program
from tools.offline_preview.analyzer import PolicyPack, RecordingPack, StackResource
from tools.offline_preview.check import check


def _requests(directory: Path, stack: str) -> tuple[float, list[tuple[str, Any]]]:
    started = time.perf_counter()
    plan = run_program(directory, stack, preview=True)
    program = time.perf_counter() - started
    pack = RecordingPack(ROOT / "policies", project=plan.project, stack=stack)
    check(plan, [pack])
    return program, pack.sent


def _served(requests: list[tuple[str, Any]], sdk: bool = False) -> tuple[dict[str, float], float, float]:
    """Each policy's seconds, the parse's, and the whole pack's, over the requests (through the SDK's own servicer
    with `sdk`: each resource parsed once per policy)."""
    spent: dict[str, float] = collections.defaultdict(float)
    for policy in catalog.POLICIES:
        validate = policy.validate

        def timed(args: Any, report: Any, validate: Any = validate, name: str = policy.name) -> Any:
            started = time.perf_counter()
            try:
                return validate(args, report)
            finally:
                spent[name] += time.perf_counter() - started

        policy.validate = timed  # type: ignore[method-assign]
    kind = servicer.ParsedOnceServicer.__bases__[0] if sdk else servicer.ParsedOnceServicer
    served = kind("bench", "0.1.0", catalog.POLICIES, EnforcementLevel.MANDATORY)
    gc.collect()
    gc.freeze()  # what is alive now (the recorded requests) is not the pack's: the collector skips it, as it would
    started = time.perf_counter()
    for method, request in requests:
        getattr(served, method)(request, None)
    whole = time.perf_counter() - started
    gc.unfreeze()
    for policy in catalog.POLICIES:
        del policy.validate
    return spent, whole - sum(spent.values()), whole


def _round_trips(count: int) -> tuple[float, float]:
    """The pack's start (to its port), and `count` Analyze round trips of a resource no policy reads."""
    started = time.perf_counter()
    pack = PolicyPack(ROOT / "policies", project="bench", stack="prod", dry_run=True).start()
    pack._connect()
    start = time.perf_counter() - started
    pack.configure([ROOT / "policies/config/prod.json"])
    resource = StackResource("urn:pulumi:prod::bench::random:index/x:X::a", "random:index/x:X", "a", {"k": "v"})
    started = time.perf_counter()
    for _ in range(count):
        pack.analyze(resource)
    trips = time.perf_counter() - started
    pack.close()
    return start, trips


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument(
        "--sdk-servicer", action="store_true", help="serve through pulumi-policy's own servicer (parse per policy)"
    )
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []
    programs = [_requests(ROOT, stack) for stack in ("dev", "staging", "prod")]
    requests = [r for _, sent in programs for r in sent]
    with tempfile.TemporaryDirectory() as tmp:
        _scaled_project(Path(tmp), args.pipelines)
        scaled_program, scaled = _requests(Path(tmp), "prod")
    spent, parse, whole = _served(requests, args.sdk_servicer)
    scaled_spent, scaled_parse, scaled_whole = _served(scaled, args.sdk_servicer)
    start, _ = _round_trips(0)
    _, trips = _round_trips(sum(1 for m, _ in requests if m == "Analyze"))
    _, scaled_trips = _round_trips(sum(1 for m, _ in scaled if m == "Analyze"))
    rows.append(("program runs (mock runtime, the first run's imports included)", sum(p for p, _ in programs),
                 scaled_program))  # fmt: skip
    rows.append(("pack start, to its port (one per stack, overlapping the first program)", start, start))
    rows.append(("Analyze round trips (a request no policy reads, one per resource)", trips, scaled_trips))
    rows.append(("parse of the requests and the servicer's own work", parse, scaled_parse))
    for policy in catalog.POLICIES:
        rows.append((policy.name, spent[policy.name], scaled_spent[policy.name]))
    rows.append(("the pack, every request (parse and policies)", whole, scaled_whole))
    print(f"| Part | 3 stacks (s) | 1 stack, {args.pipelines} pipelines (s) |\n|---|---|---|")
    for name, small, large in rows:
        print(f"| {name} | {small:.3f} | {large:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
