"""Issue 26, item 3: a grant is found whatever its encoding and depth. Each row is a way an attacker would hide
a role or a policy from a reader that stops at a fixed depth, reads JSON only, or knows roles by their
property's name: nested deeper than any fixed limit, inside YAML text, in a property pulumi_aws documents as a
role though not named like one, or behind a value too large to read (which fails closed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.foreign_roles import FOREIGN_ROLES
from policies.resource_policies import RESOURCE_POLICIES
from tests.policies.conftest import Stack
from tests.policies.rules import ACCOUNT, ROLE, reported

ADMIN = f"arn:aws:iam::{ACCOUNT}:role/Admin"
OWN = f"arn:aws:iam::{ACCOUNT}:role/own"


def _nested_states(depth: int, role: str) -> dict[str, Any]:
    """A Parallel inside a Map inside a Parallel..., `depth` levels, its innermost task run as `role`."""
    task = {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob", "End": True}
    task["Parameters"] = {"RoleArn": role, "TrainingJobName": "t"}
    states: dict[str, Any] = {"StartAt": "T", "States": {"T": task}}
    for level in range(depth):
        if level % 2:
            inner = {"Type": "Parallel", "Branches": [states], "End": True}
        else:
            inner = {"Type": "Map", "ItemProcessor": states, "End": True}
        states = {"StartAt": f"L{level}", "States": {f"L{level}": inner}}
    return states


def _pipeline(role: str) -> str:
    """A SageMaker Pipeline whose condition step's else-branch trains as `role`."""
    training = {"Name": "Train", "Type": "Training", "Arguments": {"RoleArn": role, "AlgorithmSpecification": {}}}
    condition = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [],
            "IfSteps": [],
            "ElseSteps": [{"Name": "Inner", "Type": "Condition", "Arguments": {"ElseSteps": [training]}}],
        },
    }
    return json.dumps({"Version": "2020-12-01", "Steps": [condition]})


YAML_TEMPLATE = f"""
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: {ADMIN}
      PrimaryContainer:
        Image: !Sub '${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.amazonaws.com/x:1'
"""

SSM_YAML = f"""
schemaVersion: '0.3'
assumeRole: {ADMIN}
mainSteps:
  - name: run
    action: aws:executeScript
    inputs:
      Runtime: python3.11
"""


@pytest.mark.parametrize(
    ("type_", "props", "where"),
    [
        (
            "aws:sfn/stateMachine:StateMachine",
            {"roleArn": OWN, "definition": json.dumps(_nested_states(12, ADMIN))},
            "RoleArn",
        ),
        ("aws:sagemaker/pipeline:Pipeline", {"roleArn": OWN, "pipelineDefinition": _pipeline(ADMIN)}, "RoleArn"),
        ("aws:cloudformation/stack:Stack", {"templateBody": YAML_TEMPLATE}, "ExecutionRoleArn"),
        ("aws:ssm/document:Document", {"content": SSM_YAML, "documentFormat": "YAML"}, "assumeRole"),
        ("aws:apigateway/integration:Integration", {"credentials": ADMIN}, "credentials"),
        ("aws:apigateway/authorizer:Authorizer", {"authorizerCredentials": ADMIN}, "authorizerCredentials"),
        ("aws:apigatewayv2/integration:Integration", {"credentialsArn": ADMIN}, "credentialsArn"),
        (
            "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment",
            {"identityPoolId": "eu-west-1:x", "roles": {"authenticated": OWN, "unauthenticated": ADMIN}},
            "roles",
        ),
        (
            "aws:batch/computeEnvironment:ComputeEnvironment",
            {"computeResources": {"instanceRole": ADMIN, "type": "EC2"}},
            "computeResources.instanceRole",
        ),
    ],
    ids=[
        "a task 12 levels deep in a state machine",
        "a pipeline's nested condition steps",
        "a CloudFormation template in YAML",
        "an SSM document in YAML",
        "API Gateway credentials",
        "an API Gateway authorizer's credentials",
        "API Gateway v2 credentialsArn",
        "a Cognito identity pool's roles map",
        "a Batch compute environment's instance role",
    ],
)
def test_a_role_is_found_whatever_its_encoding_and_depth(type_: str, props: dict, where: str) -> None:
    stack = Stack().add(ROLE, "own", {"name": "own"}).add(type_, "x", props)
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert where in message and f"runs as {ADMIN}, a role the stack does not define" in message


def test_an_instance_profile_given_by_name_is_read_through_the_stacks_profiles() -> None:
    """Image Builder's `instanceProfileName` holds a name, not an ARN, and is not named like a role: pulumi_aws
    documents it as an instance profile's name."""
    infrastructure = "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration"
    foreign = Stack().add(infrastructure, "x", {"instanceProfileName": "admin-profile"})
    [message] = reported(FOREIGN_ROLES, foreign, {"allowedAccounts": [ACCOUNT]})
    assert "runs as admin-profile, a role the stack does not define" in message
    own = (
        Stack()
        .add(ROLE, "own", {"name": "own"})
        .add("aws:iam/instanceProfile:InstanceProfile", "p", {"name": "builder", "role": "own"})
        .add(infrastructure, "x", {"instanceProfileName": "builder"})
    )
    assert reported(FOREIGN_ROLES, own, {"allowedAccounts": [ACCOUNT]}) == []


def test_own_roles_deep_inside_pass() -> None:
    """The same depth and encodings with the stack's own role: nothing to report (the reader is not merely
    refusing depth)."""
    stack = (
        Stack()
        .add(ROLE, "own", {"name": "own"})
        .add(
            "aws:sfn/stateMachine:StateMachine",
            "m",
            {"roleArn": OWN, "definition": json.dumps(_nested_states(12, OWN))},
        )
        .add("aws:sagemaker/pipeline:Pipeline", "p", {"roleArn": OWN, "pipelineDefinition": _pipeline(OWN)})
        .add("aws:ssm/document:Document", "d", {"content": SSM_YAML.replace(ADMIN, OWN), "documentFormat": "YAML"})
    )
    assert reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]}) == []


def _alias_bomb() -> str:
    """Nine levels of ten aliases each: 10^9 values once expanded, a few hundred characters as text."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(8):
        previous, name = chr(97 + level), chr(98 + level)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    return "\n".join(lines) + "\n"


ALIAS_BOMB = _alias_bomb() + f"assumeRole: {ADMIN}\n"


def test_a_yaml_alias_bomb_fails_closed() -> None:
    """10^9 values once aliases are expanded: the walk gives up within its budget and says so, and the role
    written after it is not let through unseen."""
    stack = Stack().add("aws:ssm/document:Document", "x", {"content": ALIAS_BOMB, "documentFormat": "YAML"})
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert "holds more values than the pack reads" in message


OPEN_BUCKET_POLICY_YAML = """
Resources:
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: data
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: '*'
            Action: s3:GetObject
            Resource: arn:aws:s3:::data/*
"""


def test_a_resource_policy_inside_a_yaml_template_is_read() -> None:
    stack = Stack().add("aws:cloudformation/stack:Stack", "x", {"templateBody": OPEN_BUCKET_POLICY_YAML})
    [message] = reported(RESOURCE_POLICIES, stack, {"allowedAccounts": [ACCOUNT]})
    assert "PolicyDocument" in message and "anyone" in message


def test_a_resource_policy_behind_an_alias_bomb_fails_closed() -> None:
    bomb = ALIAS_BOMB.replace(f"assumeRole: {ADMIN}\n", "")
    stack = Stack().add("aws:ssm/document:Document", "x", {"content": bomb, "documentFormat": "YAML"})
    [message] = reported(RESOURCE_POLICIES, stack, {"allowedAccounts": [ACCOUNT]})
    assert "holds more than the pack reads" in message


def _props_at(path: str, value: str) -> dict[str, Any]:
    """Properties holding `value` at a role_properties.json path (nested blocks as objects)."""
    props: dict[str, Any] = {}
    here = props
    *parents, last = path.split(".")
    for key in parents:
        here = here.setdefault(key, {})
    here[last] = value
    return props


def test_every_documented_role_property_of_every_pulumi_aws_type_is_read() -> None:
    """Each of the inputs pulumi_aws documents as holding a role (its type information, regenerated and compared
    by `tools.policy_data --check`), given another account's role ARN, is reported: the reader follows every
    documented path, whatever its depth. Keys are matched as the engine sends them, up to case."""
    from policies.access.properties import role_properties

    documented = role_properties()
    assert len(documented) > 250  # every pulumi_aws type, not a sample
    stranger = "arn:aws:iam::999999999999:role/Admin"
    missed = []
    for type_, paths in documented.items():
        if type_.startswith(("aws:iam/", "aws:ssoadmin/")):
            continue
        for path in paths:
            stack = Stack().add(type_, "x", _props_at(path, stranger))
            found = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
            if not any("a role of account 999999999999" in message for message in found):
                missed.append(f"{type_} {path}")
    assert missed == []


STRANGER = "arn:aws:iam::999988887777:role/Admin"
OPENAPI = {
    "openapi": "3.0.1",
    "paths": {"/": {"get": {"x-amazon-apigateway-integration": {"type": "aws", "credentials": STRANGER}}}},
}


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("aws:apigateway/restApi:RestApi", {"body": json.dumps(OPENAPI)}),
        ("aws-native:apigateway:Method", {"integration": {"type": "AWS", "credentials": STRANGER}}),
        ("aws-native:cognito:IdentityPoolRoleAttachment", {"roles": {"authenticated": STRANGER}}),
        (
            "aws:cloudcontrol/resource:Resource",
            {
                "typeName": "AWS::ApiGateway::Method",
                "desiredState": json.dumps({"Integration": {"Credentials": STRANGER}}),
            },
        ),
        (
            "aws:elasticbeanstalk/environment:Environment",
            {"settings": [{"namespace": "aws:elasticbeanstalk:environment", "name": "ServiceRole", "value": STRANGER}]},
        ),
        (
            "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask",
            {
                "taskInvocationParameters": {
                    "automationParameters": {"parameters": [{"name": "AutomationAssumeRole", "values": [STRANGER]}]}
                }
            },
        ),
        ("aws:ssm/document:Document", {"content": f"schemaVersion: '0.3'\rassumeRole: {STRANGER}\r"}),
        ("aws:ssm/document:Document", {"content": f"assumeRole: {STRANGER}"}),
        ("aws:ssm/document:Document", {"content": f"--- {{schemaVersion: '0.3', assumeRole: '{STRANGER}'}}"}),
        ("aws:ssm/document:Document", {"content": f"schemaVersion: '0.3'\n---\nassumeRole: {STRANGER}\n"}),
        ("aws:ssm/document:Document", {"content": "\ufeff" + json.dumps({"assumeRole": STRANGER})}),
        ("kubernetes:core/v1:ServiceAccount", {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": STRANGER}}}),
    ],
    ids=[
        "an OpenAPI body's integration credentials",
        "an aws-native method's credentials",
        "an aws-native identity pool's roles map",
        "a Cloud Control resource's credentials",
        "an Elastic Beanstalk option given as a name/value pair",
        "an Automation parameter given as a name/value pair",
        "YAML with CR line breaks",
        "YAML on one line",
        "a YAML document marker before a flow mapping",
        "a stream of two YAML documents",
        "JSON after a byte-order mark",
        "an EKS service account's annotation",
    ],
)
def test_another_accounts_role_is_found_in_any_encoding_or_key(type_: str, props: dict) -> None:
    """A role ARN is a role wherever it stands outside a policy document: any key, any text a reader accepts."""
    found = reported(FOREIGN_ROLES, Stack().add(type_, "x", props), {"allowedAccounts": [ACCOUNT]})
    assert any("a role of account 999988887777" in message for message in found), found


@pytest.mark.parametrize(
    ("type_", "props", "words"),
    [
        ("aws:ssm/document:Document", {"content": f"description: 2023-02-29\nassumeRole: {STRANGER}\n"}, "cannot read"),
        ("aws:ecs/service:Service", {"iamRole": "Admin"}, "runs as Admin"),
        (
            "aws:ssm/document:Document",
            {
                "content": "mainSteps:\n  - action: aws:runInstances\n"
                "    inputs:\n      IamInstanceProfileName: AdminProfile\n"
            },
            "runs as AdminProfile",
        ),
        (
            "aws:cloudformation/stack:Stack",
            {
                "templateBody": "Resources:\n  N:\n    Type: AWS::EKS::Nodegroup\n"
                "    Properties:\n      NodeRole: !Ref P\n"
            },
            "not known at preview",
        ),
        (
            "aws-native:imagebuilder:InfrastructureConfiguration",
            {"instanceProfileName": "admin-profile"},
            "admin-profile",
        ),
    ],
    ids=[
        "an SSM document no YAML reader accepts",
        "an ECS service's role by name",
        "an instance profile by name inside an SSM document",
        "a template's role given by a function",
        "an aws-native instance profile by name",
    ],
)
def test_roles_by_name_by_function_or_in_unreadable_text_are_refused(type_: str, props: dict, words: str) -> None:
    found = reported(FOREIGN_ROLES, Stack().add(type_, "x", props), {"allowedAccounts": [ACCOUNT]})
    assert any(words in message for message in found), found


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("aws:ssm/parameter:Parameter", {"name": "p", "type": "String", "value": "cluster:\n  role: primary\n"}),
        ("aws:lambda/function:Function", {"role": OWN, "tags": {"Role": "web"}}),
        ("aws:lambda/function:Function", {"role": OWN, "environment": {"variables": {"ROLE": "worker"}}}),
        ("aws:dms/instanceProfile:InstanceProfile", {"description": "migration profile"}),
        ("aws:organizations/account:Account", {"email": "a@example.com", "roleName": "OrganizationAccountAccessRole"}),
        (
            "aws:s3/bucketPolicy:BucketPolicy",
            {
                "policy": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Principal": {"AWS": STRANGER}, "Action": "s3:*"}]}
                )
            },
        ),
    ],
    ids=[
        "a YAML value with a role key",
        "a tag named Role",
        "an environment variable named ROLE",
        "DMS's own instance profile",
        "the role Organizations creates in a new account",
        "a principal in a resource policy (that rule's to judge)",
    ],
)
def test_what_is_not_a_role_the_resource_runs_as_is_not_read_as_one(type_: str, props: dict) -> None:
    stack = Stack().add(ROLE, "own", {"name": "own"}).add(type_, "x", props)
    assert reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]}) == []


def _machine(state: dict[str, Any]) -> dict[str, Any]:
    return {"roleArn": OWN, "definition": json.dumps({"StartAt": "T", "States": {"T": {**state, "End": True}}})}


@pytest.mark.parametrize(
    "state",
    [
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "Arguments": "{% $states.input.job %}",
        },
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "Arguments": {"TrainingJobName": "t", "RoleArn": "{% $states.input.role %}"},
        },
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Credentials": "{% $states.input.credentials %}",
        },
        {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync"},
    ],
    ids=["JSONata arguments", "a JSONata role", "JSONata credentials", "a SageMaker task whose input is the request"],
)
def test_a_role_the_execution_input_chooses_is_refused(state: dict[str, Any]) -> None:
    stack = Stack().add(ROLE, "own", {"name": "own"}).add("aws:sfn/stateMachine:StateMachine", "m", _machine(state))
    [message] = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert "not known at preview" in message


def test_a_sagemaker_task_with_its_role_written_passes() -> None:
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "Parameters": {"TrainingJobName.$": "$.name", "RoleArn": OWN},
    }
    stack = Stack().add(ROLE, "own", {"name": "own"}).add("aws:sfn/stateMachine:StateMachine", "m", _machine(state))
    assert reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]}) == []


def test_an_organizations_resource_policy_held_as_content_is_read() -> None:
    public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "organizations:DescribeOrganization"}]}
    stack = Stack().add("aws:organizations/resourcePolicy:ResourcePolicy", "x", {"content": json.dumps(public)})
    [message] = reported(RESOURCE_POLICIES, stack, {"allowedAccounts": [ACCOUNT]})
    assert "content" in message and "anyone" in message


def _bucket_policy_template(document: Any) -> str:
    template = {"Resources": {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": "data"}}}}
    template["Resources"]["P"]["Properties"]["PolicyDocument"] = document
    return json.dumps(template)


PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}


@pytest.mark.parametrize(
    "document",
    [
        {"Statement": [{**PUBLIC, "Principal": {"Fn::If": ["Open", "*", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}]}}]},
        {"Statement": [{"Fn::If": ["Open", PUBLIC, {"Ref": "AWS::NoValue"}]}]},
        {"Statement": {"Fn::If": ["Open", [PUBLIC], []]}},
        {"Fn::If": ["Open", {"Statement": [PUBLIC]}, {"Statement": []}]},
    ],
    ids=["a Principal behind Fn::If", "a statement behind Fn::If", "the statements behind Fn::If", "the document"],
)
def test_a_template_policy_behind_a_condition_fails_closed(document: Any) -> None:
    stack = Stack().add("aws:cloudformation/stack:Stack", "x", {"templateBody": _bucket_policy_template(document)})
    assert reported(RESOURCE_POLICIES, stack, {"allowedAccounts": [ACCOUNT]}) != []


def test_a_template_policy_with_functions_in_its_resources_passes() -> None:
    """`!Sub` in a Resource reads as a wildcard there, and a policy for the account's own root passes."""
    own = {**PUBLIC, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Resource": {"Fn::Sub": "${B.Arn}/*"}}
    stack = Stack().add(
        "aws:cloudformation/stack:Stack", "x", {"templateBody": _bucket_policy_template({"Statement": [own]})}
    )
    assert reported(RESOURCE_POLICIES, stack, {"allowedAccounts": [ACCOUNT]}) == []


@pytest.mark.parametrize("name", ["ApplyPolicy", "Tags", "Condition", "Statement", "Principal", "Variables"])
def test_a_role_is_found_whatever_the_program_names_the_state_around_it(name: str) -> None:
    """States and logical IDs are the program's names: one named like a policy, a principal or tags hides
    nothing (a review found that words in a path once did)."""
    task = {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync", "End": True}
    definition = {"StartAt": name, "States": {name: {**task, "Parameters": {"RoleArn": STRANGER}}}}
    machine = {"roleArn": OWN, "definition": json.dumps(definition)}
    stack = Stack().add(ROLE, "own", {"name": "own"}).add("aws:sfn/stateMachine:StateMachine", "m", machine)
    found = reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]})
    assert any("a role of account 999988887777" in message for message in found), found
    model = {"Type": "AWS::SageMaker::Model", "Properties": {"ExecutionRoleArn": STRANGER}}
    template = Stack().add(
        "aws:cloudformation/stack:Stack", "t", {"templateBody": json.dumps({"Resources": {name: model}})}
    )
    found = reported(FOREIGN_ROLES, template, {"allowedAccounts": [ACCOUNT]})
    assert any("a role of account 999988887777" in message for message in found), found


def test_a_role_inside_a_policy_document_is_not_run_as_whatever_its_key() -> None:
    """A role named in a policy a resource carries (here a queue's, as JSON text under an unusual key) is
    granted access, not run as: the resource-policies rule judges it."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": STRANGER}}]}
    stack = Stack().add("aws:sqs/queue:Queue", "q", {"redrivePolicy": "{}", "custom": json.dumps(document)})
    assert reported(FOREIGN_ROLES, stack, {"allowedAccounts": [ACCOUNT]}) == []


def test_a_batch_instance_role_by_name_is_an_instance_profile() -> None:
    """AWS Batch reads `computeResources.instanceRole` as an instance profile, by short name or ARN (botocore's
    batch model, ComputeResource.instanceRole), though pulumi_aws documents it as a role: a bare name is read
    through the stack's instance profiles."""
    environment = "aws:batch/computeEnvironment:ComputeEnvironment"
    own = (
        Stack()
        .add(ROLE, "own", {"name": "own"})
        .add("aws:iam/instanceProfile:InstanceProfile", "p", {"name": "batch-hosts", "role": "own"})
        .add(environment, "x", {"computeResources": {"instanceRole": "batch-hosts", "type": "EC2"}})
    )
    assert reported(FOREIGN_ROLES, own, {"allowedAccounts": [ACCOUNT]}) == []
    foreign = Stack().add(environment, "x", {"computeResources": {"instanceRole": "ecsInstanceRole", "type": "EC2"}})
    [message] = reported(FOREIGN_ROLES, foreign, {"allowedAccounts": [ACCOUNT]})
    assert "runs as ecsInstanceRole, a role the stack does not define" in message
