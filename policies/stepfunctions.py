"""Step Functions: the state machine's role trusts only Step Functions in this account; prod logs and traces.

AWS documentation: the Step Functions trust policy and confused-deputy prevention
(https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html), logging
(https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html) and X-Ray tracing
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi_policy import Policy, PolicyResource, ResourceValidationArgs, StackValidationArgs

from .access.document import field
from .framework import UNKNOWN, EnvironmentResourcePolicy, EnvironmentStackPolicy, Report, label, plain, stack_plain

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE = "aws:iam/role:Role"
STATES = "states.amazonaws.com"
LOG_LEVELS = ("ALL", "ERROR")

TRUST_PASSES = (
    'To pass: one Allow statement for sts:AssumeRole with Principal {"Service": "states.amazonaws.com"} and '
    'Condition {"StringEquals": {"aws:SourceAccount": "<account>"}}.'
)


def _trust_findings(document: Any) -> list[str]:
    if document is UNKNOWN:
        return ["its trust policy is not known at preview"]
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return ["its trust policy is not valid JSON"]
    raw = field(document, "Statement") if isinstance(document, dict) else None
    if not isinstance(raw, (list, dict)):
        return ["its trust policy has no readable Statement"]
    found = []
    for index, statement in enumerate(raw if isinstance(raw, list) else [raw]):
        if not isinstance(statement, dict):
            found.append(f"statement {index} is not a JSON object")
            continue
        effect = field(statement, "Effect")
        if isinstance(effect, str) and effect.lower() == "deny":
            continue
        if field(statement, "NotPrincipal") is not None:
            found.append(f"statement {index} trusts every principal but those listed (NotPrincipal)")
            continue
        principal = field(statement, "Principal")
        services = field(principal, "Service") if isinstance(principal, dict) else None
        others = [k for k in principal if k.lower() != "service"] if isinstance(principal, dict) else ["*"]
        listed = services if isinstance(services, list) else [services]
        if others or listed != [STATES]:
            found.append(f"statement {index} trusts {json.dumps(principal)}, not only {STATES}")
        condition = field(statement, "Condition")
        keys = (
            {k.lower() for op in condition.values() if isinstance(op, dict) for k in op}
            if isinstance(condition, dict)
            else set()
        )
        if "aws:sourceaccount" not in keys:
            found.append(f"statement {index} has no aws:SourceAccount condition (confused-deputy protection)")
    return found


_ROLE_ARN = re.compile(r"arn:[^:]+:iam::[^:]*:role/(.*)", re.DOTALL)


class _Roles:
    """The stack's roles, looked up by ARN and by name (read once per check, not once per state machine)."""

    def __init__(self, resources: list[PolicyResource]) -> None:
        self.by_arn: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self.roles = [r for r in resources if r.resource_type == ROLE]
        for index, role in enumerate(self.roles):
            props = stack_plain(role)
            if isinstance(props.get("arn"), str):
                self.by_arn.setdefault(props["arn"], index)
            if isinstance(props.get("name"), str):
                self.by_name.setdefault(props["name"], index)

    def of(self, machine: PolicyResource) -> PolicyResource | None:
        """The role a state machine runs as: its roleArn's dependency on a role, else the first role whose
        ARN it is, or whose name ends its path (`role/<path>/<name>`)."""
        for dependency in machine.property_dependencies.get("roleArn", []):
            if dependency.resource_type == ROLE:
                return dependency
        arn = stack_plain(machine).get("roleArn")
        if not isinstance(arn, str):
            return None
        found = [self.by_arn[arn]] if arn in self.by_arn else []
        if match := _ROLE_ARN.fullmatch(arn):
            rest = match.group(1)
            newline = rest.find("\n") if "\n" in rest else len(rest)  # a path's `.*/` spans no line break
            names = [rest] + [rest[i + 1 :] for i, c in enumerate(rest[:newline]) if c == "/"]
            found += [self.by_name[n] for n in names if n in self.by_name]
        return self.roles[min(found)] if found else None


def _role_trusts_only_states(args: StackValidationArgs, report: Report) -> None:
    roles = _Roles(args.resources)
    for machine in (r for r in args.resources if r.resource_type == STATE_MACHINE):
        role = roles.of(machine)
        if role is None:
            report(
                f"{label(machine.resource_type, machine.name)}: its roleArn is not a role of this stack, so its trust "
                "policy cannot be checked. To pass: create the role in this stack and pass its arn.",
                machine.urn,
            )
            continue
        for finding in _trust_findings(stack_plain(role).get("assumeRolePolicy")):
            report(
                f"{label(role.resource_type, role.name)} (role of {machine.name}): {finding}. {TRUST_PASSES}",
                role.urn,
            )


ROLE_TRUSTS_ONLY_STATES = EnvironmentStackPolicy(
    "stepfunctions-role-trusts-only-states",
    "Requires a state machine's role to trust only states.amazonaws.com, with an aws:SourceAccount condition.",
    _role_trusts_only_states,
)


def _logs_and_traces(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != STATE_MACHINE:
        return
    props = plain(args.props)
    resource = label(args.resource_type, args.name)
    logging = props.get("loggingConfiguration")
    logging = logging if isinstance(logging, dict) else {}
    level = logging.get("level")
    if not (isinstance(level, str) and level.upper() in LOG_LEVELS):
        shown = "not known at preview" if level is UNKNOWN else repr(level or "OFF")
        report(
            f"{resource}: loggingConfiguration.level is {shown}. To pass: level ALL or ERROR "
            "(ERROR logs every failed execution)."
        )
    if not logging.get("logDestination"):
        report(
            f"{resource}: loggingConfiguration.logDestination is not set. To pass: the ARN of a CloudWatch "
            "log group, ending in :*."
        )
    tracing = props.get("tracingConfiguration")
    enabled = tracing.get("enabled") if isinstance(tracing, dict) else None
    if enabled is not True:
        shown = "not known at preview" if enabled is UNKNOWN else "off"
        report(f"{resource}: X-Ray tracing is {shown}. To pass: tracingConfiguration.enabled true.")


LOGS_AND_TRACES = EnvironmentResourcePolicy(
    "stepfunctions-logs-and-traces-in-prod",
    "Requires state machines to log at level ERROR or ALL to a log group and to trace with X-Ray.",
    _logs_and_traces,
)

POLICIES: list[Policy] = [ROLE_TRUSTS_ONLY_STATES, LOGS_AND_TRACES]
