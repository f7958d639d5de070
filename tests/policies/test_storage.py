"""S3: every bucket encrypted and private, linked to its settings through the graph."""

from __future__ import annotations

from typing import Any

from policies.storage import ENCRYPTED_AND_PRIVATE
from tests.policies.conftest import UNKNOWN, Stack, violations

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BLOCKED = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
ENCRYPTED = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}


def bucket(encryption: dict[str, Any] | None = ENCRYPTED, block: dict[str, Any] | None = BLOCKED) -> Stack:
    stack = Stack().add(BUCKET, "artifacts", {"bucket": "ml-pipelines-prod"})
    if encryption is not None:
        stack.add(SSE, "artifacts-encryption", {"bucket": UNKNOWN, **encryption}, bucket="artifacts")
    if block is not None:
        stack.add(PAB, "artifacts-public-access", {"bucket": "ml-pipelines-prod", **block})
    return stack


def test_an_encrypted_private_bucket_passes() -> None:
    assert violations(ENCRYPTED_AND_PRIVATE, bucket().args()) == []


def test_kms_encryption_passes() -> None:
    kms = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "k"}}]}
    assert violations(ENCRYPTED_AND_PRIVATE, bucket(encryption=kms).args()) == []


def test_a_bucket_without_encryption_is_a_violation() -> None:
    assert violations(ENCRYPTED_AND_PRIVATE, bucket(encryption=None).args()) == [
        f'{BUCKET} "artifacts": no server-side encryption configuration. To pass: an aws.s3.'
        "BucketServerSideEncryptionConfiguration for it with sseAlgorithm one of AES256, aws:kms, aws:kms:dsse."
    ]


def test_a_public_access_block_with_a_setting_off_is_a_violation() -> None:
    assert violations(ENCRYPTED_AND_PRIVATE, bucket(block={**BLOCKED, "blockPublicPolicy": False}).args()) == [
        f'{BUCKET} "artifacts": its public access block leaves blockPublicPolicy off. To pass: an '
        "aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls, "
        "restrictPublicBuckets all true."
    ]


def test_a_bucket_without_a_public_access_block_is_a_violation() -> None:
    [message] = violations(ENCRYPTED_AND_PRIVATE, bucket(block=None).args())
    assert message.startswith(f'{BUCKET} "artifacts": no public access block. To pass:')


def test_settings_for_another_bucket_do_not_count() -> None:
    stack = bucket().add(BUCKET, "other", {"bucket": "other"})
    assert len(violations(ENCRYPTED_AND_PRIVATE, stack.args())) == 2
