"""`policies/escalation.py`: privilege-escalation methods, open unless guarded or kept to the stack's own."""

from __future__ import annotations

import pytest

from policies.access import catalog
from policies.access.reach import escalation_methods
from policies.escalation import PRIVILEGE_ESCALATION
from tests.conftest import ROOT
from tests.policies.rules import ACCOUNT, reported, role_with

OWN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/runner"
BOUNDARY = {"StringEquals": {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/boundary"}}


@pytest.mark.parametrize(
    ("statement", "method"),
    [
        ({"Action": "iam:PutRolePolicy", "Resource": OWN_ROLE}, "PutRolePolicy"),
        ({"Action": ["iam:CreateRole"], "Resource": f"arn:aws:iam::{ACCOUNT}:role/*-prod-*"}, "CreateRole"),
        (
            {"Action": "iam:CreatePolicyVersion", "Resource": f"arn:aws:iam::{ACCOUNT}:policy/*"},
            "CreateNewPolicyVersion",
        ),
        (
            {"Action": "lambda:UpdateFunctionCode", "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:*"},
            "EditExistingLambdaFunctionWithRole",
        ),
        ({"Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"}, "DeleteRolePermissionsBoundary"),
        (
            {"Action": "states:UpdateStateMachine", "Resource": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:*"},
            "UpdateExistingStateMachineWithRole",
        ),
        (
            {"Action": "lambda:UpdateFunctionConfiguration", "Resource": "*"},
            "UpdateExistingLambdaConfigurationWithRole",
        ),
        ({"Action": "ssm:SendCommand", "Resource": "*"}, "SendCommandToExistingInstances"),
        (
            {"Action": "ssm:StartSession", "Resource": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0"},
            "StartSessionOnExistingInstances",
        ),
        (
            {"Action": "codebuild:StartBuild", "Resource": f"arn:aws:codebuild:eu-west-1:{ACCOUNT}:project/deploy"},
            "StartBuildOfExistingProjectWithBuildspecOverride",
        ),
        (
            {
                "Action": "sagemaker:CreatePresignedDomainUrl",
                "Resource": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:user-profile/d-abc123/admin",
            },
            "OpenExistingStudioUserProfile",
        ),
        (
            {
                "Action": "cloudformation:UpdateStack",
                "Resource": f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/x/*",
            },
            "UpdateExistingStackWithItsServiceRole",
        ),
        (
            {"Action": ["glue:UpdateJob", "glue:StartJobRun"], "Resource": f"arn:aws:glue:eu-west-1:{ACCOUNT}:job/etl"},
            "UpdateAndRunExistingGlueJob",
        ),
        # pathfinding.cloud's paths through an existing service, job definition, runtime or deployment group.
        (
            {"Action": "apprunner:UpdateService", "Resource": f"arn:aws:apprunner:eu-west-1:{ACCOUNT}:service/*"},
            "UpdateExistingAppRunnerServiceWithItsRole",
        ),
        ({"Action": "batch:SubmitJob", "Resource": "*"}, "SubmitExistingBatchJobDefinitionWithCommandOverride"),
        (
            {"Action": "bedrock-agentcore:InvokeAgentRuntimeCommand", "Resource": "*"},
            "InvokeCommandInExistingAgentCoreRuntime",
        ),
        (
            {
                "Action": ["bedrock-agentcore:StartBrowserSession", "bedrock-agentcore:ConnectBrowserAutomationStream"],
                "Resource": "*",
            },
            "DriveExistingAgentCoreBrowserSession",
        ),
        (
            # CreateDeployment alone: the revision is in the request (botocore's model), the configuration defaults.
            {
                "Action": "codedeploy:CreateDeployment",
                "Resource": f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentgroup:app/prod",
            },
            "DeployToExistingCodeDeployGroupWithInstanceProfile",
        ),
    ],
)
def test_escalation_methods_are_reported_with_a_witness(statement: dict, method: str) -> None:
    [message] = reported(PRIVILEGE_ESCALATION, role_with(statement))
    assert message.startswith(f'aws:iam/role:Role "runner": can escalate its privileges by {method}: e.g. {method} (')
    assert 'granted by aws:iam/rolePolicy:RolePolicy "runner-policy" policy statement 0' in message


def test_a_permissions_boundary_condition_makes_iam_writes_safe() -> None:
    statement = {
        "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/app-*",
        "Condition": BOUNDARY,
    }
    stack = role_with(statement)
    stack.add("aws:iam/policy:Policy", "boundary", {"name": "boundary", "policy": '{"Statement": []}'})
    assert reported(PRIVILEGE_ESCALATION, stack) == []


@pytest.mark.parametrize(
    "boundary",
    ["arn:aws:iam::aws:policy/AdministratorAccess", f"arn:aws:iam::{ACCOUNT}:policy/boundary"],
    ids=["an AWS-managed policy", "a policy the stack does not define"],
)
def test_a_boundary_the_stack_does_not_define_guards_nothing(boundary: str) -> None:
    statement = {
        "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
        "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
    }
    [message] = reported(PRIVILEGE_ESCALATION, role_with(statement))
    assert "with an iam:PermissionsBoundary naming a policy the stack does not define" in message


def test_rewriting_a_managed_policy_the_stack_defines_is_escalation() -> None:
    """The stack's own boundary, rewritten, makes every role under it whatever the writer wants."""
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
    stack = role_with({"Action": ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"], "Resource": boundary})
    stack.add("aws:iam/policy:Policy", "boundary", {"name": "boundary", "policy": '{"Statement": []}'})
    [message] = reported(PRIVILEGE_ESCALATION, stack)
    assert "which rewrites a managed policy" in message


def test_escalation_actions_on_the_stacks_own_named_resources_pass() -> None:
    statement = {
        "Action": "lambda:UpdateFunctionCode",
        "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:evaluate",
    }
    stack = role_with(statement)
    stack.add("aws:lambda/function:Function", "evaluate", {"name": "evaluate", "role": OWN_ROLE})
    assert reported(PRIVILEGE_ESCALATION, stack) == []


def test_the_methods_come_from_the_kept_source() -> None:
    methods = escalation_methods()
    assert methods["PutRolePolicy"] == ("iam:PutRolePolicy",)
    assert methods["PassExistingRoleToNewLambdaThenInvoke"] == (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:InvokeFunction",
    )
    # Cloudsplaining's, then the boundary and compute methods added here, then pathfinding.cloud's
    assert len(methods) == 65 + 15 + 5
    assert methods["UpdateExistingStateMachineWithRole"] == ("states:UpdateStateMachine",)
    for actions in methods.values():
        assert all(catalog.action(a) is not None for a in actions), actions


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/deploy"),
        ("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/deploy"),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:deploy"),
    ],
)
def test_a_name_the_stack_uses_for_another_type_is_not_its_own(action: str, resource: str) -> None:
    """The stack's inline policy is named `deploy`: a user, a managed policy or a function of that name is not."""
    stack = role_with({"Action": action, "Resource": resource})
    stack.add("aws:iam/rolePolicy:RolePolicy", "named", {"role": "runner", "name": "deploy", "policy": "{}"})
    [message] = reported(PRIVILEGE_ESCALATION, stack)
    assert "can escalate its privileges" in message


def test_deployed_resources_are_named_by_service_and_type() -> None:
    statement = {"Action": "lambda:UpdateFunctionCode", "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f"}
    assert reported(PRIVILEGE_ESCALATION, role_with(statement), {"deployedResources": ["lambda:function:f"]}) == []
    for other in (["iam:role/f"], ["f"], ["states:stateMachine:f"]):
        assert reported(PRIVILEGE_ESCALATION, role_with(statement), {"deployedResources": other}), other


def test_with_allowed_accounts_a_resource_of_another_account_is_never_own() -> None:
    function = "function:tumor-prod-evaluate"
    config = {"deployedResources": [f"lambda:{function}"], "allowedAccounts": [ACCOUNT]}
    own = {"Action": "lambda:UpdateFunctionCode", "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:{function}"}
    assert reported(PRIVILEGE_ESCALATION, role_with(own), config) == []
    other = {"Action": "lambda:UpdateFunctionCode", "Resource": f"arn:aws:lambda:eu-west-1:999999999999:{function}"}
    [message] = reported(PRIVILEGE_ESCALATION, role_with(other), config)
    assert "999999999999" in message


def test_a_schedule_is_own_only_in_its_own_group() -> None:
    """`schedule/<group>/<name>`: the same name in another group is another schedule."""
    config = {"deployedResources": ["scheduler:schedule/default/tumor-prod-retraining"]}
    schedule = f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule/{{}}/tumor-prod-retraining"
    own = {"Action": "scheduler:UpdateSchedule", "Resource": schedule.format("default")}
    assert reported(PRIVILEGE_ESCALATION, role_with(own), config) == []
    other = {"Action": "scheduler:UpdateSchedule", "Resource": schedule.format("admin-group")}
    [message] = reported(PRIVILEGE_ESCALATION, role_with(other), config)
    assert "UpdateExistingScheduleWithRole" in message


@pytest.mark.parametrize(
    ("action", "resource", "method"),
    [
        ("iam:PutGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/g", "PutGroupPolicy"),
        ("iam:AttachGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/g", "AttachGroupPolicy"),
        ("iam:DeleteRolePermissionsBoundary", OWN_ROLE, "DeleteRolePermissionsBoundary"),
    ],
)
def test_some_iam_writes_are_escalation_even_on_the_stacks_own(action: str, resource: str, method: str) -> None:
    """The stack's own group (the principal may be in it) or role (its boundary lifted): no condition helps."""
    stack = role_with({"Action": action, "Resource": resource})
    stack.add("aws:iam/group:Group", "g", {"name": "g"})
    [message] = reported(PRIVILEGE_ESCALATION, stack)
    assert f"can escalate its privileges by {method}" in message
    assert "which no condition makes safe" in message


def test_assuming_a_role_the_stack_does_not_define_is_escalation() -> None:
    statement = {"Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"}
    [message] = reported(PRIVILEGE_ESCALATION, role_with(statement))
    assert "AssumeExistingRole" in message
    own = {"Action": "sts:AssumeRole", "Resource": OWN_ROLE}
    assert reported(PRIVILEGE_ESCALATION, role_with(own)) == []


def test_each_pathfinding_method_is_checked_against_aws_documentation_and_botocore() -> None:
    """Each method added from pathfinding.cloud names the AWS pages that say what it relies on, and the request
    member it relies on is in botocore's own model of that API (read here, not from the pack's data): a command
    override, a new source, a command body, a browser to start, a revision in the request."""
    import json

    import botocore.session

    data = json.loads((ROOT / "policies" / "data" / "privilege_escalation.json").read_text())
    documented = data["pathfinding_documentation"]
    assert set(documented) == set(data["pathfinding_methods"])
    session = botocore.session.get_session()
    for method, entry in documented.items():
        assert entry["aws"] and all(u.startswith("https://docs.aws.amazon.com/") for u in entry["aws"]), method
        service, operation, member = entry["botocore"]
        model = session.get_service_model(service).operation_model(operation)
        assert member in model.input_shape.members, (method, member)
        assert f"{service}:{operation}" in data["pathfinding_methods"][method], method
    assert "command" in session.get_service_model("batch").shape_for("ContainerOverrides").members
    assert session.get_service_model("codedeploy").operation_model("CreateDeployment").input_shape.required_members == [
        "applicationName"
    ]
