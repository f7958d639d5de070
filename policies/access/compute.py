"""The roles a resource runs as or hands to a service (`iam-compute-runs-as-own-roles`): the properties pulumi_aws
documents as holding a role (`properties.role_properties`), and any key named like a role, at any depth, in JSON
or YAML text too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..framework import UNKNOWN
from .items import IDENTITY_TYPES
from .properties import BEYOND, key_of, normal_path, role_properties, role_values, walk

_ROLE_KEY = re.compile(
    r"^(role|rolearn|executionrole|executionrolearn|servicerole|instancerole|taskrolearn|jobrolearn|"
    r"iaminstanceprofile|instanceprofile|servicerolearn)$",
    re.IGNORECASE,
)
_ROLE_SUFFIX = re.compile(
    r"(role|rolearn|roles|rolearns|instanceprofile|instanceprofilearn|instanceprofilename)$", re.I
)
"""Any other property named like a role (`nodeRoleArn`, `podExecutionRoleArn`, `iamRoles`, `iamFleetRole`,
`agentResourceRoleArn`, `administrationRoleArn`...): read when it holds a role or instance-profile ARN."""
_ROLE_ARN = re.compile(r"^arn:[^:]+:iam::[^:]*:(role|instance-profile)/", re.IGNORECASE)
_ROLE_HOLDERS: dict[str, tuple[str, ...]] = {
    "aws:sfn/stateMachine:StateMachine": ("definition",),
    "aws:scheduler/schedule:Schedule": ("target",),
    "aws:batch/jobDefinition:JobDefinition": (
        "containerProperties",
        "nodeProperties",
        "ecsProperties",
        "eksProperties",
    ),
    "aws:sagemaker/domain:Domain": ("defaultUserSettings", "defaultSpaceSettings"),
    "aws:sagemaker/userProfile:UserProfile": ("userSettings",),
    "aws:sagemaker/space:Space": ("spaceSettings",),
    "aws:apprunner/service:Service": ("instanceConfiguration",),
    "aws:elasticbeanstalk/environment:Environment": ("settings",),
    "aws:ssm/association:Association": ("parameters",),
}
"""Per type, the properties (pulumi_aws's inputs) that hold a role inside them: a state machine's definition, a
schedule's target, a job's container, a domain's user settings, an environment's option settings, an
association's parameters (AutomationAssumeRole). Wholly unknown at preview, the role in them cannot be seen;
the same property of another type (an RDS parameter group's `parameters`) holds none."""


@dataclass(frozen=True)
class RoleUse:
    """A role a resource runs as or hands to a service, as a property gives it."""

    where: str
    value: Any
    """A role or instance-profile ARN or name; UNKNOWN where not known yet; BEYOND where the walk gave up."""
    profile: bool = False
    """The property holds an instance profile (its name is read through the stack's instance profiles)."""


def compute_roles(type_: str, props: dict[str, Any]) -> list[RoleUse]:
    """Every role a resource runs as or hands to a service, on any type but the identity types:
    - the properties pulumi_aws documents as holding a role, an instance profile or credentials
      (`role_properties.json`, at any depth): API Gateway's `credentials`, Cognito's `roles` map, Image
      Builder's `instanceProfileName`...;
    - any property named like a role (`role`, `roleArn`, `executionRole`, `taskRoleArn`, `iamInstanceProfile`,
      `RoleArn` of a state machine's task...) at any depth, in JSON or YAML text too (a definition, a template,
      an SSM document), where the types say nothing.
    UNKNOWN where not known yet; BEYOND where the properties hold more than the pack reads."""
    if type_.startswith(IDENTITY_TYPES) and type_ != "aws:iam/instanceProfile:InstanceProfile":
        return []
    found: list[RoleUse] = []
    for key in _ROLE_HOLDERS.get(type_, ()):
        # A whole property not known at preview may hold the role (a definition, a target): fail closed.
        if props.get(key) is UNKNOWN:
            found.append(RoleUse(key, UNKNOWN))
    documented = role_properties().get(type_, {})
    for where, value in walk(props):
        if value is BEYOND:
            found.append(RoleUse(where, BEYOND))
            continue
        kind = documented.get(normal_path(where))
        if kind is not None and where.endswith("]"):
            continue  # an item of a documented list, read with the list
        if kind is not None:
            for item in role_values(value):
                if item is UNKNOWN or kind != "arn" or _ROLE_ARN.match(item):
                    found.append(RoleUse(where, item, kind == "profile-name" or _is_profile(item)))
        key = key_of(where)
        if where.endswith(".$") and _ROLE_SUFFIX.search(key):
            # A state machine task whose role comes from the execution's input: chosen at run time.
            found.append(RoleUse(where, UNKNOWN))
            continue
        named = _ROLE_KEY.match(key)
        if not named and not _ROLE_SUFFIX.search(key):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                item = item.get("arn") or item.get("name") or (UNKNOWN if named else None)
            if item is UNKNOWN or (isinstance(item, str) and (named or _ROLE_ARN.match(item))):
                profile = "instanceprofile" in key.lower() or _is_profile(item)
                found.append(RoleUse(where, item, profile))
    unique: dict[tuple[str, Any], RoleUse] = {}
    for use in found:  # a property both documented and named like a role is one use
        unique.setdefault((use.where, use.value if isinstance(use.value, str) else id(use.value)), use)
    return list(unique.values())


def _is_profile(value: Any) -> bool:
    return isinstance(value, str) and ":instance-profile/" in value.lower()
