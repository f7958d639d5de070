"""Keep prod's pack config in step with the stack files: the pipelines' resources bootstrap's deploy roles manage.

    python -m tools.pack_config          # rewrite the lists in policies/config/prod.json
    python -m tools.pack_config --check  # exit 1 when they differ from the stack files (a test runs this)
    python -m tools.pack_config --init --cwd PROGRAM --account ID [--account ID]... [--organization ID]...
        [--output FILE]                  # a starting pack config for a program of your own

`--init` writes prod's levels and settings with your accounts (and organisations) wherever a policy takes
allowed accounts, and none of this project's resources (`allowedRoles`, `deployedResources` stay empty: list
your own as the pack's messages ask). It writes `pack-config.json` in the program's folder (`--output`,
relative to `--cwd`), never over an existing file.

Bootstrap's deploy roles pass the pipelines' roles and update their functions; those resources are the project's
own, but another stack's (the main program's). `make plan` holds bootstrap to prod's config, so that config
names them, exactly, one by one: `allowedRoles` of `iam-passrole-scoped` (role names) and
`deployedResources` of `iam-no-privilege-escalation` (service and ARN resource part: `iam:role/<name>`,
`lambda:function:<name>`...). Every environment's stack file counts, since bootstrap's nonprod stack deploys
dev and staging. A name, never a pattern: a role another team creates under a matching name stays foreign.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from components.arns import AwsContext
from components.files import read_document
from components.ml_pipeline import pipelines_of, role_policies
from components.settings import SettingsError, settings_of_stack_file
from tools.cli import Parser, UsageError
from tools.mock_runtime.mocks import World
from tools.mock_runtime.program import PlanError, list_stacks, load_project, load_stack_config

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


ACCOUNT_KEYS = frozenset({"allowedAccounts"})
ORGANIZATION_KEYS = frozenset({"allowedOrganizations"})
PROJECT_KEYS = frozenset({"allowedRoles", "deployedResources", "allowedClaimWildcards", "allowedGitHubRepositories"})
"""Settings that name this project's own resources or repository: a starting config for another program leaves
them empty (a GitHub trust is then refused until the program's repositories are listed)."""


def pack_policies() -> dict[str, dict[str, object]]:
    """Every policy of the pack (each module's POLICIES), by name: its settings and their defaults."""
    import importlib
    import pkgutil

    import policies

    found: dict[str, dict[str, object]] = {}
    for info in sorted(pkgutil.iter_modules(policies.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"policies.{info.name}")
        for policy in getattr(module, "POLICIES", []):
            found[policy.name] = dict(getattr(policy, "defaults", {}))
    return found


def starting_config(prod: dict[str, object], accounts: list[str], organizations: list[str]) -> dict[str, object]:
    """Prod's levels and settings, the accounts and organisations given where a policy takes them, and none of
    this project's resources."""
    config: dict[str, object] = {k: v for k, v in prod.items() if k == "all"}
    for name, defaults in pack_policies().items():
        entry = prod.get(name)
        level = entry if isinstance(entry, str) else entry.get("enforcementLevel") if isinstance(entry, dict) else None
        settings: dict[str, object] = {}
        for key in defaults:
            if key in ACCOUNT_KEYS:
                settings[key] = list(accounts)
            elif key in ORGANIZATION_KEYS:
                if organizations:
                    settings[key] = list(organizations)
            elif key not in PROJECT_KEYS and isinstance(entry, dict) and key in entry:
                settings[key] = entry[key]
        if settings:
            config[name] = {**({"enforcementLevel": level} if level else {}), **settings}
        elif level:
            config[name] = level
    return config


def _init(args: Any) -> int:
    """`--init`: write a starting config for the program in --cwd; every problem is one line."""
    try:
        if args.cwd is None:
            raise UsageError("--init needs --cwd PROGRAM: the folder of the Pulumi program the config is for")
        if not args.account:
            raise UsageError("--init needs --account ID (each AWS account the program deploys to, 12 digits)")
        for account in args.account:
            if not re.fullmatch(r"[0-9]{12}", account):
                raise UsageError(f"--account {account!r}: an AWS account ID is 12 digits")
        for organization in args.organization:
            if not re.fullmatch(r"o-[a-z0-9]{10,32}", organization):
                raise UsageError(f"--organization {organization!r}: an organization ID is o- and 10 to 32 [a-z0-9]")
        directory = args.cwd.resolve()
        project = load_project(directory)
        output = directory / args.output
        if output.exists():
            raise UsageError(f"{output}: already exists; remove it or name another file with --output")
        prod = read_document(PROD_CONFIG, "pack config", UsageError)
    except (UsageError, PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = starting_config(prod, sorted(set(args.account)), sorted(set(args.organization)))
    output.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}: prod's levels, accounts {', '.join(sorted(set(args.account)))}")
    for stack in list_stacks(project):
        try:
            settings, _ = load_stack_config(project, stack)
        except PlanError:
            continue
        if "aws:allowedAccountIds" not in settings:
            print(
                f"note: {project.stack_file(stack)} sets no aws:allowedAccountIds: the offline preview runs it in "
                f"account {World().account_id}, which this config does not allow; add aws:allowedAccountIds: "
                f'["{sorted(set(args.account))[0]}"] to its config (docs/policies.md, step 1)'
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m tools.pack_config", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when prod.json differs from the stack files")
    parser.add_argument("--init", action="store_true", help="write a starting pack config for your own program")
    parser.add_argument("--cwd", type=Path, help="with --init: the program's folder (its Pulumi.yaml)")
    parser.add_argument("--account", action="append", default=[], help="with --init: an allowed account (repeat)")
    parser.add_argument(
        "--organization", action="append", default=[], help="with --init: an allowed organization (repeat)"
    )
    parser.add_argument("--output", type=Path, default=Path("pack-config.json"), help="with --init: the file")
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.init:
        return _init(args)
    try:
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
