"""What the offline preview prints: a summary first (stacks, resources, violations by level), then each stack's
resource tree, remediations and violations, then a one-line verdict per stack; in the same order on every
run (resources by their place in the tree and their type and name, violations by level, resource and policy).

On a terminal: rich's tree and tables. Piped or in CI: plain lines that never wrap, whatever the width, so
that a log keeps one violation a line. In GitHub Actions (`GITHUB_STEP_SUMMARY` set), a Markdown summary is
also appended to the job's summary page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

if TYPE_CHECKING:
    from tools.mock_runtime.program import Plan, Resource
    from tools.offline_preview.analyzer import Diagnostic
    from tools.offline_preview.outcome import Outcome

LEVELS = ("mandatory", "advisory", "remediate")
LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow", "remediate": "cyan", "disabled": "dim"}


def ordered(plan: Plan) -> list[tuple[int, Resource]]:
    """(depth, resource) in tree order, siblings by type and name; default providers (the engine's) left out,
    as the CLI shows a plan."""
    shown = [r for r in plan.resources if not r.default]
    children: dict[str, list[Resource]] = {}
    urns = {r.urn for r in shown}
    for resource in shown:
        parent = resource.parent if resource.parent in urns else ""
        children.setdefault(parent, []).append(resource)
    result: list[tuple[int, Resource]] = []
    stack: list[tuple[int, Resource]] = [(0, r) for r in sorted(children.get("", []), key=_key, reverse=True)]
    while stack:
        depth, resource = stack.pop()
        result.append((depth, resource))
        stack.extend((depth + 1, c) for c in sorted(children.get(resource.urn, []), key=_key, reverse=True))
    return result


def _key(resource: Resource) -> tuple[str, str]:
    return resource.type, resource.name


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    rank = {level: i for i, level in enumerate(LEVELS)}
    return sorted(
        diagnostics,
        key=lambda d: (rank.get(d.enforcement_level, 9), d.resource_urn, d.policy_name, d.message),
    )


def _resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def _counts(outcome: Outcome) -> tuple[int, int, int]:
    resources = len(ordered(outcome.plan)) if outcome.plan else 0
    mandatory = sum(d.enforcement_level == "mandatory" for d in outcome.diagnostics)
    advisory = sum(d.enforcement_level == "advisory" for d in outcome.diagnostics)
    return resources, mandatory, advisory


def verdict(outcome: Outcome) -> str:
    if outcome.error is not None:
        return f"ERROR {outcome.stack}"
    _, mandatory, advisory = _counts(outcome)
    if mandatory:
        return f"FAIL {outcome.stack}: {mandatory} mandatory, {advisory} advisory violations"
    return f"PASS {outcome.stack}: no mandatory violation ({advisory} advisory)"


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    """The summary every output starts with: totals, then one line per stack."""
    totals = [_counts(o) for o in outcomes]
    resources, mandatory, advisory = (sum(t[i] for t in totals) for i in range(3))
    errors = sum(o.error is not None for o in outcomes)
    lines = [
        f"summary: {len(outcomes)} stack{'s' * (len(outcomes) != 1)}, {resources} resources, {mandatory} mandatory "
        f"and {advisory} advisory violations" + (f", {errors} failed to plan" if errors else "")
    ]
    for outcome, (count, m, a) in zip(outcomes, totals, strict=True):
        if outcome.error is not None:
            lines.append(f"  {outcome.stack}: error")
        else:
            lines.append(
                f"  {outcome.stack}: {'FAIL' if m else 'PASS'}, {count} resources, {m} mandatory, {a} advisory"
            )
    # Headroom under IAM's size quotas, per stack: before a document outgrows its quota (tools/offline_preview/quotas).
    from tools.offline_preview.quotas import largest

    for outcome in outcomes:
        measure = largest(outcome.plan) if outcome.error is None else None
        if measure is not None:
            lines.append(f"  {outcome.stack}: {measure.line()}")
    return lines


def _one_line(text: str) -> str:
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())


# -- plain lines (piped, CI logs) ------------------------------------------------------------------------------
def _summarised(outcomes: list[Outcome]) -> list[str]:
    """The summary, when there is something to sum up: a run where every stack failed is its error lines."""
    return summary_lines(outcomes) if any(o.error is None for o in outcomes) else []


def plain(outcomes: list[Outcome], *, preview: bool) -> list[str]:
    lines = _summarised(outcomes)
    verb = "create" if preview else "plan"
    for outcome in outcomes:
        if lines:
            lines.append("")
        if outcome.error is not None:
            lines.extend(f"error: {outcome.stack}: {line}" for line in outcome.error.splitlines())
            if outcome.detail:
                lines.extend(outcome.detail.rstrip().splitlines())
            continue
        assert outcome.plan is not None
        tree = ordered(outcome.plan)
        lines.append(f"{outcome.project}/{outcome.stack} ({len(tree)} resources to {verb})")
        lines.extend(f"{'  ' * (depth + 1)}+ {r.type} {r.name}" for depth, r in tree)
        for r in outcome.remediations:
            changes = "; ".join(
                f"{key}: {json.dumps(r.before.get(key))} -> {json.dumps(r.after.get(key))}" for key in r.changed
            )
            lines.append(
                f"[remediated] {r.policy_pack_name}/{r.policy_name} {_resource_name(r.resource_urn)}: {changes}"
            )
        for d in sorted_diagnostics(outcome.diagnostics):
            lines.append(
                f"[{d.enforcement_level}] {d.policy_pack_name}/{d.policy_name} {_resource_name(d.resource_urn)}: "
                f"{_one_line(d.message)}"
            )
        lines.append(verdict(outcome))
    return lines


# -- a terminal ------------------------------------------------------------------------------------------------
def _tree(outcome: Outcome, preview: bool) -> Tree:
    assert outcome.plan is not None
    verb = "create" if preview else "plan"
    tree = ordered(outcome.plan)
    root = Tree(f"[bold]{outcome.project}[/]/[bold]{outcome.stack}[/]  ({len(tree)} resources to {verb})")
    nodes: list[Tree] = [root]
    for depth, resource in tree:
        del nodes[depth + 1 :]
        nodes.append(nodes[depth].add(f"[green]+[/] {escape(resource.type)} [bold]{escape(resource.name)}[/]"))
    return root


def _remediations(outcome: Outcome) -> Table:
    table = Table(title=f"remediations ({len(outcome.remediations)})", title_style="cyan", show_lines=True)
    for column in ("pack", "policy", "resource", "changed"):
        table.add_column(column, overflow="fold")
    for r in outcome.remediations:
        changes = "\n".join(
            f"{key}: {json.dumps(r.before.get(key))} -> {json.dumps(r.after.get(key))}" for key in r.changed
        )
        table.add_row(r.policy_pack_name, r.policy_name, _resource_name(r.resource_urn), changes)
    return table


def _rich(outcomes: list[Outcome], preview: bool, console: Console) -> None:
    for line in _summarised(outcomes):
        console.print(line, markup=False, soft_wrap=True)
    for outcome in outcomes:
        if outcome.error is not None:
            # One line, whatever the terminal's width: scripts and CI logs grep for it.
            for line in outcome.error.splitlines():
                console.print(f"[bold red]error[/]: {escape(outcome.stack)}: {escape(line)}", soft_wrap=True)
            if outcome.detail:
                console.print(outcome.detail, markup=False)
            continue
        console.print(_tree(outcome, preview))
        if outcome.remediations:
            console.print(_remediations(outcome))
        for level in LEVELS:
            found = [d for d in sorted_diagnostics(outcome.diagnostics) if d.enforcement_level == level]
            if not found:
                continue
            table = Table(title=f"{level} violations ({len(found)})", title_style=LEVEL_STYLE[level], show_lines=True)
            for column in ("pack", "policy", "resource", "message"):
                table.add_column(column, overflow="fold")
            for d in found:
                table.add_row(d.policy_pack_name, d.policy_name, _resource_name(d.resource_urn), d.message)
            console.print(table)
        style = "bold red" if verdict(outcome).startswith("FAIL") else "bold green"
        head, _, rest = verdict(outcome).partition(" ")
        console.print(f"[{style}]{head}[/] {escape(rest)}", soft_wrap=True)


def render(outcomes: list[Outcome], *, preview: bool, console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=False)
    if console.is_terminal:
        _rich(outcomes, preview, console)
    else:
        for line in plain(outcomes, preview=preview):
            console.print(line, markup=False, highlight=False, soft_wrap=True)


# -- GitHub Actions --------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def markdown(outcomes: list[Outcome]) -> str:
    """The job summary: one row per stack, then the mandatory violations."""
    lines = [
        "## Offline preview",
        "",
        "| Stack | Verdict | Resources | Mandatory | Advisory |",
        "|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        count, mandatory, advisory = _counts(outcome)
        state = "error" if outcome.error is not None else ("FAIL" if mandatory else "PASS")
        lines.append(f"| {_cell(outcome.stack)} | {state} | {count} | {mandatory} | {advisory} |")
    failing = [
        (o, d) for o in outcomes for d in sorted_diagnostics(o.diagnostics) if d.enforcement_level == "mandatory"
    ]
    errors = [o for o in outcomes if o.error is not None]
    if failing or errors:
        lines += ["", "| Stack | Policy | Resource | Message |", "|---|---|---|---|"]
        lines += [f"| {_cell(o.stack)} | error | | {_cell(o.error or '')} |" for o in errors]
        lines += [
            f"| {_cell(o.stack)} | {_cell(d.policy_name)} | {_cell(_resource_name(d.resource_urn))} | "
            f"{_cell(d.message)} |"
            for o, d in failing
        ]
    return "\n".join(lines) + "\n"


def step_summary(outcomes: list[Outcome]) -> None:
    """Append the Markdown summary to GitHub's job summary when run in GitHub Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with Path(path).open("a", encoding="utf-8") as stream:
            stream.write(markdown(outcomes))
