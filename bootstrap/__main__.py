"""Per AWS account, once, before the first deploy: what the GitHub workflows need to preview and deploy.

- GitHub's OIDC provider (one per account; `createOidcProvider: false` when the account has it already);
- `<project>-preview`: assumed by pull-request previews and the drift check of the account's stacks, in the
  stack's environment `preview-<stack>` (`sub` = repo:<repository>:environment:preview-<stack>:ref:<ref>:
  job_workflow_ref:<repository>/.github/workflows/preview.yml@<ref>, <ref> a pull request's refs/pull/*/merge, or
  drift.yml at refs/heads/main), reads the state, nothing else;
- `<project>-deploy-<environment>` per GitHub environment deploying to this account (`sub` =
  repo:<repository>:environment:<environment>:ref:<ref>:job_workflow_ref:<repository>/.github/workflows/
  pulumi-up.yml@<ref>, the run and the deploy workflow both on <ref>: refs/heads/main for prod, a branch of
  `deployBranches` (default main) for the others), scoped to that environment's resources
  (github_access.py). The `sub` carries the workflow only under the repository's subject template
  (github_access.SUBJECT_CLAIMS, docs/delivery.md); without it no role can be assumed.
- per environment: `<project>-<environment>-boundary`, the permissions boundary every pipeline role carries
  (made from the pipelines' own policies) and without which a deploy role can create or change no role; and
  the environment's notifications key (`alias/<project>-<environment>-notifications`), which deploys use but
  cannot manage;
- S3 Block Public Access for the whole account (`blockAccountPublicAccess`, default true): no deploy role can
  make a bucket public, whatever bucket policy it writes;
- `<project>-state-<account>-<region>`: the self-managed state backend (encrypted with its own KMS key,
  versioned, private, TLS only, access-logged to `<project>-state-logs-<account>-<region>`); its policy denies
  reading the state to all but the preview and deploy roles, and writing it to all but the deploy roles (add
  administrators with `stateAdministrators`).

    cd bootstrap && pulumi up --stack <nonprod|prod>
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pulumi_aws as aws
from github_access import (
    AUDIENCE,
    DEPLOY_BRANCHES,
    GITHUB_OIDC_HOST,
    STATE_KEY_TAG,
    Account,
    RepositoryIds,
    access_log_delivery,
    audit_policy,
    audit_subjects,
    boundary_policy,
    deploy_policy,
    deploy_subjects,
    environment_arns,
    github_trust_policy,
    oidc_provider_arn,
    preview_policy,
    preview_subjects,
    reaches,
    state_bucket_statements,
)

# The repository's components (names, ARNs, the hardened bucket, the stack files' reader) are shared with the main
# program: `make install` installs them into ../.venv as the package `components`, editable (this checkout's code).
try:
    import components
except ModuleNotFoundError:
    raise RuntimeError(
        "bootstrap imports the repository's `components`: run `make install` at the repository's root first"
    ) from None
if "site-packages" in Path(components.__file__).parts:
    raise RuntimeError(
        f"bootstrap imports a copy of `components` ({Path(components.__file__).parent}), not a checkout's: run "
        "`make install` at the repository's root (it installs them editable)"
    )
from components import arns, iam_documents
from components.artifacts_bucket import ArtifactsBucket, ArtifactsBucketArgs
from components.iam_documents import MANAGED_POLICIES_PER_ROLE, chunks
from components.ml_pipeline import MlPipelineArgs, pipelines_of
from components.settings import settings_of_stack_file

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent

config = pulumi.Config()
repository = config.require("githubRepository")
environments: list[str] = config.require_object("environments")
project = config.get("project") or "ml-pipelines"
if "/" not in repository or not environments or not all(isinstance(e, str) and e for e in environments):
    raise pulumi.RunError(
        f"bootstrap/Pulumi.{pulumi.get_stack()}.yaml: githubRepository must be <owner>/<repo> and environments "
        "a non-empty list of GitHub environment names"
    )

# A repository created after 2026-07-15 (or opted in) gets GitHub's immutable subject claims: its `sub` names the
# owner and repository with their IDs, and the roles must be told them (docs/delivery.md).
ids_text = config.get("githubRepositoryIds")
if ids_text is not None and not re.fullmatch(r"[0-9]+/[0-9]+", ids_text):
    raise pulumi.RunError(
        f"bootstrap/Pulumi.{pulumi.get_stack()}.yaml: githubRepositoryIds must be <owner id>/<repository id>, two "
        f"numbers (gh api repos/{repository} --jq '\"\\(.owner.id)/\\(.id)\"'), not {ids_text!r}"
    )
repository_ids: RepositoryIds | None = None
if ids_text is not None:
    owner_id, repository_id = ids_text.split("/", 1)
    repository_ids = (owner_id, repository_id)

branches = config.get_object("deployBranches") or list(DEPLOY_BRANCHES)
if not isinstance(branches, list) or not all(
    isinstance(b, str) and re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", b) for b in branches
):
    raise pulumi.RunError(
        f"bootstrap/Pulumi.{pulumi.get_stack()}.yaml: deployBranches must be a list of branch names, each "
        "written out (letters, digits, '.', '_', '-', '/'; no wildcard), e.g. [main]"
    )
deploy_branches = tuple(branches)

try:
    administrators = config.get_object("stateAdministrators") or []
except pulumi.ConfigTypeError:
    administrators = None
if not isinstance(administrators, list) or not all(
    isinstance(a, str) and re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+", a)
    for a in administrators
):
    raise pulumi.RunError(
        f"bootstrap/Pulumi.{pulumi.get_stack()}.yaml: stateAdministrators must be a list of IAM role or user ARNs "
        "(arn:<partition>:iam::<account>:role/<name>)"
    )

# The main program's stack files name the pipelines, hence every resource and role a deploy makes.
STACKS = REPOSITORY_ROOT / "stacks"


def pipelines_in(environment: str) -> list[MlPipelineArgs]:
    path = STACKS / f"Pulumi.{environment}.yaml"
    if not path.is_file():
        raise pulumi.RunError(
            f"{path}: no stack file for the environment {environment} (bootstrap config: environments)"
        )
    settings = settings_of_stack_file(project, environment, path, REPOSITORY_ROOT)
    return pipelines_of(project, environment, settings, account, REPOSITORY_ROOT)


account = Account(
    partition=aws.get_partition().partition,
    region=aws.get_region().region,
    account_id=aws.get_caller_identity().account_id,
)

# Every setting is checked before the first resource: a mistake fails with one line and changes nothing.
pipelines = {environment: pipelines_in(environment) for environment in environments}
# A deploy role's resources are `<pipeline>-<environment>-*`: one environment's prefix must never start another's
# (a staging pipeline named `tumor-dev` makes `tumor-dev-staging-*`, which dev's `tumor-dev-*` would reach).
for environment, found in pipelines.items():
    for other, theirs in pipelines.items():
        for mine in found:
            clash = next(
                (t for t in theirs if t is not mine and t.names.prefix.startswith(mine.names.prefix + "-")), None
            )
            if clash is not None:
                raise pulumi.RunError(
                    f"stacks/Pulumi.{other}.yaml: the pipeline {clash.names.prefix} starts with "
                    f"{mine.names.prefix}- of stacks/Pulumi.{environment}.yaml, so {environment}'s deploy role "
                    "would reach its resources; rename one pipeline"
                )

try:
    state_bucket_name = arns.bucket_name(project, "state", account)
    logs_bucket_name = arns.bucket_name(project, "state-logs", account)
except ValueError as exc:
    raise pulumi.RunError(f"bootstrap/Pulumi.{pulumi.get_stack()}.yaml: project: {exc}") from None
boundaries = {e: boundary_policy(account, arns.EnvironmentNames(project, e), found) for e, found in pipelines.items()}
deploy_grants = {e: deploy_policy(account, project, e, state_bucket_name, found) for e, found in pipelines.items()}
# A boundary names its environment's resources by pattern (`*-<environment>`, github_access.boundary_policy), and a
# deploy policy ends some names with `*`: no other environment of this account may have a resource either matches.
for environment in pipelines:
    for other, theirs in pipelines.items():
        for what, grants in (("permissions boundary", boundaries), ("deploy role", deploy_grants)):
            reached = reaches(grants[environment], environment_arns(account, theirs)) if other != environment else None
            if reached is not None:
                raise pulumi.RunError(
                    f"stacks/Pulumi.{other}.yaml: {reached} would be within {environment}'s {what} (its names are "
                    f"*-{environment}); rename the pipeline so that no name of it holds -{environment}-"
                )
deploy_chunks = {e: chunks(grants) for e, grants in deploy_grants.items()}
for environment, found_chunks in deploy_chunks.items():
    if len(found_chunks) > MANAGED_POLICIES_PER_ROLE:
        raise pulumi.RunError(
            f"stacks/Pulumi.{environment}.yaml: the deploy role of {environment} needs {len(found_chunks)} managed "
            f"policies of 6,144 characters for its {len(pipelines[environment])} pipelines; IAM attaches at most "
            f"{MANAGED_POLICIES_PER_ROLE} to a role by default (raise the quota to 20, or split the pipelines across "
            "accounts)"
        )

provider_arn: pulumi.Input[str] = oidc_provider_arn(account)
depends: list[pulumi.Resource] = []
if config.get_bool("createOidcProvider") is not False:
    oidc = aws.iam.OpenIdConnectProvider(
        "github",
        url=f"https://{GITHUB_OIDC_HOST}",
        client_id_lists=[AUDIENCE],
    )
    provider_arn, depends = oidc.arn, [oidc]

if config.get_bool("blockAccountPublicAccess") is not False:
    # Deploy roles write their bucket's policy; with public access blocked for the account, S3 refuses any
    # policy or ACL that would make a bucket public, and no deploy role may change this setting.
    aws.s3.AccountPublicAccessBlock(
        "account-public-access",
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )

# -- the state bucket ----------------------------------------------------------------------------------------
# Encrypted with its own key, versioned, owner-enforced, public access blocked, TLS only, access-logged (the
# program's bucket component); who may read and write the state is named in its policy by the roles' ARNs.
preview_role_name = f"{project}-preview"
deploy_role_names = {environment: f"{project}-deploy-{environment}" for environment in environments}
state_key = aws.kms.Key(
    "state",
    description=f"Encrypts the Pulumi state of {repository}",
    enable_key_rotation=True,
    deletion_window_in_days=30,
    policy=json.dumps(iam_documents.account_key_policy(account)),
    tags=dict([STATE_KEY_TAG]),
)
ArtifactsBucket(
    "state-logs",
    ArtifactsBucketArgs(
        bucket_name=logs_bucket_name,
        context=account,
        policy_statements=access_log_delivery(account, logs_bucket_name, state_bucket_name),
    ),
)
state_bucket = ArtifactsBucket(
    "state",
    ArtifactsBucketArgs(
        bucket_name=state_bucket_name,
        context=account,
        kms_key_arn=state_key.arn,
        access_logs_bucket=logs_bucket_name,
        policy_statements=state_bucket_statements(
            account,
            state_bucket_name,
            readers=[arns.role_arn(account, preview_role_name), *administrators],
            writers=[*(arns.role_arn(account, n) for n in deploy_role_names.values()), *administrators],
        ),
    ),
)

# -- the roles -----------------------------------------------------------------------------------------------
role_opts = pulumi.ResourceOptions(depends_on=depends)
preview_role = aws.iam.Role(
    "preview",
    name=preview_role_name,
    description=f"Pull-request previews of {repository}: reads the Pulumi state",
    assume_role_policy=json.dumps(
        github_trust_policy(
            account, repository, preview_subjects(repository, environments, repository_ids), repository_ids
        )
    ),
    max_session_duration=3600,
    opts=role_opts,
)
preview_state = aws.iam.RolePolicy(
    "preview-state",
    role=preview_role.name,  # known at preview (a name, not an id): the pack must see which role it grants to
    name="read-state",
    policy=json.dumps(preview_policy(account, state_bucket_name)),
)
# Each role holds exactly what this program grants it: the exclusive resources remove, when created, whatever
# else a role holds (one adopted with `import_`, a policy attached out of band), and the pack's
# iam-grant-sets-declared knows each role's whole grant set.
aws.iam.RolePoliciesExclusive("preview-only", role_name=preview_role.name, policy_names=[preview_state.name])
aws.iam.RolePolicyAttachmentsExclusive("preview-no-managed", role_name=preview_role.name, policy_arns=[])

# The account audit (audit.yml on main): reads the account's IAM and nothing else; no state (the bucket policy
# refuses it too: it is no reader).
audit_role = aws.iam.Role(
    "audit",
    name=f"{project}-audit",
    description=f"Scheduled account audits of {repository}: reads the account's IAM authorization details",
    assume_role_policy=json.dumps(
        github_trust_policy(account, repository, audit_subjects(repository, repository_ids), repository_ids)
    ),
    max_session_duration=3600,
    opts=role_opts,
)
audit_read = aws.iam.RolePolicy(
    "audit-read",
    role=audit_role.name,
    name="read-authorization-details",
    policy=json.dumps(audit_policy()),
)
aws.iam.RolePoliciesExclusive("audit-only", role_name=audit_role.name, policy_names=[audit_read.name])
aws.iam.RolePolicyAttachmentsExclusive("audit-no-managed", role_name=audit_role.name, policy_arns=[])

deploy_roles: dict[str, pulumi.Output[str]] = {}
for environment in environments:
    names = arns.EnvironmentNames(project, environment)
    boundary = aws.iam.Policy(
        f"boundary-{environment}",
        name=names.boundary_policy,
        description=f"Permissions boundary of every role of the {environment} pipelines of {repository}",
        policy=json.dumps(boundaries[environment]),
    )
    key = aws.kms.Key(
        f"notifications-{environment}",
        description=f"Encrypts the failure topics of the {environment} pipelines of {repository}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=json.dumps(iam_documents.notification_key_policy(account)),
        tags=dict([names.notifications_key_tag]),
    )
    aws.kms.Alias(f"notifications-{environment}", name=names.notifications_key_alias, target_key_id=key.key_id)
    role = aws.iam.Role(
        f"deploy-{environment}",
        name=deploy_role_names[environment],
        description=f"Deploys of {repository} from the GitHub environment {environment}",
        assume_role_policy=json.dumps(
            github_trust_policy(
                account,
                repository,
                deploy_subjects(
                    repository, environment, prod=environment == "prod", ids=repository_ids, branches=deploy_branches
                ),
                repository_ids,
            )
        ),
        max_session_duration=3600,
        opts=role_opts,
    )
    # The deploy permissions name every resource of every pipeline, so they grow with the pipelines: past a role's
    # 10,240 inline characters they are managed policies of at most 6,144 characters each, attached to the role
    # (IAM quotas: 10 managed policies per role by default, 20 at most).
    attachments: list[aws.iam.RolePolicyAttachment] = []
    for index, chunk in enumerate(deploy_chunks[environment], start=1):
        name = f"{deploy_role_names[environment]}-{index}"
        permissions = aws.iam.Policy(
            f"deploy-{environment}-permissions-{index}",
            name=name,
            description=f"Deploys of the {environment} pipelines of {repository} ({index} of "
            f"{len(deploy_chunks[environment])})",
            policy=json.dumps(chunk),
        )
        attachments.append(
            aws.iam.RolePolicyAttachment(
                f"deploy-{environment}-attach-{index}",
                role=role.name,
                # Built from the name, so that the grant is known at preview; created first.
                policy_arn=arns.policy_arn(account, name),
                # The deploy role may create roles only under the boundary: it must exist first.
                opts=pulumi.ResourceOptions(depends_on=[boundary, permissions]),
            )
        )
    aws.iam.RolePoliciesExclusive(f"deploy-{environment}-no-inline", role_name=role.name, policy_names=[])
    aws.iam.RolePolicyAttachmentsExclusive(
        f"deploy-{environment}-only",
        role_name=role.name,
        policy_arns=[
            arns.policy_arn(account, f"{deploy_role_names[environment]}-{index}")
            for index in range(1, len(deploy_chunks[environment]) + 1)
        ],
        opts=pulumi.ResourceOptions(depends_on=attachments),
    )
    deploy_roles[environment] = role.arn

pulumi.export("oidc_provider_arn", provider_arn)
pulumi.export("state_backend_url", pulumi.Output.concat("s3://", state_bucket.bucket_name))
pulumi.export("preview_role_arn", preview_role.arn)
pulumi.export("audit_role_arn", audit_role.arn)
pulumi.export("deploy_role_arns", deploy_roles)
