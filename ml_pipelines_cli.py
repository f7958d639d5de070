"""`ml-pipelines`: the project's offline commands, from any folder of a checkout.

    ml-pipelines plan [--stack NAME]... [--sarif FILE] [--json] [--preview]   every stack, policy-checked
    ml-pipelines preview ARGS...      python -m tools.offline_preview ARGS (--cwd --stack --policy-pack ...)
    ml-pipelines simulate ARGS...     python -m tools.simulate ARGS (--stack --case, --list)
    ml-pipelines pack-config [--check]   python -m tools.pack_config
    ml-pipelines pack-config --init --cwd PROGRAM --account ID [--organization ID] [--output FILE]
                                      a starting pack config for a program of your own
    ml-pipelines explain ACTION       python -m policies.access ACTION: an IAM action's resource types
    ml-pipelines run-local --stack NAME [--pipeline NAME] [--json]   python -m tools.run_local: train, gate
                                      and serve each pipeline on this machine, under SageMaker's container contract
    ml-pipelines verify-github --repo OWNER/NAME [--settings FILE]   python -m tools.ci.verify_github: the
                                      repository's live GitHub settings against .github/settings.json and rulesets
    ml-pipelines audit-account (--authorization-details FILE | --live) [--config FILE] [--json] [--sarif FILE]
                                      python -m tools.audit: the pack's rules over an account's IAM, every principal

The checkout is the nearest folder above the shell's that holds `Pulumi.yaml` and `tools/offline_preview`.
Every path option is taken relative to the shell's folder, then handed on as an absolute path (the modules
themselves resolve `--policy-pack` relative to `--cwd`, as the Pulumi CLI does). Defaults name the checkout:
`--cwd` is its root, and `plan` adds the checkout's pack and `policies/config/{stack}.json`. Nothing but the
standard library is imported until a command runs, so `--help` answers at once.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

COMMANDS = {
    "plan": "tools.offline_preview",
    "preview": "tools.offline_preview",
    "simulate": "tools.simulate",
    "pack-config": "tools.pack_config",
    "explain": "policies.access",
    "run-local": "tools.run_local",
    "verify-github": "tools.ci.verify_github",
    "audit-account": "tools.audit",
}
PATH_OPTIONS = (
    "--cwd",
    "--policy-pack",
    "--policy-pack-config",
    "--sarif",
    "--invoke-results",
    "--stack-reference-outputs",
    "--mock-config",
    "--expectations",
    "--data",
    "--settings",
    "--authorization-details",
    "--config",
)


def checkout(start: Path) -> Path | None:
    """The nearest folder from `start` up that is a checkout of this project."""
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "tools" / "offline_preview").is_dir():
            return folder
    return None


def absolute(args: list[str], here: Path) -> list[str]:
    """Path options (`--cwd X` or `--cwd=X`) made absolute from the shell's folder; `{stack}` is kept."""
    found: list[str] = []
    pending = False
    for arg in args:
        name, sep, value = arg.partition("=")
        if pending:
            found.append(str(here / arg))
            pending = False
        elif name in PATH_OPTIONS and sep:
            found.append(f"{name}={here / value}")
        else:
            found.append(arg)
            pending = arg in PATH_OPTIONS
    return found


def _given(args: list[str], option: str) -> bool:
    return any(a == option or a.startswith(option + "=") for a in args)


def _stacks(root: Path) -> list[str]:
    from tools.mock_runtime.program import list_stacks, load_project

    return list_stacks(load_project(root))


def arguments(command: str, args: list[str], root: Path, here: Path) -> list[str]:
    """The module's arguments for a command: paths absolute, the checkout's defaults added."""
    found = absolute(args, here)
    if command == "explain" or "-h" in args or "--help" in args:
        return found
    if command not in ("pack-config", "verify-github", "audit-account") and not _given(found, "--cwd"):
        found = ["--cwd", str(root), *found]
    if command == "plan":
        if not _given(found, "--stack") and not _given(found, "--list"):
            found += [arg for stack in _stacks(root) for arg in ("--stack", stack)]
        if not _given(found, "--policy-pack"):
            found += ["--policy-pack", str(root / "policies")]
            found += ["--policy-pack-config", str(root / "policies" / "config" / "{stack}.json")]
    return found


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if args[0] not in COMMANDS:
        known = ", ".join(COMMANDS)
        print(f"error: unknown command {args[0]!r} (one of {known}; ml-pipelines --help)", file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    here = Path.cwd()
    root = checkout(here)
    if root is None:
        print(
            f"error: {here} is not inside a checkout of this project (no Pulumi.yaml with tools/ above)",
            file=sys.stderr,
        )
        return 2
    module = COMMANDS[command]
    sys.path.insert(0, str(root))
    sys.argv = [f"ml-pipelines {command}", *arguments(command, rest, root, here)]
    if command == "pack-config":
        os.chdir(root)  # it reads and writes the checkout's own files
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
