"""Programs nobody here wrote: in pulumi/examples' styles (resource objects as inputs, outputs in strings and
policies, data sources, a stack reference, Lambda permissions, API Gateway, ECS and EKS roles), each run through
the offline preview and the pack in both phases, with a pack config a user starts from (`pack_config --init`).

Each run must complete, and find exactly what it should: nothing on the sound ones but what their pack config
asks for (a service without the confused-deputy guard) or what a first preview cannot know yet; everything on
`overgrant`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools.offline_preview.__main__ import main
from tools.pack_config import main as pack_config

PROGRAMS = Path(__file__).parent / "programs"

# (program, phase) -> the (policy, resource name) pairs reported, mandatory all (prod's levels).
EXPECTED: dict[tuple[str, str], set[tuple[str, str]]] = {
    ("lambda_api", "update"): set(),
    # The permission's source ARN is computed from the stage's execution ARN: not known before the stage exists.
    ("lambda_api", "preview"): {("resource-policies-not-public", "api-invoke")},
    # API Gateway is not among the services the config lets trust without aws:SourceAccount.
    ("http_api", "update"): {("iam-trust-restricted", "api-role")},
    ("http_api", "preview"): {
        ("iam-trust-restricted", "api-role"),
        # The policy is built from the queue's ARN, not known before the queue exists.
        ("iam-attached-policies-checked", "send"),
    },
    ("containers", "update"): {("iam-trust-restricted", "eks-cluster")},
    ("containers", "preview"): {("iam-trust-restricted", "eks-cluster")},
    ("data_sources", "update"): set(),
    ("data_sources", "preview"): set(),
    ("overgrant", "update"): {
        ("iam-trust-restricted", "notebook"),
        ("iam-least-privilege-in-prod", "notebook-full"),
        ("iam-no-data-plane-reach", "notebook"),
        ("iam-no-privilege-escalation", "notebook"),
        ("iam-passrole-scoped", "notebook"),
        ("iam-service-role-policies", "person"),
        ("iam-no-data-plane-reach", "person"),
        ("resource-policies-not-public", "data-open"),
        ("s3-buckets-encrypted-and-private", "data"),
    },
}
EXPECTED[("overgrant", "preview")] = EXPECTED[("overgrant", "update")]


@pytest.mark.parametrize(("program", "phase"), sorted(EXPECTED))
def test_a_program_in_the_examples_styles_runs_and_is_judged(
    tmp_path: Path, program: str, phase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / program
    shutil.copytree(PROGRAMS / program, project)
    assert pack_config(["--init", "--cwd", str(project), "--account", "111122223333"]) == 0
    capsys.readouterr()
    args = ["--cwd", str(project), "--stack", "prod", "--policy-pack", str(ROOT / "policies")]
    args += ["--policy-pack-config", "pack-config.json", "--json"]
    args += ["--preview"] if phase == "preview" else []
    args += ["--stack-reference-outputs", "stacks.yaml"] if (project / "stacks.yaml").exists() else []
    code = main(args)
    document = json.loads(capsys.readouterr().out)
    assert "error" not in document, document.get("error")
    found = {(v["policyName"], v["resourceUrn"].rsplit("::", 1)[-1]) for v in document["policyViolations"]}
    assert found == EXPECTED[(program, phase)]
    assert {v["enforcementLevel"] for v in document["policyViolations"]} <= {"mandatory"}
    assert code == (1 if found else 0)
