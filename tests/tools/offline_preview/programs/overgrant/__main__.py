"""The same styles as the other programs (resource objects as inputs, AWS-managed policies, outputs in policies),
with what prod must never get: full SageMaker access, a service's policy on a person's user, a bucket policy
open to anyone, a role any account may assume."""

import json

import pulumi_aws as aws

role = aws.iam.Role(
    "notebook",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment("notebook-full", role=role, policy_arn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
person = aws.iam.User("person")
aws.iam.UserPolicyAttachment(
    "person-logs", user=person, policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
)
bucket = aws.s3.BucketV2("data")
aws.s3.BucketPolicy(
    "data-open",
    bucket=bucket.id,
    policy=bucket.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{arn}/*"}],
            }
        )
    ),
)
