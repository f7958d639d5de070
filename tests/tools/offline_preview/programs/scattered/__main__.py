"""One role's, and one user's, grants spread over many resources (seven inline policies, three groups): the
findings must not follow the order the resources arrive in, nor Python's hash seed."""

import json

import pulumi_aws as aws


def doc(actions, resource="*"):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


role = aws.iam.Role(
    "r",
    name="r",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::999999999999:root", "arn:aws:iam::888888888888:root", "*"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    ),
)
for i, prefix in enumerate(
    [
        "sagemaker:Create*",
        "sagemaker:Delete*",
        "sagemaker:Describe*",
        "sagemaker:List*",
        "sagemaker:Update*",
        "sagemaker:[!CDLU]*",
        "sagemaker:?*",
    ]
):
    aws.iam.RolePolicy(
        f"p{i}",
        role="r",
        policy=doc(
            [
                prefix,
                "iam:PassRole",
                "s3:GetObject",
                "secretsmanager:GetSecretValue",
                "iam:AttachRolePolicy",
                "lambda:CreateFunction",
            ]
        ),
    )
user = aws.iam.User("u", name="u")
for g in ["g1", "g2", "g3"]:
    aws.iam.Group(g, name=g)
    aws.iam.GroupPolicy(g + "p", group=g, policy=doc(["sagemaker:*", "iam:CreateAccessKey", "iam:PutUserPolicy"]))
aws.iam.UserGroupMembership("m", user="u", groups=["g1", "g2", "g3"])
