"""Keep prod's pack config in step with the stack files: the pipelines' resources bootstrap's deploy roles manage.

    python -m tools.pack_config          # rewrite the lists in policies/config/prod.json
    python -m tools.pack_config --check  # exit 1 when they differ from the stack files (a test runs this)

Bootstrap's deploy roles pass the pipelines' roles and update their functions; those resources are the project's
own, but another stack's (the main program's). `make plan` holds bootstrap to prod's config, so that config
names them, exactly, one by one: `allowedRoles` of `iam-passrole-scoped` (role names) and
`deployedResources` of `iam-no-privilege-escalation` (service and ARN resource part: `iam:role/<name>`,
`lambda:function:<name>`...). Every environment's stack file counts, since bootstrap's nonprod stack deploys
dev and staging. A name, never a pattern: a role another team creates under a matching name stays foreign.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from components.arns import AwsContext
from components.files import read_document
from components.ml_pipeline import pipelines_of, role_policies
from components.settings import SettingsError, settings_of_stack_file
from tools.cli import Parser, UsageError
from tools.mock_runtime.program import PlanError, load_project

ROOT = Path(__file__).resolve().parent.parent
PROD_CONFIG = ROOT / "policies" / "config" / "prod.json"
# Names do not depend on the account: any context builds them.
_CONTEXT = AwsContext(partition="aws", region="us-east-1", account_id="000000000000")


def deployed(stacks: Path = ROOT / "stacks") -> tuple[list[str], list[str]]:
    """(role names, resources as service:resource) of every pipeline of every stack file: the roles, the
    evaluation functions, the state machines and the retraining schedules a deploy manages."""
    try:
        project = load_project(stacks.parent).name
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    roles: set[str] = set()
    resources: set[str] = set()
    for path in sorted(stacks.glob("Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        settings = settings_of_stack_file(project, stack, path, stacks.parent)
        for pipeline in pipelines_of(project, stack, settings, _CONTEXT, stacks.parent):
            names = pipeline.names
            roles.update(role_policies(pipeline))
            resources.add(f"lambda:function:{names.evaluate_function}")
            resources.add(f"states:stateMachine:{names.state_machine}")
            if pipeline.settings.deployment.enabled:
                resources.add(f"states:stateMachine:{names.deploy_state_machine}")
                resources.add(f"events:rule/{names.approval_rule}")
            if pipeline.settings.schedule is not None:
                resources.add(f"scheduler:schedule/default/{names.retraining_schedule}")
    return sorted(roles), sorted(resources | {f"iam:role/{role}" for role in roles})


def updated(config: dict[str, object], roles: list[str], resources: list[str]) -> dict[str, object]:
    result = json.loads(json.dumps(config))
    for policy, key, names in (
        ("iam-passrole-scoped", "allowedRoles", roles),
        ("iam-no-privilege-escalation", "deployedResources", resources),
    ):
        entry = result.setdefault(policy, {})
        assert isinstance(entry, dict)
        entry[key] = names
    return result


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m tools.pack_config", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when prod.json differs from the stack files")
    try:
        args = parser.parse_args(argv)
        roles, resources = deployed()
    except (UsageError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        current = read_document(PROD_CONFIG, "pack config", UsageError)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    wanted = updated(current, roles, resources)
    if args.check:
        if wanted != current:
            print(
                f"error: {PROD_CONFIG.relative_to(ROOT)}: allowedRoles / deployedResources differ from the "
                "stack files; run: python -m tools.pack_config",
                file=sys.stderr,
            )
            return 1
        return 0
    PROD_CONFIG.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
