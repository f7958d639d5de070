"""What the mocks answer where the provider would: outputs it computes, data sources, answers a user gives for
provider functions and other stacks, and the account and region a stack deploys to."""

from __future__ import annotations

import base64
import re
import typing
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws  # noqa: F401 (registers its resource modules)
import pytest
from pulumi.runtime import rpc

from tools.mock_runtime.answers import AnswerError, load_answers
from tools.mock_runtime.mocks import INVOKES, World
from tools.mock_runtime.program import PlanError, run_program
from tools.mock_runtime.schema import Subject, fill_outputs, function_result, python_name, resource_outputs

ACCOUNT = "111122223333"


def _project(tmp_path: Path, program: str, config: str = "") -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: answers\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(
        f"config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ['{ACCOUNT}']\n{config}"
    )
    (tmp_path / "__main__.py").write_text("import json\nimport pulumi\nimport pulumi_aws as aws\n" + program)
    return tmp_path


OUTPUTS_IN_STRINGS = """
api = aws.apigateway.RestApi("api")
stage = aws.apigateway.Stage("prod", rest_api=api.id, deployment="d", stage_name="prod")
http = aws.apigatewayv2.Api("http", protocol_type="HTTP")
cluster = aws.eks.Cluster("c", role_arn="arn:aws:iam::111122223333:role/eks", vpc_config={"subnet_ids": ["s"]})
pulumi.export("source", stage.execution_arn.apply(lambda arn: arn + "/*/*"))
pulumi.export("url", stage.invoke_url.apply(lambda url: url + "/hello"))
pulumi.export("endpoint", http.api_endpoint.apply(lambda e: e.rstrip("/") + "/jobs"))
pulumi.export("ca", cluster.certificate_authority.data)
pulumi.export("server", cluster.endpoint)
"""


def test_outputs_the_provider_computes_have_their_shape_in_an_update(tmp_path: Path) -> None:
    """Programs compute on outputs (an API's execution ARN in a permission, an endpoint in a URL, a cluster's
    certificate in a kubeconfig): in an update they are values of the provider's format, in the stack's account
    and region, never None."""
    outputs = run_program(_project(tmp_path, OUTPUTS_IN_STRINGS), "prod").outputs
    assert re.fullmatch(rf"arn:aws:execute-api:eu-west-1:{ACCOUNT}:[0-9a-z]{{10}}/prod/\*/\*", outputs["source"])
    assert re.fullmatch(r"https://[0-9a-z]{10}\.execute-api\.eu-west-1\.amazonaws\.com/prod/hello", outputs["url"])
    assert re.fullmatch(r"https://[0-9a-z]+\.[a-z0-9.-]+\.eu-west-1\.amazonaws\.com/jobs", outputs["endpoint"])
    assert base64.b64decode(outputs["ca"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert outputs["server"].startswith("https://")


def test_outputs_the_provider_computes_are_unknown_at_a_first_preview(tmp_path: Path) -> None:
    outputs = run_program(_project(tmp_path, OUTPUTS_IN_STRINGS), "prod", preview=True).outputs
    assert all(isinstance(outputs[key], pulumi.output.Unknown) for key in ("source", "url", "endpoint", "ca"))


def test_two_resources_never_share_a_computed_value() -> None:
    world = World(region="eu-west-1", account_id=ACCOUNT)
    token = "aws:apigateway/stage:Stage"
    one, two = (fill_outputs(token, {}, Subject(world, token, name)) for name in ("a", "b"))
    assert one["executionArn"] != two["executionArn"] and one["invokeUrl"] != two["invokeUrl"]


def test_an_optional_input_the_program_left_out_is_not_made_up() -> None:
    """A made-up value for an input the pack reads (a REST API's policy, a role's boundary) would change what it
    judges: the provider's computed inputs are left as the program gave them, but for addresses."""
    world = World()
    api = fill_outputs("aws:apigateway/restApi:RestApi", {}, Subject(world, "aws:apigateway/restApi:RestApi", "a"))
    role = fill_outputs("aws:iam/role:Role", {}, Subject(world, "aws:iam/role:Role", "r"))
    instance = fill_outputs("aws:ec2/instance:Instance", {}, Subject(world, "aws:ec2/instance:Instance", "i"))
    assert "policy" not in api and "permissionsBoundary" not in role and "kmsKeyId" not in str(instance)
    assert re.fullmatch(r"10\.0\.\d+\.\d+", instance["privateIp"])


def test_every_resource_type_of_the_provider_gets_its_outputs() -> None:
    """Read from pulumi_aws's own classes, for every type it registers: a new provider version's types and
    properties are covered without a list to keep."""
    world = World()
    tokens = sorted({t for mods in rpc._RESOURCE_MODULES.values() for m in mods for t in m.mod_info["classes"]})
    assert len(tokens) > 1500
    for token in tokens:
        filled = fill_outputs(token, {}, Subject(world, token, "n"))
        for prop in resource_outputs(token):
            assert filled[prop.name] is not None or prop.type is Any, (token, prop.name)
            if prop.name == "arn":
                fields = filled["arn"].split(":")
                assert fields[:2] == ["arn", "aws"] and fields[4] in ("", "123456789012"), (token, filled["arn"])


def test_the_data_sources_answered_without_a_file_are_the_providers_own() -> None:
    """Each answered token is a function pulumi_aws declares, and its answer has every field of its result."""
    world = World(region="eu-west-1", account_id=ACCOUNT)
    for token, answer in INVOKES.items():
        fields = function_result(token)
        assert fields is not None, token
        given = answer(world, {"name": "example.com"} if "getZone" in token else {})
        required = {f.name for f in fields if type(None) not in typing.get_args(f.type)}
        assert required - set(given) == set(), token


DATA_SOURCES = """
ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"], filters=[{"name": "name", "values": ["al2023-*"]}])
vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])
zone = aws.route53.get_zone(name="example.com")
token = aws.ecr.get_authorization_token()
pulumi.export("ami", ami.id)
pulumi.export("vpc", [vpc.id, vpc.default, vpc.cidr_block])
pulumi.export("subnets", subnets.ids)
pulumi.export("zone", [zone.zone_id, zone.name])
pulumi.export("registry", token.proxy_endpoint)
"""


@pytest.mark.parametrize("preview", [True, False])
def test_common_data_sources_answer_in_the_stacks_account_and_region(tmp_path: Path, preview: bool) -> None:
    outputs = run_program(_project(tmp_path, DATA_SOURCES), "prod", preview=preview).outputs
    assert re.fullmatch(r"ami-[0-9a-f]{17}", outputs["ami"])
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", outputs["vpc"][0]) and outputs["vpc"][1:] == [True, "10.0.0.0/16"]
    assert len(outputs["subnets"]) == 3 and all(s.startswith("subnet-") for s in outputs["subnets"])
    assert re.fullmatch(r"Z[0-9A-F]{13}", outputs["zone"][0]) and outputs["zone"][1] == "example.com"
    assert outputs["registry"] == f"https://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"


UNANSWERED = """
host = aws.ssm.get_parameter(name="/web/db-host")
other = aws.ssm.get_parameter(name="/web/other")
pulumi.export("host", host.value)
pulumi.export("other", other.value)
"""


def test_a_function_nobody_answers_fails_naming_it_and_how_to_answer(tmp_path: Path) -> None:
    with pytest.raises(Exception) as raised:
        run_program(_project(tmp_path, UNANSWERED), "prod")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        "the offline preview cannot answer aws.ssm.get_parameter (aws:ssm/getParameter:getParameter): give its "
        "result in a file passed with --invoke-results"
    )
    assert "aws.ec2.get_ami" in message


def test_a_users_file_answers_by_function_and_arguments(tmp_path: Path) -> None:
    results = tmp_path / "invokes.yaml"
    results.write_text(
        "- function: aws:ssm/getParameter:getParameter\n  args: {name: /web/db-host}\n"
        "  result: {value: db.internal, type: String}\n"
        "- function: aws:ssm/getParameter:getParameter\n  result: {value: anything-else}\n"
    )
    answers = load_answers(invoke_results=results)
    outputs = run_program(_project(tmp_path, UNANSWERED), "prod", answers=answers).outputs
    assert outputs == {"host": "db.internal", "other": "anything-else"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- function: getParameter\n  result: {}\n", "[0].function: String should match pattern"),
        ("- function: aws:ssm/getParameter:getParameter\n", "[0].result: Field required"),
        ("- function: aws:ssm/getParameter:getParameter\n  result: {}\n  arg: {}\n", "[0].arg: Extra inputs"),
        ("function: x\n", "(the whole file): Input should be a valid list"),
    ],
)
def test_a_bad_invoke_results_file_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "invokes.yaml"
    path.write_text(text)
    with pytest.raises(AnswerError) as raised:
        load_answers(invoke_results=path)
    assert str(raised.value).startswith(f"{path}: {message}")
    assert str(raised.value).endswith("accepted: a list of {function: <token>, args: {...} (optional), result: {...}}")


STACK_REFERENCE = """
network = pulumi.StackReference("acme/network/prod")
subnet = network.require_output("private_subnet_id")
pulumi.export("subnet", subnet)
pulumi.export("computed", subnet.apply(lambda s: s.upper()))
"""


@pytest.mark.parametrize("preview", [True, False])
def test_stack_reference_outputs_come_from_the_users_file(tmp_path: Path, preview: bool) -> None:
    path = tmp_path / "stacks.yaml"
    path.write_text("acme/network/prod:\n  private_subnet_id: subnet-0abc\n")
    plan = run_program(_project(tmp_path, STACK_REFERENCE), "prod", preview=preview, answers=load_answers(None, path))
    assert plan.outputs == {"subnet": "subnet-0abc", "computed": "SUBNET-0ABC"}


@pytest.mark.parametrize("preview", [True, False])
def test_stack_reference_outputs_not_given_are_unknown(tmp_path: Path, preview: bool) -> None:
    """As before the other stack is deployed: the program's computation on them is skipped, never run on None."""
    outputs = run_program(_project(tmp_path, STACK_REFERENCE), "prod", preview=preview).outputs
    assert all(isinstance(outputs[k], pulumi.output.Unknown) for k in ("subnet", "computed")), outputs


def test_a_bad_stack_reference_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "stacks.yaml"
    path.write_text("acme/network/prod: [subnet]\n")
    with pytest.raises(AnswerError, match=re.escape(f"{path}: acme/network/prod: Input should be a valid dict")):
        load_answers(stack_outputs=path)


def test_the_stack_deploys_to_its_allowed_account_and_region(tmp_path: Path) -> None:
    program = "me = aws.get_caller_identity()\npulumi.export('me', [me.account_id, aws.get_partition().partition])\n"
    assert run_program(_project(tmp_path, program), "prod").outputs["me"] == [ACCOUNT, "aws"]
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  aws:region: cn-north-1\n")
    assert run_program(tmp_path, "prod").outputs["me"] == ["123456789012", "aws-cn"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("  aws:region: eu-west-1\n  aws:allowedAccountIds: ['1234']\n", "aws:allowedAccountIds: a list of 12-digit"),
        ("  aws:region: eu-west-1\n  aws:allowedAccountIds: '111122223333'\n", "aws:allowedAccountIds: a list of"),
        ("  aws:region: mars-east-1\n", "aws:region: 'mars-east-1' is not a region botocore knows"),
    ],
)
def test_a_bad_account_or_region_is_one_line(tmp_path: Path, config: str, message: str) -> None:
    _project(tmp_path, "")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n" + config)
    with pytest.raises(PlanError, match=re.escape(f"{tmp_path / 'Pulumi.prod.yaml'}: {message}")):
        run_program(tmp_path, "prod")


def test_python_names_are_as_programs_call_them() -> None:
    assert python_name("aws:ec2/getAmi:getAmi") == "aws.ec2.get_ami"
    assert python_name("aws:index/getCallerIdentity:getCallerIdentity") == "aws.get_caller_identity"


MADE_UP = """
scraper = aws.amp.Scraper(
    "scrape",
    source={"eks": {"cluster_arn": "arn:aws:eks:eu-west-1:111122223333:cluster/c", "subnet_ids": ["s"]}},
    destination={"amp": {"workspace_arn": "arn:aws:aps:eu-west-1:111122223333:workspace/ws-1"}},
    scrape_configuration="x",
)
pulumi.export("role", scraper.role_arn)
"""


def test_outputs_made_up_for_the_program_are_not_shown_to_the_packs(tmp_path: Path) -> None:
    """A scraper's `role_arn` is the service's own role, which the provider returns: the program gets a value of
    its shape, the packs do not see it (judged, a made-up role ARN would be a role nobody defined)."""
    from tools.offline_preview.check import _Graph

    plan = run_program(_project(tmp_path, MADE_UP), "prod")
    assert plan.outputs["role"].startswith(f"arn:aws:amp:eu-west-1:{ACCOUNT}:")
    [scraper] = plan.of_type("aws:amp/scraper:Scraper")
    assert "roleArn" in scraper.made_up and "arn" in scraper.made_up
    state = _Graph(plan).state(scraper).properties
    assert "roleArn" not in state and state["scrapeConfiguration"] == "x"
