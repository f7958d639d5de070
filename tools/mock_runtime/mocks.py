"""Pulumi mocks that answer like the AWS provider: realistic ids, ARNs per resource type, autonames, outputs
typed as the provider returns them, and the invokes AWS programs commonly use.

Shared by the tests and the offline preview, so both see the same world.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from components.arns import AwsContext
from tools.mock_runtime.answers import Answers
from tools.mock_runtime.schema import Subject, dns_suffix, fill_outputs, function_result, python_name, value_for

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
STACK_REFERENCE = "pulumi:pulumi:StackReference"

# Inputs that hold an IAM/resource policy: given as a dict, the provider stores and returns JSON text.
_POLICY_KEYS = frozenset({"policy", "assumeRolePolicy", "accessPolicies"})


def _holds_unknown(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, pulumi.output.Unknown):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class UnsupportedInvokeError(Exception):
    """The program called a provider function the mocks cannot answer and the user gave no answer for."""

    def __init__(self, token: str) -> None:
        super().__init__(
            f"the offline preview cannot answer {python_name(token)} ({token}): give its result in a file passed "
            "with --invoke-results (docs/offline-tooling.md, 'Provider functions'); answered without one: "
            + ", ".join(sorted(python_name(t) for t in INVOKES))
        )
        self.token = token


@dataclass(frozen=True)
class World(AwsContext):
    """The account the mocks pretend to be in: the program's own context type, so ARNs are built one way."""

    partition: str = "aws"
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT


# Per resource type: (the input that names it, ARN builder, what the provider's `id` is: the resource's
# "name", its "arn", or a builder). ARN formats: AWS Service Authorization Reference.
_Arn = Callable[[World, str, dict[str, Any]], str]
_Id = Callable[[World, str, str, dict[str, Any]], str]
_TYPES: dict[str, tuple[str | None, _Arn | None, Literal["name", "arn"] | _Id]] = {
    "aws:iam/role:Role": (
        "name",
        lambda w, n, i: w.arn("iam", f"role{i.get('path', '/')}{n}", region=False),
        "name",
    ),
    "aws:iam/user:User": (
        "name",
        lambda w, n, i: w.arn("iam", f"user{i.get('path', '/')}{n}", region=False),
        "name",
    ),
    "aws:iam/group:Group": (
        "name",
        lambda w, n, i: w.arn("iam", f"group{i.get('path', '/')}{n}", region=False),
        "name",
    ),
    # The provider's id of an instance profile is its name (what an instance's `iam_instance_profile` holds).
    "aws:iam/instanceProfile:InstanceProfile": (
        "name",
        lambda w, n, i: w.arn("iam", f"instance-profile{i.get('path', '/')}{n}", region=False),
        "name",
    ),
    "aws:iam/policy:Policy": (
        "name",
        lambda w, n, i: w.arn("iam", f"policy{i.get('path', '/')}{n}", region=False),
        "arn",
    ),
    # arn:${Partition}:sso:::permissionSet/${InstanceId}/${PermissionSetId} (Service Authorization Reference)
    "aws:ssoadmin/permissionSet:PermissionSet": (
        "name",
        lambda w, n, i: w.arn(
            "sso",
            f"permissionSet/{str(i.get('instanceArn', '')).rsplit('/', 1)[-1] or 'ssoins-0'}/"
            f"ps-{hashlib.sha256(n.encode()).hexdigest()[:16]}",
            region=False,
            account=False,
        ),
        "arn",
    ),
    "aws:iam/rolePolicy:RolePolicy": ("name", None, lambda w, n, a, i: f"{i.get('role')}:{n}"),
    "aws:iam/userPolicy:UserPolicy": ("name", None, lambda w, n, a, i: f"{i.get('user')}:{n}"),
    "aws:iam/groupPolicy:GroupPolicy": ("name", None, lambda w, n, a, i: f"{i.get('group')}:{n}"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        None,
        lambda w, n, i: w.arn("iam", "oidc-provider/" + str(i.get("url", "")).removeprefix("https://"), region=False),
        "arn",
    ),
    "aws:s3/bucket:Bucket": (
        "bucket",
        lambda w, n, i: w.arn("s3", n, region=False, account=False),
        "name",
    ),
    "aws:s3/bucketV2:BucketV2": (
        "bucket",
        lambda w, n, i: w.arn("s3", n, region=False, account=False),
        "name",
    ),
    "aws:sns/topic:Topic": ("name", lambda w, n, i: w.arn("sns", n), "arn"),
    "aws:sqs/queue:Queue": (
        "name",
        lambda w, n, i: w.arn("sqs", n),
        lambda w, n, a, i: f"https://sqs.{w.region}.{dns_suffix(w.partition)}/{w.account_id}/{n}",
    ),
    "aws:kms/key:Key": (None, None, "arn"),
    "aws:kms/alias:Alias": ("name", lambda w, n, i: w.arn("kms", n), "name"),
    "aws:lambda/function:Function": (
        "name",
        lambda w, n, i: w.arn("lambda", f"function:{n}"),
        "name",
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        "name",
        lambda w, n, i: w.arn("logs", f"log-group:{n}"),
        "name",
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "name",
        lambda w, n, i: w.arn("cloudwatch", f"alarm:{n}"),
        "name",
    ),
    "aws:sfn/stateMachine:StateMachine": (
        "name",
        lambda w, n, i: w.arn("states", f"stateMachine:{n}"),
        "arn",
    ),
    "aws:scheduler/schedule:Schedule": (
        "name",
        lambda w, n, i: w.arn("scheduler", f"schedule/{i.get('groupName', 'default')}/{n}"),
        lambda w, n, a, i: f"{i.get('groupName', 'default')}/{n}",
    ),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (
        "modelPackageGroupName",
        lambda w, n, i: w.arn("sagemaker", f"model-package-group/{n.lower()}"),
        "name",
    ),
    "aws:cloudwatch/eventRule:EventRule": (
        "name",
        lambda w, n, i: w.arn("events", f"rule/{n}"),
        "name",
    ),
    "aws:ecr/repository:Repository": (
        "name",
        lambda w, n, i: w.arn("ecr", f"repository/{n}"),
        "name",
    ),
    "aws:dynamodb/table:Table": (
        "name",
        lambda w, n, i: w.arn("dynamodb", f"table/{n}"),
        "name",
    ),
}


def _stable_hex(*parts: str, length: int = 7) -> str:
    """Deterministic stand-in for the engine's random suffixes, so runs and tests are repeatable."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def autoname(logical_name: str, type_: str) -> str:
    """Pulumi's autoname: the logical name, a dash and seven hex characters."""
    return f"{logical_name}-{_stable_hex(type_, logical_name)}"


def _as_json_text(inputs: dict[str, Any]) -> dict[str, Any]:
    out = dict(inputs)
    for key in _POLICY_KEYS & out.keys():
        if isinstance(out[key], (dict, list)):
            if _holds_unknown(out[key]):
                out[key] = pulumi.output.UNKNOWN  # a document with an unknown in it is unknown as a whole
            else:
                out[key] = json.dumps(out[key])
    if isinstance(out.get("inlinePolicies"), list):
        out["inlinePolicies"] = [
            {**p, "policy": json.dumps(p["policy"])} if isinstance(p, dict) and isinstance(p.get("policy"), dict) else p
            for p in out["inlinePolicies"]
        ]
    return out


def _collapse(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def render_policy_document(args: dict[str, Any]) -> str:
    """`aws.iam.get_policy_document` as the provider renders it: one-element lists become strings."""
    statements: list[dict[str, Any]] = []
    for source in args.get("sourcePolicyDocuments") or []:
        statements.extend(json.loads(source).get("Statement", []))
    for raw in args.get("statements") or []:
        statement: dict[str, Any] = {}
        if raw.get("sid"):
            statement["Sid"] = raw["sid"]
        statement["Effect"] = raw.get("effect") or "Allow"
        for key, name in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            if raw.get(key):
                statement[name] = _collapse(sorted(raw[key], reverse=True) if key.endswith("ctions") else raw[key])
        for key, name in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if raw.get(key):
                principals: dict[str, list[str]] = {}
                for principal in raw[key]:
                    principals.setdefault(principal["type"], []).extend(principal["identifiers"])
                if list(principals) == ["*"] and principals["*"] == ["*"]:
                    statement[name] = "*"
                else:
                    statement[name] = {k: _collapse(v) for k, v in principals.items()}
        if raw.get("conditions"):
            condition: dict[str, dict[str, Any]] = {}
            for item in raw["conditions"]:
                condition.setdefault(item["test"], {})[item["variable"]] = _collapse(list(item["values"]))
            statement["Condition"] = condition
        statements.append(statement)
    for override in args.get("overridePolicyDocuments") or []:
        for statement in json.loads(override).get("Statement", []):
            statements = [s for s in statements if not statement.get("Sid") or s.get("Sid") != statement["Sid"]]
            statements.append(statement)
    return json.dumps({"Version": args.get("version") or "2012-10-17", "Statement": statements}, indent=2)


def _caller_identity(world: World, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountId": world.account_id,
        "arn": world.arn("iam", "user/offline-preview", region=False),
        "id": world.account_id,
        "userId": "AIDAOFFLINEPREVIEW0000",
    }


def _partition(world: World, args: dict[str, Any]) -> dict[str, Any]:
    suffix = dns_suffix(world.partition)
    return {
        "partition": world.partition,
        "dnsSuffix": suffix,
        "reverseDnsPrefix": ".".join(reversed(suffix.split("."))),
        "id": world.partition,
    }


def _region(world: World, args: dict[str, Any]) -> dict[str, Any]:
    region = args.get("region") or args.get("name") or world.region
    return {
        "name": region,
        "region": region,
        "id": region,
        "endpoint": f"ec2.{region}.{dns_suffix(world.partition)}",
        "description": region,
    }


def _availability_zones(world: World, args: dict[str, Any]) -> dict[str, Any]:
    letters = "abc"
    return {
        "names": [f"{world.region}{x}" for x in letters],
        "zoneIds": [f"{world.region[:3]}{world.region.split('-')[-1]}-az{n}" for n in range(1, 4)],
        "groupNames": [world.region],
        "id": world.region,
        "region": world.region,
        "state": args.get("state") or "available",
    }


def _policy_document(world: World, args: dict[str, Any]) -> dict[str, Any]:
    text = render_policy_document(args)
    return {
        "json": text,
        "minifiedJson": json.dumps(json.loads(text), separators=(",", ":")),
        "id": _stable_hex(text),
    }


Invoke = Callable[[World, dict[str, Any]], dict[str, Any]]
"""A provider function's answer from the mock account and region and the call's arguments."""


def _hex(world: World, *parts: Any, length: int = 17) -> str:
    return _stable_hex(world.account_id, world.region, json.dumps(parts, sort_keys=True, default=str), length=length)


def _ami(world: World, args: dict[str, Any]) -> dict[str, Any]:
    image = f"ami-{_hex(world, args)}"
    return {"id": image, "imageId": image, "architecture": "x86_64", "rootDeviceName": "/dev/xvda"}


def _vpc(world: World, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"vpc-{_hex(world, args)}", "cidrBlock": "10.0.0.0/16"}


def _subnets(world: World, args: dict[str, Any]) -> dict[str, Any]:
    return {"ids": [f"subnet-{_hex(world, args, zone)}" for zone in "abc"]}


def _subnet(world: World, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": args.get("id") or f"subnet-{_hex(world, args)}",
        "cidrBlock": "10.0.1.0/24",
        "availabilityZone": f"{world.region}a",
        "vpcId": args.get("vpcId") or f"vpc-{_hex(world, 'vpc')}",
    }


def _security_group(world: World, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": args.get("id") or f"sg-{_hex(world, args)}"}


def _zone(world: World, args: dict[str, Any]) -> dict[str, Any]:
    zone = args.get("zoneId") or "Z" + _hex(world, args, length=13).upper()
    name = str(args.get("name") or "example.com").rstrip(".")
    return {"id": zone, "zoneId": zone, "name": name, "nameServers": [f"ns-{n}.awsdns-{n:02d}.org" for n in (1, 2)]}


def _certificate(world: World, args: dict[str, Any]) -> dict[str, Any]:
    arn = world.arn("acm", f"certificate/{uuid.UUID(_hex(world, args, length=32))}")
    return {"id": arn, "arn": arn, "domain": args.get("domain") or "example.com", "status": "ISSUED"}


def _ecr_token(world: World, args: dict[str, Any]) -> dict[str, Any]:
    password = _hex(world, args, length=32)
    return {
        "proxyEndpoint": f"https://{world.account_id}.dkr.ecr.{world.region}.{dns_suffix(world.partition)}",
        "userName": "AWS",
        "password": password,
        "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
    }


def _cluster_auth(world: World, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": args.get("name", ""), "token": f"k8s-aws-v1.{_hex(world, args, length=40)}"}


def _schema_answer(token: str, specific: Callable[[World, dict[str, Any]], dict[str, Any]]) -> Invoke:
    """A data source's answer: every field its result declares (pulumi_aws's types), the arguments the call gave
    where they are fields of the result, then the fields the mock fills in with the right format."""

    def answer(world: World, args: dict[str, Any]) -> dict[str, Any]:
        subject = Subject(world, token, _hex(world, args, length=8))
        result = {p.name: value_for(p.type, p.name, p.doc, subject) for p in function_result(token) or ()}
        result.update({k: v for k, v in args.items() if k in result})
        result.update(specific(world, args))
        return result

    return answer


INVOKES: dict[str, Invoke] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:iam/getPolicyDocument:getPolicyDocument": _policy_document,
}
"""The provider functions the offline preview answers without a file: the account's identity, the partition,
region and zones, policy documents (rendered as the provider renders them), and the common lookups of images,
networks, zones, certificates and registry or cluster credentials (every field of the result, in its format)."""
INVOKES.update(
    {
        token: _schema_answer(token, specific)
        for token, specific in {
            "aws:ec2/getAmi:getAmi": _ami,
            "aws:ec2/getVpc:getVpc": _vpc,
            "aws:ec2/getSubnets:getSubnets": _subnets,
            "aws:ec2/getSubnet:getSubnet": _subnet,
            "aws:ec2/getSecurityGroup:getSecurityGroup": _security_group,
            "aws:route53/getZone:getZone": _zone,
            "aws:acm/getCertificate:getCertificate": _certificate,
            "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_token,
            "aws:eks/getClusterAuth:getClusterAuth": _cluster_auth,
        }.items()
    }
)


class AwsMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes as the AWS provider would.

    With `preview=True`, outputs the provider computes on create (ids, ARNs) are left unknown, as on a first
    real preview; names the engine autonames are known, as they are in a real preview.
    """

    def __init__(self, world: World | None = None, *, preview: bool = False, answers: Answers | None = None) -> None:
        self.world = world or World()
        self.preview = preview
        self.answers = answers or Answers()
        self.made_up: dict[tuple[str, str], frozenset[str]] = {}
        """Per (type, name), the outputs filled in from the provider's types for the program's sake: values AWS
        never gave, which the packs are not shown (program.py, check.py)."""

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        given = dict(args.args)
        answered = self.answers.invoke(args.token, given)
        if answered is not None:
            return answered
        handler = INVOKES.get(args.token)
        if handler is None:
            raise UnsupportedInvokeError(args.token)
        return handler(self.world, given)

    def stack_outputs(self, stack: str) -> dict[str, Any] | None:
        """The outputs the user gave for a referenced stack, or None (unknown, as before it is deployed)."""
        return self.answers.stacks.get(stack)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = _as_json_text(dict(args.inputs))
        if args.typ == STACK_REFERENCE:
            stack = str(inputs.get("name") or args.resource_id or "")
            outputs = self.stack_outputs(stack)
            # Left out when not given: the monitor answers the read as unknown (program.py), as the outputs of a
            # stack not deployed yet are.
            return stack, {
                "name": stack,
                "secretOutputNames": [],
                **({"outputs": outputs} if outputs is not None else {}),
            }
        if args.typ.startswith("pulumi:providers:"):
            return (None if self.preview else str(uuid.UUID(_stable_hex(args.typ, args.name, length=32)))), inputs
        name_key, arn_of, id_kind = _TYPES.get(args.typ, (None, None, lambda w, n, a, i: f"{n}-{_stable_hex(n)}"))
        outputs = dict(inputs)
        name = args.name
        if name_key is not None:
            if not outputs.get(name_key):
                prefix = outputs.get(f"{name_key}Prefix")
                outputs[name_key] = (
                    f"{prefix}{_stable_hex(args.typ, args.name, length=26)}"
                    if prefix
                    else autoname(args.name, args.typ)
                )
            name = outputs[name_key]
        if self.preview:
            return None, outputs
        if args.typ == "aws:kms/key:Key":
            key_id = str(uuid.UUID(_stable_hex(args.typ, args.name, length=32)))
            outputs.update(keyId=key_id, arn=self.world.arn("kms", f"key/{key_id}"))
        elif args.typ == "aws:sns/topicSubscription:TopicSubscription":
            outputs["arn"] = f"{inputs.get('topic')}:{uuid.UUID(_stable_hex(args.typ, args.name, length=32))}"
        elif arn_of is not None:
            outputs["arn"] = arn_of(self.world, name, inputs)
        if args.typ == "aws:iam/role:Role":
            outputs.setdefault("uniqueId", "AROA" + _stable_hex(name, length=17).upper())
        if args.typ == "aws:lambda/function:Function":
            outputs["invokeArn"] = (
                f"arn:{self.world.partition}:apigateway:{self.world.region}:lambda:path/2015-03-31/functions/"
                f"{outputs['arn']}/invocations"
            )
            outputs["qualifiedArn"] = f"{outputs['arn']}:$LATEST"
        if args.typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            outputs["bucketDomainName"] = f"{name}.s3.{dns_suffix(self.world.partition)}"
        tags = inputs.get("tags")
        if isinstance(tags, dict):
            outputs["tagsAll"] = tags
        given = {key for key, value in outputs.items() if value is not None}
        outputs = fill_outputs(args.typ, outputs, Subject(self.world, args.typ, str(name)))
        self.made_up[(args.typ, args.name)] = frozenset(outputs) - given
        arn = str(outputs.get("arn", ""))
        if id_kind == "name":
            return name, outputs
        if id_kind == "arn":
            return arn, outputs
        return id_kind(self.world, name, arn, inputs), outputs
