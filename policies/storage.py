"""S3: every bucket of the stack encrypts at rest and blocks public access.

AWS documentation: default bucket encryption
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html) and Block Public
Access (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
Both are separate resources in pulumi_aws 7, tied to the bucket by their `bucket` input: this is a stack
policy, which sees the whole graph (and, at preview, which bucket an unknown `bucket` input comes from).
"""

from __future__ import annotations

from pulumi_policy import PolicyResource, StackValidationArgs

from .framework import EnvironmentStackPolicy, Report, label, stack_plain

BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
ENCRYPTION = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BLOCK_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


def _bucket_of(resource: PolicyResource, buckets: list[PolicyResource]) -> PolicyResource | None:
    for dependency in resource.property_dependencies.get("bucket", []):
        if dependency.resource_type in BUCKETS:
            return dependency
    name = stack_plain(resource).get("bucket")
    for bucket in buckets:
        props = stack_plain(bucket)
        if isinstance(name, str) and name in (props.get("bucket"), props.get("id")):
            return bucket
    return None


def _encrypts(props: dict) -> bool:
    rules = props.get("rules")
    for rule in rules if isinstance(rules, list) else []:
        default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, dict) else None
        algorithm = default.get("sseAlgorithm") if isinstance(default, dict) else None
        if algorithm in ALGORITHMS:
            return True
    return False


def _encrypted_and_private(args: StackValidationArgs, report: Report) -> None:
    buckets = [r for r in args.resources if r.resource_type in BUCKETS]
    encrypted: set[str] = set()
    private: set[str] = set()
    open_settings: dict[str, list[str]] = {}
    for resource in args.resources:
        if resource.resource_type not in ENCRYPTION and resource.resource_type != PUBLIC_ACCESS_BLOCK:
            continue
        bucket = _bucket_of(resource, buckets)
        if bucket is None:
            continue
        props = stack_plain(resource)
        if resource.resource_type in ENCRYPTION and _encrypts(props):
            encrypted.add(bucket.urn)
        elif resource.resource_type == PUBLIC_ACCESS_BLOCK:
            off = [s for s in BLOCK_SETTINGS if props.get(s) is not True]
            if off:
                open_settings[bucket.urn] = off
            else:
                private.add(bucket.urn)
    for bucket in buckets:
        name = label(bucket.resource_type, bucket.name)
        if bucket.urn not in encrypted:
            report(
                f"{name}: no server-side encryption configuration. To pass: an aws.s3."
                f"BucketServerSideEncryptionConfiguration for it with sseAlgorithm one of {', '.join(ALGORITHMS)}.",
                bucket.urn,
            )
        if bucket.urn not in private:
            off = open_settings.get(bucket.urn, [])
            why = f"its public access block leaves {', '.join(off)} off" if off else "no public access block"
            report(
                f"{name}: {why}. To pass: an aws.s3.BucketPublicAccessBlock for it with "
                f"{', '.join(BLOCK_SETTINGS)} all true.",
                bucket.urn,
            )


ENCRYPTED_AND_PRIVATE = EnvironmentStackPolicy(
    "s3-buckets-encrypted-and-private",
    "Requires every S3 bucket to have default encryption and a public access block with all four settings on.",
    _encrypted_and_private,
)

POLICIES = [ENCRYPTED_AND_PRIVATE]
