"""IAM documents for GitHub Actions: who may assume the roles (OIDC trust), and what each role may do.

Names follow the main program (`components/arns.py`): every resource of environment E is named
`<pipeline>-E[-suffix]`, except the artifacts bucket, `<project>-E-<account>-<region>`, and the KMS keys, which
carry the tag `environment = E`. The deploy role of E is scoped to exactly those, so a dev deploy cannot touch
staging's resources even in the same account.

Trust: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
Condition keys: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
"""

from __future__ import annotations

from typing import Any

from components.arns import AwsContext, PipelineNames

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"

Document = dict[str, Any]


Account = AwsContext
"""Partition, region and account of the account being bootstrapped (the main program's own type)."""


def _document(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def oidc_provider_arn(account: Account) -> str:
    return account.arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}", region=False)


SUBJECT_CLAIMS = ("repo", "context", "job_workflow_ref")
"""The repository's OIDC subject template (`include_claim_keys`, set once per repository; README, "Set up").

With it the `sub` GitHub signs names the workflow file the job runs in and the ref it was taken from:
`repo:<owner/repo>:<context>:job_workflow_ref:<owner/repo>/.github/workflows/<file>@<ref>`, where <context> is
`environment:<name>` for a job in an environment and `pull_request` for a pull-request job. AWS STS reads no
custom claim of GitHub's token as a condition key (GitHub's AWS guide says so); `sub` is read, so the workflow
is pinned through it. Without the template the token's `sub` stops at the context and matches no role here:
the roles fail closed.
"""

DEPLOY_WORKFLOW = "pulumi-up.yml"
"""The reusable workflow every `pulumi up` runs in (called by deploy.yml); its job holds the environment."""

PREVIEW_WORKFLOW = "preview.yml"

PROD_REFS = ("refs/heads/main", "refs/tags/v*")
"""Prod is deployed from main or a release tag only (deploy.yml). This is the ref `pulumi-up.yml` is taken at,
which a caller names: a workflow on any branch can call `pulumi-up.yml@main`. The run's own ref is held by the
`prod` environment's deployment rules (README), not by this trust."""


def workflow_subjects(repository: str, context: str, workflow: str, refs: tuple[str, ...]) -> list[str]:
    """The `sub` values of jobs of `repository` running `workflow` at one of `refs`, in `context`."""
    return [
        f"repo:{repository}:{context}:job_workflow_ref:{repository}/.github/workflows/{workflow}@{ref}" for ref in refs
    ]


def deploy_subjects(repository: str, environment: str, *, prod: bool) -> list[str]:
    """Deploys of `environment`: the environment's job in the deploy workflow; for prod, from main or a v* tag."""
    refs = PROD_REFS if prod else ("*",)
    return workflow_subjects(repository, environment_subject(environment), DEPLOY_WORKFLOW, refs)


DRIFT_WORKFLOW = "drift.yml"
"""The scheduled drift check: `pulumi preview --refresh --expect-no-changes` per stack, read-only, from main."""


def preview_subjects(repository: str) -> list[str]:
    """Read-only previews: the preview workflow at a pull request's merge ref, and the drift check on main (a
    job with no environment on main has the context `ref:refs/heads/main`)."""
    return [
        *workflow_subjects(repository, PULL_REQUEST_SUBJECT, PREVIEW_WORKFLOW, ("refs/pull/*/merge",)),
        *workflow_subjects(repository, "ref:refs/heads/main", DRIFT_WORKFLOW, ("refs/heads/main",)),
    ]


def github_trust_policy(account: Account, repository: str, subjects: list[str]) -> Document:
    """Only workflow runs of `repository` whose token subject is one of `subjects` (StringLike where one holds
    a wildcard: never a leading one, and the repository, context and workflow file before it are fixed)."""
    assert all(s.startswith(f"repo:{repository}:") for s in subjects), subjects
    wildcard = any("*" in s or "?" in s for s in subjects)
    sub = {f"{GITHUB_OIDC_HOST}:sub": subjects[0] if len(subjects) == 1 else subjects}
    condition: Document = {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE}}
    if wildcard:
        # A `*` after `<file>@` would also match a workflow file named `pulumi-up.yml@refs/tags/v1.yml` (a file
        # name may hold `@`) run from any branch: the subject must hold exactly one `@`, the one before the ref.
        condition["StringLike"] = sub
        condition["StringNotLike"] = {f"{GITHUB_OIDC_HOST}:sub": "*@*@*"}
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


PULL_REQUEST_SUBJECT = "pull_request"
"""The context part of the `sub` of a job triggered by a pull request (no environment)."""


def state_access(account: Account, bucket: str, *, write: bool) -> list[Document]:
    """The Pulumi state in the self-managed backend (s3://bucket): read it; to deploy, lock and write it.

    A preview of a self-managed (DIY) backend neither locks the stack nor writes history: in Pulumi's source,
    `diyBackend.Preview` goes straight to `apply` with DryRun, while Update, Refresh and Destroy take
    `.pulumi/locks/...` first and then write the checkpoint, history and backups under `.pulumi/`.
    """
    bucket_arn = account.arn("s3", bucket, region=False, account=False)
    statements: list[Document] = [
        {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {"Sid": "StateRead", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/.pulumi/*"},
    ]
    if write:
        statements.append(
            {
                "Sid": "StateWrite",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{bucket_arn}/.pulumi/*",
            }
        )
    return statements


def preview_policy(account: Account, state_bucket: str) -> Document:
    """`pulumi preview` reads the state; the program's invokes (caller identity, region) need no permission."""
    return _document(*state_access(account, state_bucket, write=False))


def passed_roles(pipelines: list[dict[str, Any]], environment: str) -> dict[str, list[str]]:
    """Service -> the roles of E's pipelines that a deploy passes to it, named as the program names them."""
    roles: dict[str, list[str]] = {
        "states.amazonaws.com": [],
        "lambda.amazonaws.com": [],
        "scheduler.amazonaws.com": [],
    }
    for pipeline in pipelines:
        names = PipelineNames.of(pipeline["name"], environment)
        roles["states.amazonaws.com"].append(names.state_machine_role)
        roles["lambda.amazonaws.com"].append(names.evaluate_role)
        if pipeline.get("schedule"):
            roles["scheduler.amazonaws.com"].append(names.scheduler_role)
    return roles


def deploy_policy(
    account: Account, project: str, environment: str, state_bucket: str, passed_roles: dict[str, list[str]]
) -> Document:
    """What `pulumi up` of the main program needs for environment E, and nothing of other environments."""
    named = f"*-{environment}-*"
    roles = account.arn("iam", f"role/{named}", region=False)
    bucket = account.arn(
        "s3", f"{project}-{environment}-{account.account_id}-{account.region}", region=False, account=False
    )
    own_tag = {"StringEquals": {"aws:ResourceTag/environment": environment}}
    return _document(
        *state_access(account, state_bucket, write=True),
        {
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam_roles_manage.html
            "Sid": "Roles",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole",
                "iam:GetRole",
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
            ],
            "Resource": roles,
        },
        *(
            {
                # Each role only to the service it was made for: the state machine's, the evaluation
                # function's and the schedule's roles, named one by one (github_access.passed_roles).
                "Sid": f"PassRolesTo{service.split('.')[0].capitalize()}",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": [account.arn("iam", f"role/{name}", region=False) for name in names],
                "Condition": {"StringEquals": {"iam:PassedToService": service}},
            }
            for service, names in sorted(passed_roles.items())
            if names
        ),
        {
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
        },
        {
            "Sid": "EvaluationFunction",
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
            "Resource": account.arn("lambda", f"function:{named}"),
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
            "Resource": [
                account.arn("logs", f"log-group:/aws/lambda/{named}"),
                account.arn("logs", f"log-group:/aws/vendedlogs/states/*-{environment}"),
            ],
        },
        {
            # Actions IAM scopes to no resource: reading log groups back (by prefix) and managing the
            # topics' subscriptions (their ARNs are only known once they exist).
            "Sid": "UnscopableReadsAndSubscriptions",
            "Effect": "Allow",
            "Action": [
                "logs:DescribeLogGroups",
                "sns:Unsubscribe",
                "sns:GetSubscriptionAttributes",
                "sns:SetSubscriptionAttributes",
            ],
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
            "Resource": account.arn("states", f"stateMachine:*-{environment}"),
        },
        {
            "Sid": "FailureTopics",
            "Effect": "Allow",
            "Action": [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:TagResource",
                "sns:UntagResource",
                "sns:ListTagsForResource",
                "sns:Subscribe",
            ],
            "Resource": account.arn("sns", f"*-{environment}-failures"),
        },
        {
            "Sid": "Alarms",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
            ],
            "Resource": account.arn("cloudwatch", f"alarm:{named}"),
        },
        {
            "Sid": "RetrainingSchedules",
            "Effect": "Allow",
            "Action": [
                "scheduler:CreateSchedule",
                "scheduler:GetSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
            ],
            "Resource": account.arn("scheduler", f"schedule/default/{named}"),
        },
        {
            # CreateKey supports no resource ARN; the key must be created with this environment's tag.
            "Sid": "CreateTaggedKeys",
            "Effect": "Allow",
            "Action": "kms:CreateKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/environment": environment}},
        },
        {
            "Sid": "TagKeysWithOwnEnvironment",
            "Effect": "Allow",
            "Action": "kms:TagResource",
            "Resource": account.arn("kms", "key/*"),
            "Condition": {"StringEquals": {"aws:RequestTag/environment": environment}},
        },
        {
            "Sid": "ManageOwnKeys",
            "Effect": "Allow",
            "Action": [
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:PutKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:EnableKeyRotation",
                "kms:ListResourceTags",
                "kms:UntagResource",
                "kms:ScheduleKeyDeletion",
                "kms:UpdateKeyDescription",
                "kms:CreateAlias",
                "kms:DeleteAlias",
            ],
            "Resource": account.arn("kms", "key/*"),
            "Condition": own_tag,
        },
        {
            "Sid": "OwnAliases",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias"],
            "Resource": account.arn("kms", f"alias/{named}"),
        },
        {
            "Sid": "ListAliases",
            "Effect": "Allow",
            "Action": "kms:ListAliases",
            "Resource": "*",
        },
    )
