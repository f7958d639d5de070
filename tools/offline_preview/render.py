"""Terminal output: the resource tree, violations grouped by enforcement level, a one-line verdict."""

from __future__ import annotations

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
    root = Tree(
        f"[bold]{outcome.project}[/]/[bold]{outcome.stack}[/]  ({len(outcome.plan.resources)} resources to {verb})"
    )
    nodes: dict[str, Tree] = {}
    for resource in outcome.plan.resources:
        parent = nodes.get(resource.parent, root)
        nodes[resource.urn] = parent.add(f"[green]+[/] {resource.type} [bold]{resource.name}[/]")
    return root


def render(outcomes: list[Outcome], *, preview: bool, console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=False)
    for outcome in outcomes:
        if outcome.error is not None:
            # One line, whatever the terminal's width: scripts and CI logs grep for it.
            console.print(f"[bold red]error[/]: {outcome.stack}: {outcome.error}", soft_wrap=True)
            if outcome.detail:
                console.print(outcome.detail, markup=False)
            continue
        console.print(_tree(outcome, preview))
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
