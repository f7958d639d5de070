"""tools/mock_runtime/program.py: runs of a program in one process stay apart, a failed one included."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import pytest

from tools.mock_runtime.mocks import AwsMocks
from tools.mock_runtime.program import run_program


def test_a_failed_run_returns_only_once_its_threads_are_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When one registration fails, Pulumi stops waiting for the others: the run returns only once the mock
    monitor's threads have answered them (nothing of a run happens after it returned). And the next run in
    the same process completes: each run has its own set of pending outputs (the mock settings leave it
    unset, and Pulumi's context properties then fall back to the first set ever made, where the failed run's
    futures, bound to its closed loop, would be awaited forever)."""
    (tmp_path / "Pulumi.yaml").write_text("name: failing\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text('import pulumi_aws as aws\naws.s3.Bucket("slow")\naws.s3.Bucket("fails")\n')
    answered: list[str] = []
    original = AwsMocks.new_resource

    def new_resource(self: AwsMocks, args: Any) -> Any:
        if args.name == "fails":
            raise RuntimeError("the mocks refuse this one")
        time.sleep(0.5)
        result = original(self, args)
        answered.append(args.name)
        return result

    monkeypatch.setattr(AwsMocks, "new_resource", new_resource)
    with pytest.raises(Exception, match="the mocks refuse this one"):
        run_program(tmp_path, "dev")
    assert answered == ["slow"]
    monkeypatch.undo()

    # And the next run, in the same process, completes.
    buckets = run_program(tmp_path, "dev", preview=True).of_type("aws:s3/bucket:Bucket")
    assert sorted(r.name for r in buckets) == ["fails", "slow"]


def test_an_error_other_than_the_runs_own_is_still_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The futures that carry a failed run's error are not logged again; a background task's error is."""
    (tmp_path / "Pulumi.yaml").write_text("name: failing\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import asyncio\nimport pulumi\n\n"
        "async def background():\n    raise KeyError('background problem')\n\n"
        "kept = asyncio.ensure_future(background())\n"
        "pulumi.export('x', pulumi.Output.from_input(1).apply(lambda v: 1 / 0))\n"
    )
    with pytest.raises(ZeroDivisionError):
        run_program(tmp_path, "dev")
    gc.collect()
    logged = [r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records if r.name == "asyncio"]
    assert any("never retrieved" in m and "background problem" in m for m in logged), logged
    assert not any("division by zero" in m for m in logged), logged


RESOURCES_AS_INPUTS = """\
import json
import pulumi
import pulumi_aws as aws

trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "lambda.amazonaws.com"}}]}
role = aws.iam.Role("r", assume_role_policy=json.dumps(trust))
basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
aws.iam.RolePolicyAttachment("a", role=role, policy_arn=basic)
fn = aws.lambda_.Function("fn", role=role.arn, runtime="python3.12", handler="h.handler",
                          code=pulumi.AssetArchive({"h.py": pulumi.StringAsset("def handler(e, c): pass")}))
aws.lambda_.Permission("p", function=fn, action="lambda:InvokeFunction", principal="s3.amazonaws.com",
                       source_account="123456789012")
"""

_RUN = """\
import json, sys
from pathlib import Path
from pulumi.output import Unknown
from tools.mock_runtime.program import run_program
plan = run_program(Path(sys.argv[1]), "prod", preview=sys.argv[2] == "preview")
def seen(name, key):
    value = plan.named(name).inputs.get(key)
    return "<unknown>" if isinstance(value, Unknown) else value
print(json.dumps({"role": seen("a", "role"), "function": seen("p", "function"), "roleId": plan.named("r").id,
                  "fnId": plan.named("fn").id, "deps": plan.named("a").property_dependencies["role"]}))
"""


@pytest.mark.parametrize("phase", ["preview", "update"])
def test_resource_objects_as_inputs_run_as_under_the_engine(tmp_path: Path, phase: str) -> None:
    """`role=role`, `function=fn`: the style of many examples. The engine hands pulumi-aws (which takes no resource
    references) the resource's ID: the name of the role or function in an update, unknown at a first preview;
    the dependency is kept. It used to hang (a reference deserialized on the mock monitor's thread registered a
    resource on a loop nobody ran), so it runs in a process of its own, bounded."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    (tmp_path / "Pulumi.yaml").write_text("name: inputs\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(RESOURCES_AS_INPUTS)
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(tmp_path), phase],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["deps"] == ["urn:pulumi:prod::inputs::aws:iam/role:Role::r"]
    if phase == "preview":
        assert (seen["role"], seen["function"]) == ("<unknown>", "<unknown>")
    else:
        assert seen["role"] == seen["roleId"] and seen["role"].startswith("r-")
        assert seen["function"] == seen["fnId"] and seen["function"].startswith("fn-")
