"""One resource group per case named in the stack's `grants:cases`; each case's names start with the case's.

Violating cases: a full SageMaker grant written as letter-prefix globs, split over two policies of one role,
split between an attached customer policy and an inline one, granted to an SSO permission set, declared by
an aws-native role, declared in a CloudFormation template (inline, and by URL), a dynamic resource, an
AWS-managed ARN swapped in behind a benign policy's ARN, an ambiguous document, a trust policy nested
thousands deep, a document unknown at preview. Compliant cases (each role kept to its policies by exclusive
resources): a scoped execution role, AWSDenyAll.
"""

import json

import pulumi
import pulumi_aws as aws
from pulumi import dynamic

ACCOUNT, REGION = "123456789012", "eu-west-1"
LETTERS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [f"sagemaker:{c}*" for c in "ABCDEGILPQRSTU"],
            "Resource": [f"arn:aws:sagemaker:*:*:{c}*" for c in "acdefhijlmnoprstuw"],
        },
        {"Effect": "Allow", "Action": ["sagemaker:List*", "sagemaker:Search*", "sagemaker:Get*"], "Resource": "*"},
    ],
}
FIRST = {"Statement": [{"Effect": "Allow", "Action": [f"sagemaker:{c}*" for c in "ABCDEGI"], "Resource": "*"}]}
SECOND = {"Statement": [{"Effect": "Allow", "Action": [f"sagemaker:{c}*" for c in "LPQRSTU"], "Resource": "*"}]}
ALL = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}
TRUST = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ]
    }
)
SCOPED = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"],
            "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/tumor-prod-*",
        },
        {"Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "*"},
    ]
}


def role(case: str, **extra: object) -> aws.iam.Role:
    return aws.iam.Role(case, name=f"{case}-runner", assume_role_policy=TRUST, **extra)


def inline(case: str, index: int, document: object) -> None:
    aws.iam.RolePolicy(f"{case}-policy-{index}", role=f"{case}-runner", policy=json.dumps(document))


def kept(case: str, names: list[str], arns: list[str]) -> None:
    """The compliant cases' roles hold only what the case grants (an adopted role would keep what it had)."""
    aws.iam.RolePoliciesExclusive(f"{case}-only", role_name=f"{case}-runner", policy_names=names)
    aws.iam.RolePolicyAttachmentsExclusive(f"{case}-no-managed", role_name=f"{case}-runner", policy_arns=arns)


def bucket_with_policy(case: str, principal: object, action: str) -> aws.s3.Bucket:
    bucket = aws.s3.Bucket(case, bucket=f"{case}-data")
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": f"arn:aws:s3:::{case}-data/*"}
    aws.s3.BucketPolicy(f"{case}-policy", bucket=bucket.id, policy=json.dumps({"Statement": [statement]}))
    return bucket


class Noop(dynamic.ResourceProvider):
    def create(self, props: dict) -> dynamic.CreateResult:
        return dynamic.CreateResult("noop", props)


class Opaque(dynamic.Resource):
    def __init__(self, name: str) -> None:
        super().__init__(Noop(), name, {"grants": "who knows"})


def build(case: str) -> None:  # noqa: PLR0915 - one branch per case, read as a table
    if case == "letters":
        role(case)
        inline(case, 0, LETTERS)
    elif case == "split":
        role(case)
        inline(case, 0, FIRST)
        inline(case, 1, SECOND)
    elif case == "attached":
        role(case)
        aws.iam.Policy(f"{case}-first", name=f"{case}-first", policy=json.dumps(FIRST))
        aws.iam.RolePolicyAttachment(
            f"{case}-attachment", role=f"{case}-runner", policy_arn=f"arn:aws:iam::{ACCOUNT}:policy/{case}-first"
        )
        inline(case, 1, SECOND)
    elif case == "sso":
        permission_set = aws.ssoadmin.PermissionSet(
            case, name=case, instance_arn="arn:aws:sso:::instance/ssoins-0123456789abcdef"
        )
        aws.ssoadmin.PermissionSetInlinePolicy(
            f"{case}-inline",
            instance_arn="arn:aws:sso:::instance/ssoins-0123456789abcdef",
            permission_set_arn=permission_set.arn,
            inline_policy=json.dumps(ALL),
        )
    elif case == "native":
        pulumi.CustomResource(
            "aws-native:iam:Role",
            case,
            {
                "roleName": f"{case}-runner",
                "assumeRolePolicyDocument": json.loads(TRUST),
                "policies": [{"policyName": "all", "policyDocument": ALL}],
            },
        )
    elif case == "cfn":
        template = (
            "Resources:\n  Runner:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n"
            "        - PolicyName: all\n          PolicyDocument:\n            Statement:\n"
            "              - Effect: Allow\n                Action: sagemaker:*\n"
            "                Resource: !Sub arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:*\n"
        )
        aws.cloudformation.Stack(case, name=case, template_body=template)
    elif case == "cfn-url":
        aws.cloudformation.Stack(case, name=case, template_url="https://example-bucket.s3.amazonaws.com/t.yaml")
    elif case == "dynamic":
        Opaque(case)
    elif case == "swap":
        role(case)
        benign = aws.iam.Policy(f"{case}-benign", name=f"{case}-benign", policy=json.dumps(SCOPED))
        aws.iam.RolePolicyAttachment(
            f"{case}-attachment",
            role=f"{case}-runner",
            policy_arn=benign.arn.apply(lambda _: "arn:aws:iam::aws:policy/AdministratorAccess"),
        )
    elif case == "ambiguous":
        role(case)
        aws.iam.RolePolicy(
            f"{case}-policy-0",
            role=f"{case}-runner",
            policy='{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "action": "*", "Resource": "*"}]}',
        )
    elif case == "deep":
        deep = "[" * 5000 + "]" * 5000
        aws.iam.Role(case, name=f"{case}-runner", assume_role_policy='{"Statement": ' + deep + "}")
    elif case == "unknown-document":
        role(case)
        bucket = aws.s3.Bucket(f"{case}-bucket")
        aws.iam.RolePolicy(
            f"{case}-policy-0",
            role=f"{case}-runner",
            policy=pulumi.Output.json_dumps(
                {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": bucket.arn}]}
            ),
        )
    elif case == "public-bucket":
        bucket_with_policy(case, "*", "s3:GetObject")
    elif case == "cross-account-bucket":
        bucket_with_policy(case, {"AWS": "arn:aws:iam::999999999999:root"}, "s3:*")
    elif case == "public-package-group":
        aws.sagemaker.ModelPackageGroupPolicy(
            case,
            model_package_group_name="tumor-prod",
            resource_policy=json.dumps(
                {
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sagemaker:*", "Resource": "*"}
                    ]
                }
            ),
        )
    elif case == "anyone-trust":
        aws.iam.Role(
            case,
            name=f"{case}-runner",
            assume_role_policy=json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
            ),
        )
    elif case == "foreign-lambda":
        aws.lambda_.Function(
            case,
            name=case,
            role=f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole",
            runtime="python3.12",
            handler="index.handler",
            code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(e, c): return e")}),
        )
    elif case == "adopted":
        # An existing role adopted with import_ (the engine does not tell the pack) and a function run as it: the
        # stack shows no policy on it, the account's role keeps all it had.
        adopted = aws.iam.Role(
            case,
            name="ci-deployer",
            assume_role_policy=TRUST,
            opts=pulumi.ResourceOptions(import_="ci-deployer"),
        )
        aws.lambda_.Function(
            f"{case}-function",
            name=case,
            role=f"arn:aws:iam::{ACCOUNT}:role/ci-deployer",
            opts=pulumi.ResourceOptions(depends_on=[adopted]),
            runtime="python3.12",
            handler="index.handler",
            code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(e, c): return e")}),
        )
    elif case == "user-key":
        # An access key of an existing user: whoever reads the stack's secret output acts as that user.
        key = aws.iam.AccessKey(case, user="ci-admin")
        pulumi.export(f"{case}-secret", key.secret)
    elif case == "own-account-bucket":
        bucket = bucket_with_policy(case, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "s3:GetObject")
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{case}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
        )
        aws.s3.BucketPublicAccessBlock(
            f"{case}-private",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
    elif case == "org-trust":
        aws.iam.Role(
            case,
            name=f"{case}-runner",
            assume_role_policy=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
                        }
                    ]
                }
            ),
        )
        kept(case, [], [])
    elif case == "foreign-passrole":
        role(case)
        inline(case, 0, {"Statement": [{
            "Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/Admin",
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        }]})  # fmt: skip
    elif case == "passrole-to-anyone":
        role(case)
        inline(case, 0, {"Statement": [{
            "Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/{case}-runner",
            "Condition": {"StringLike": {"iam:PassedToService": "*"}},
        }]})  # fmt: skip
    elif case == "role-writes":
        role(case)
        inline(case, 0, {"Statement": [{
            "Effect": "Allow", "Action": ["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"],
            "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
        }]})  # fmt: skip
    elif case == "policy-versions":
        role(case)
        inline(case, 0, {"Statement": [{
            "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": f"arn:aws:iam::{ACCOUNT}:policy/*",
        }]})  # fmt: skip
    elif case == "every-object":
        role(case)
        inline(case, 0, {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}]})
    elif case == "every-role":
        role(case)
        inline(
            case,
            0,
            {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"}]},
        )
    elif case == "every-secret":
        role(case)
        inline(case, 0, {"Statement": [{
            "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*",
        }]})  # fmt: skip
    elif case == "scoped-passrole":
        # A role of the stack handed only to the service it trusts, and role writes kept under a boundary the
        # stack defines.
        aws.iam.Policy(f"{case}-boundary", name="boundary", policy=json.dumps(SCOPED))
        aws.iam.Role(case, name=f"{case}-runner", assume_role_policy=TRUST)
        kept(case, ["pass"], [])
        aws.iam.RolePolicy(f"{case}-policy-0", role=f"{case}-runner", name="pass", policy=json.dumps({"Statement": [
            {
                "Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/{case}-runner",
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            },
            {
                "Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/{case}-*",
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/boundary"}},
            },
        ]}))  # fmt: skip
    elif case == "scoped":
        role(case)
        aws.iam.RolePolicy(f"{case}-policy-0", role=f"{case}-runner", name="train", policy=json.dumps(SCOPED))
        kept(case, ["train"], [])
    elif case == "deny-all":
        role(case, managed_policy_arns=["arn:aws:iam::aws:policy/AWSDenyAll"])
        kept(case, [], ["arn:aws:iam::aws:policy/AWSDenyAll"])
    else:
        raise ValueError(f"no such case: {case}")


for name in pulumi.Config().require_object("cases"):
    build(name)
