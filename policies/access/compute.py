"""The roles a resource runs as or hands to a service (`iam-compute-runs-as-own-roles`): the properties pulumi_aws
documents as holding a role (`properties.role_properties`), and any key named like a role, at any depth, in JSON
or YAML text too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..framework import UNKNOWN
from .items import IDENTITY_TYPES
from .properties import (
    BEYOND,
    DOCUMENT_PROPERTIES,
    UNREADABLE,
    decode,
    key_of,
    normal_path,
    role_properties,
    role_values,
    unreadable_documents,
    walk_marked,
)

_ROLE_KEY = re.compile(
    r"^(role|rolearn|executionrole|executionrolearn|servicerole|instancerole|taskrolearn|jobrolearn|"
    r"iaminstanceprofile|instanceprofile|instanceprofilename|servicerolearn|iamrole|autoscalingrole|jobflowrole)$",
    re.IGNORECASE,
)
"""A property that holds the role the resource runs as, by ARN or by name (outside text: typed inputs)."""
_NAME_KEY = re.compile(r"(?<!^)(?<!^instance)(rolename|profilename)$", re.IGNORECASE)
"""A key that says it holds the name of a role or instance profile used (`ExecutionRoleName`,
`IamInstanceProfileName`): read whatever it holds, in text too. Not `RoleName` or `InstanceProfileName` alone,
which name the role or profile a template declares, or the one a policy is put on (read as grants)."""
_ROLE_SUFFIX = re.compile(
    r"(role|rolearn|roles|rolearns|instanceprofile|instanceprofilearn|instanceprofilename)$", re.I
)
"""Any other property named like a role (`nodeRoleArn`, `podExecutionRoleArn`, `iamRoles`, `iamFleetRole`,
`agentResourceRoleArn`, `administrationRoleArn`...): read when it holds a role or instance-profile ARN."""
_ROLE_ARN = re.compile(r"^arn:[^:]+:iam::[^:]*:(role|instance-profile)/", re.IGNORECASE)
_METADATA = (("tags",), ("tagsall",), ("labels",), ("environment", "variables"))
"""Typed properties (never text, so never named by the program) whose values are metadata, not roles used."""
_DOCUMENT_KEYS = frozenset({"version", "id", "statement"})
_STATEMENT_KEYS = frozenset(
    {"sid", "effect", "principal", "notprincipal", "action", "notaction", "resource", "notresource", "condition"}
)
_PAIR_NAMES = ("name", "key", "optionname", "parametername")
_PAIR_VALUES = ("value", "values", "stringvalue")
_ROLE_HOLDERS: dict[str, tuple[str, ...]] = {
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
    "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask": ("taskInvocationParameters",),
    "aws:codepipeline/pipeline:Pipeline": ("stages",),
    **{type_: keys for type_, keys in DOCUMENT_PROPERTIES.items()},
}
"""Per type, the properties (pulumi_aws's inputs) that hold a role inside them: a state machine's definition, a
schedule's target, a job's container, a domain's user settings, an environment's option settings, an
association's parameters (AutomationAssumeRole), a pipeline's stages, and every property holding a whole document
(`properties.DOCUMENT_PROPERTIES`). Wholly unknown at preview, the role in them cannot be seen; the same property
of another type (an RDS parameter group's `parameters`) holds none."""


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
    UNKNOWN where not known yet; BEYOND where the properties hold more than the pack reads; UNREADABLE where a
    document property holds text neither JSON nor YAML reads."""
    if type_.startswith(IDENTITY_TYPES) and type_ != "aws:iam/instanceProfile:InstanceProfile":
        return []
    found: list[RoleUse] = []
    for key in _ROLE_HOLDERS.get(type_, ()):
        # A whole property not known at preview may hold the role (a definition, a target): fail closed.
        if props.get(key) is UNKNOWN:
            found.append(RoleUse(key, UNKNOWN))
    for key in unreadable_documents(type_, props):
        found.append(RoleUse(key, UNREADABLE))
    documented = role_properties().get(type_, {})
    documents: list[str] = []
    for where, value, in_text in walk_marked(props):
        if value is BEYOND:
            found.append(RoleUse(where, BEYOND))
            continue
        if any(where.startswith((f"{d}.", f"{d}[")) for d in documents):
            continue  # inside a policy document: a role there is granted or named, not run as
        if _is_policy_document(value):
            documents.append(where)
            continue
        kind = None if in_text else documented.get(normal_path(where))
        if kind is not None and where.endswith("]"):
            continue  # an item of a documented list, read with the list
        if kind is not None:
            for item in role_values(value):
                if item is UNKNOWN or kind != "arn" or _ROLE_ARN.match(item):
                    found.append(RoleUse(where, item, kind == "profile-name" or _is_profile(item)))
            if not isinstance(value, str):
                continue  # a documented list or map, read whole
        if not in_text and any(normal_path(where).startswith(f"{path}.") for path in documented):
            continue  # inside a documented map or block, read with it
        found.extend(_by_name(where, value, in_text))
    unique: dict[tuple[str, Any], RoleUse] = {}
    for use in found:  # a property both documented and named like a role is one use
        unique.setdefault((use.where, use.value if isinstance(use.value, str) else id(use.value)), use)
    return list(unique.values())


def _is_policy_document(value: Any) -> bool:
    """A policy document (as an object or JSON text): only `Version`, `Id` and `Statement`, each statement only
    statement elements with an `Effect`, whatever the case. Decided by what the value is, never by its key: a
    program names its states and logical IDs (a state machine's states carry `Type`, which no statement has)."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        value = decode(value)
    if not isinstance(value, dict) or not value:
        return False
    keys = {k.lower(): v for k, v in value.items() if isinstance(k, str)}
    if len(keys) != len(value) or "statement" not in keys or not set(keys) <= _DOCUMENT_KEYS:
        return False
    statements = keys["statement"] if isinstance(keys["statement"], list) else [keys["statement"]]
    return all(
        isinstance(s, dict) and "effect" in (fields := {str(k).lower() for k in s}) and fields <= _STATEMENT_KEYS
        for s in statements
    )


def _by_name(where: str, value: Any, in_text: bool) -> list[RoleUse]:
    """The roles a property gives by its key's name, by a name/value pair naming a role, or by holding a role ARN
    anywhere a resource can run as it."""
    segments = tuple(re.sub(r"\[\d+\]", "", s).lower() for s in where.removesuffix(".$").split("."))
    if not in_text and any(segments[: len(m)] == m for m in _METADATA):
        return []
    key = key_of(where)
    if "principal" in key.lower() and not _ROLE_SUFFIX.search(key):
        return []  # a principal granted access (an access entry's, a Lake Formation grant's): not run as
    if where.endswith(".$") and _ROLE_SUFFIX.search(key):
        # A state machine task whose role comes from the execution's input: chosen at run time.
        return [RoleUse(where, UNKNOWN)]
    if in_text and _chosen_at_run_time(key, value):
        return [RoleUse(where, UNKNOWN)]
    if isinstance(value, dict):
        paired = _paired(value)
        if paired is not None:
            key, value = paired
    by_name = bool(_NAME_KEY.search(key)) or (not in_text and bool(_ROLE_KEY.match(key)))
    if not by_name and not _ROLE_SUFFIX.search(key) and not _ROLE_KEY.match(key):
        # Any key: a role ARN is a role wherever it stands (an annotation, an option's value, a custom key).
        return [RoleUse(where, value, _is_profile(value))] if isinstance(value, str) and _ROLE_ARN.match(value) else []
    found = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            named = item.get("arn") or item.get("name")
            # A CloudFormation function (`Ref`, `Fn::Sub`, `Fn::If`...) or any object in its place: not known.
            item = named if isinstance(named, str) else UNKNOWN
        if item is UNKNOWN or (isinstance(item, str) and (by_name or _ROLE_ARN.match(item))):
            profile = "instanceprofile" in key.lower() or "profilename" in key.lower() or _is_profile(item)
            found.append(RoleUse(where, item, profile))
    return found


_JSONATA = re.compile(r"^\s*\{%.*%\}\s*$", re.DOTALL)
"""A Step Functions JSONata expression (`{% $states.input.job %}`): evaluated when the execution runs."""
_ROLE_TAKING_TASKS = re.compile(r":states:::sagemaker:create(trainingjob|processingjob|model|transformjob)", re.I)
"""Service integrations whose request names the role the job runs as (a SageMaker training or processing job,
a model)."""


def _chosen_at_run_time(key: str, value: Any) -> bool:
    """In a state machine's definition: a role, the request's arguments or a task's credentials written as a
    JSONata expression, or a SageMaker task without `Parameters` or `Arguments` (its input becomes the request):
    the role is the execution input's choice."""
    if isinstance(value, str) and _JSONATA.match(value):
        return key.lower() in ("arguments", "parameters", "credentials") or bool(_ROLE_SUFFIX.search(key))
    if isinstance(value, dict) and str(value.get("Type", "")).lower() == "task":
        resource = value.get("Resource")
        lowered = {k.lower() for k in value if isinstance(k, str)}
        bare = not lowered & {"parameters", "arguments"}
        return bare and isinstance(resource, str) and _ROLE_TAKING_TASKS.search(resource) is not None
    return False


def _paired(value: dict[str, Any]) -> tuple[str, Any] | None:
    """A name/value pair whose name is a role's (`{"name": "ServiceRole", "value": ...}`, an Elastic Beanstalk
    option, an Automation parameter): (that name, its value)."""
    lowered = {k.lower(): v for k, v in value.items() if isinstance(k, str)}
    for name_key in _PAIR_NAMES:
        name = lowered.get(name_key)
        if isinstance(name, str) and (_ROLE_KEY.match(name) or _ROLE_SUFFIX.search(name) or _NAME_KEY.search(name)):
            for value_key in _PAIR_VALUES:
                if value_key in lowered:
                    return name, lowered[value_key]
    return None


def _is_profile(value: Any) -> bool:
    return isinstance(value, str) and ":instance-profile/" in value.lower()
