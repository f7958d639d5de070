"""Terminal output: the resource tree, violations grouped by enforcement level, a one-line verdict."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

if TYPE_CHECKING:
    from tools.offline_preview.__main__ import Outcome

LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow", "remediate": "cyan", "disabled": "dim"}


def _tree(outcome: Outcome, preview: bool) -> Tree:
    assert outcome.plan is not None
    verb = "create" if preview else "plan"
    # As the CLI shows a plan: the root stack at the top, default providers (the engine's) not shown.
    shown = [r for r in outcome.plan.resources if not r.default]
    root = Tree(f"[bold]{outcome.project}[/]/[bold]{outcome.stack}[/]  ({len(shown)} resources to {verb})")
    nodes: dict[str, Tree] = {}
    for resource in shown:
        parent = nodes.get(resource.parent, root)
        nodes[resource.urn] = parent.add(f"[green]+[/] {resource.type} [bold]{resource.name}[/]")
    return root


def _remediations(outcome: Outcome) -> Table:
    table = Table(title=f"remediations ({len(outcome.remediations)})", title_style="cyan", show_lines=True)
    for column in ("pack", "policy", "resource", "changed"):
        table.add_column(column, overflow="fold")
    for r in outcome.remediations:
        changes = "\n".join(
            f"{key}: {json.dumps(r.before.get(key))} -> {json.dumps(r.after.get(key))}" for key in r.changed
        )
        table.add_row(r.policy_pack_name, r.policy_name, r.resource_urn.rsplit("::", 1)[-1], changes)
    return table


def render(outcomes: list[Outcome], *, preview: bool, console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=False)
    for outcome in outcomes:
        if outcome.error is not None:
            # One line, whatever the terminal's width: scripts and CI logs grep for it.
            for line in outcome.error.splitlines():
                console.print(f"[bold red]error[/]: {outcome.stack}: {line}", soft_wrap=True, markup=True)
            if outcome.detail:
                console.print(outcome.detail, markup=False)
            continue
        console.print(_tree(outcome, preview))
        if outcome.remediations:
            console.print(_remediations(outcome))
        for level in ("mandatory", "advisory", "remediate"):
            found = [d for d in outcome.diagnostics if d.enforcement_level == level]
            if not found:
                continue
            table = Table(title=f"{level} violations ({len(found)})", title_style=LEVEL_STYLE[level], show_lines=True)
            for column in ("pack", "policy", "resource", "message"):
                table.add_column(column, overflow="fold")
            for d in found:
                resource = d.resource_urn.rsplit("::", 1)[-1] if d.resource_urn else "(stack)"
                table.add_row(d.policy_pack_name, d.policy_name, resource, d.message)
            console.print(table)
        mandatory = sum(d.enforcement_level == "mandatory" for d in outcome.diagnostics)
        advisory = sum(d.enforcement_level == "advisory" for d in outcome.diagnostics)
        if mandatory:
            console.print(
                f"[bold red]FAIL[/] {outcome.stack}: {mandatory} mandatory, {advisory} advisory violations",
                soft_wrap=True,
            )
        else:
            console.print(
                f"[bold green]PASS[/] {outcome.stack}: no mandatory violation ({advisory} advisory)", soft_wrap=True
            )
