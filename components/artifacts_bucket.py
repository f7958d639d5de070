"""The stack's artifacts bucket: data, processed splits, models and reports, one prefix per pipeline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam_documents
from components.arns import AwsContext


@dataclass(frozen=True)
class ArtifactsBucketArgs:
    bucket_name: str
    """Deterministic (arns.artifacts_bucket_name), because IAM documents name it before it exists."""
    context: AwsContext
    """Partition, region and account the bucket's ARNs are built from."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Encrypt with this customer managed key (SSE-KMS, bucket key on) instead of S3's own keys (SSE-S3)."""
    access_logs_bucket: str | None = None
    """Write S3 server access logs to this bucket, under `<bucket name>/`."""
    policy_statements: list[dict[str, Any]] = field(default_factory=list)
    """Statements the bucket policy holds beside the TLS-only one."""


class ArtifactsBucket(pulumi.ComponentResource):
    """An S3 bucket that is encrypted, versioned, owner-enforced, private and reachable over TLS only."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    arn: pulumi.Output[str]
    """The bucket's ARN."""

    def __init__(self, name: str, args: ArtifactsBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlpipelines:storage:ArtifactsBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-bucket", bucket=args.bucket_name, force_destroy=False, opts=child)
        depends = pulumi.ResourceOptions(parent=self, depends_on=[bucket])
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=depends,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=depends,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": (
                        {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
                        if args.kms_key_arn is not None
                        else {"sse_algorithm": "AES256"}
                    ),
                    "bucket_key_enabled": True,
                }
            ],
            opts=depends,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=depends,
        )
        if args.access_logs_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logs",
                bucket=bucket.id,
                target_bucket=args.access_logs_bucket,
                target_prefix=f"{args.bucket_name}/",
                opts=depends,
            )
        document = iam_documents.tls_only_bucket_policy(args.context, args.bucket_name)
        document["Statement"] += args.policy_statements
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=json.dumps(document),
            # S3 rejects a bucket policy while the public access block is being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        self.bucket_name = bucket.bucket
        self.arn = bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})
