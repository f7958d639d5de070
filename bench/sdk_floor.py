"""The least any offline preview of this program can take on Pulumi's Python SDK: the program run under the SDK's
own mock monitor (`pulumi.runtime.set_mocks`), with mocks that answer at once (a resource's outputs are its inputs
and a made-up ARN; the three provider functions the program calls answer constants), and no policy pack.

    .venv/bin/python -m bench.sdk_floor [--cwd DIR] STACK [STACK...]

Prints the seconds of each stack's run, then the whole process's (Python's start and every import included).
`bench.offline_preview` runs it as the floor of what the offline preview does on top of the SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()

import pulumi  # noqa: E402
from pulumi.runtime import settings as pulumi_settings  # noqa: E402

ANSWERS = {
    "aws:index/getPartition:getPartition": {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"},
    "aws:index/getRegion:getRegion": {"region": "eu-west-1", "name": "eu-west-1", "id": "eu-west-1"},
    "aws:index/getCallerIdentity:getCallerIdentity": {
        "accountId": "123456789012",
        "arn": "arn:aws:iam::123456789012:user/bench",
        "userId": "AIDAEXAMPLE",
        "id": "123456789012",
    },
}


class _Instant(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = {"arn": f"arn:aws:iam::123456789012:role/{args.name}", "name": args.name, **args.inputs}
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return ANSWERS.get(args.token, {})


def run_stack(directory: Path, stack: str) -> float:
    """One stack's program under the SDK's mock monitor: seconds."""
    sys.path.insert(0, str(directory))
    sys.path.insert(0, str(directory.parent))
    from tools.mock_runtime.program import load_project, load_stack_config

    project = load_project(directory)
    config, secrets = load_stack_config(project, stack)
    started = time.perf_counter()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_all_config(config, sorted(secrets))
    pulumi_settings.SETTINGS.outputs = set()
    pulumi.runtime.set_mocks(_Instant(), project=project.name, stack=stack, preview=True)
    here = Path.cwd()
    os.chdir(directory)
    try:
        loop.run_until_complete(
            pulumi.runtime.stack.run_pulumi_func(lambda: runpy.run_path("__main__.py", run_name="__main__"))
        )
    finally:
        os.chdir(here)
        loop.close()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cwd", type=Path, default=Path.cwd())
    parser.add_argument("stacks", nargs="+")
    args = parser.parse_args()
    for stack in args.stacks:
        print(f"{stack} {run_stack(args.cwd.resolve(), stack):.3f}")
    print(f"process {time.perf_counter() - STARTED:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    main()
    os._exit(0)  # no interpreter teardown: the floor is the least a run takes
