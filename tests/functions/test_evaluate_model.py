"""The evaluation Lambda on real-shaped reports in S3 (moto), the SageMaker output.tar.gz included."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.evaluate_model import handler as evaluate

BUCKET = "artifacts"
PREFIX = f"s3://{BUCKET}/pipelines/tumor-prod/"
REPORT = {
    "binary_classification_metrics": {
        "auc": {"value": 0.91, "standard_deviation": 0.01},
        "f1": {"value": 0.77, "standard_deviation": 0.02},
    }
}


ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "ALLOWED_REPORT_PREFIX": PREFIX,
}


@pytest.fixture(scope="module")
def _bucket() -> Iterator[Any]:
    """One moto S3 with the bucket for the module (starting moto costs more than most tests here)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in ENVIRONMENT.items():
            patch.setenv(key, value)
        with mock_aws():
            client = boto3.client("s3", region_name="eu-west-1")
            client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            yield client


@pytest.fixture(autouse=True)
def s3(_bucket: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The bucket, empty at the start of each test."""
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    yield _bucket
    for entry in _bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        _bucket.delete_object(Bucket=BUCKET, Key=entry["Key"])


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def put(s3: Any, key: str, body: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=f"pipelines/tumor-prod/{key}", Body=body)
    return f"{PREFIX}{key}"


def test_reads_the_metric_from_sagemakers_output_archive(s3: Any) -> None:
    uri = put(
        s3,
        "runs/abc/model/job/output/output.tar.gz",
        tar_gz({"evaluation.json": json.dumps(REPORT).encode()}),
    )
    assert evaluate.handler({"reportUri": uri, "metric": "auc"}) == {"metric": "auc", "value": 0.91, "reportUri": uri}


def test_returns_the_report_it_read_for_the_model_versions_metrics(s3: Any) -> None:
    uri = put(s3, "runs/abc/evaluation/evaluation.json", json.dumps(REPORT).encode())
    assert evaluate.handler({"reportUri": uri, "metric": "auc"}) == {"metric": "auc", "value": 0.91, "reportUri": uri}


def test_finds_the_report_in_a_subdirectory_of_the_archive(s3: Any) -> None:
    body = tar_gz({"reports/evaluation.json": json.dumps(REPORT).encode(), "other.txt": b"x"})
    uri = put(s3, "runs/abc/output.tar.gz", body)
    assert evaluate.handler({"reportUri": uri, "metric": "f1"})["value"] == 0.77


def test_reads_a_plain_json_report(s3: Any) -> None:
    report = {"regression_metrics": {"mse": {"value": 3, "standard_deviation": 0.5}}}
    uri = put(s3, "runs/abc/evaluation.json", json.dumps(report).encode())
    assert evaluate.handler({"reportUri": uri, "metric": "mse"})["value"] == 3.0


BAD_REPORTS: list[tuple[str, str, bytes, str]] = [
    ("not JSON", "runs/a/evaluation.json", b"auc=0.9", "runs/a/evaluation.json: evaluation.json is not JSON"),
    ("a list", "runs/a/evaluation.json", b"[0.9]", "the report is a list, not a JSON object"),
    (
        "metric absent",
        "runs/a/evaluation.json",
        json.dumps({"binary_classification_metrics": {"f1": {"value": 1}}}).encode(),
        "metric 'auc' is not in the report (sections: ['binary_classification_metrics'])",
    ),
    (
        "value a string",
        "runs/a/evaluation.json",
        json.dumps({"m": {"auc": {"value": "0.9"}}}).encode(),
        "metric 'auc' has no finite numeric 'value' (got {'value': '0.9'})",
    ),
    (
        "value a boolean",
        "runs/a/evaluation.json",
        json.dumps({"m": {"auc": {"value": True}}}).encode(),
        "metric 'auc' has no finite numeric 'value' (got {'value': True})",
    ),
    (
        "value NaN",
        "runs/a/evaluation.json",
        b'{"m": {"auc": {"value": NaN}}}',
        "metric 'auc' has no finite numeric 'value'",
    ),
    (
        "bare number",
        "runs/a/evaluation.json",
        json.dumps({"m": {"auc": 0.9}}).encode(),
        "metric 'auc' has no finite numeric 'value' (got 0.9)",
    ),
    (
        "in two sections",
        "runs/a/evaluation.json",
        json.dumps({"a": {"auc": {"value": 1}}, "b": {"auc": {"value": 0}}}).encode(),
        "metric 'auc' is in more than one section of the report",
    ),
    (
        "archive without report",
        "runs/a/output.tar.gz",
        tar_gz({"metrics.json": b"{}"}),
        "runs/a/output.tar.gz holds no evaluation.json",
    ),
    (
        "corrupt archive",
        "runs/a/output.tar.gz",
        b"\x1f\x8b not really",
        "runs/a/output.tar.gz is not a readable tar.gz archive",
    ),
]


@pytest.mark.parametrize(("key", "body", "message"), [c[1:] for c in BAD_REPORTS], ids=[c[0] for c in BAD_REPORTS])
def test_bad_reports_raise_the_named_error(s3: Any, key: str, body: bytes, message: str) -> None:
    uri = put(s3, key, body)
    with pytest.raises(evaluate.InvalidEvaluationReport) as caught:
        evaluate.handler({"reportUri": uri, "metric": "auc"})
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"reportUri": f"{PREFIX}runs/missing.json", "metric": "auc"},
            f"no report at {PREFIX}runs/missing.json",
        ),
        (
            {"reportUri": "s3://other-bucket/pipelines/tumor-prod/x.json", "metric": "auc"},
            "is outside this pipeline's prefix",
        ),
        ({"reportUri": "https://example.com/x.json", "metric": "auc"}, "is not an s3://bucket/key URI"),
        ({"metric": "auc"}, "the input needs 'reportUri' (s3://...) and 'metric'"),
        ({"reportUri": f"{PREFIX}x.json"}, "the input needs 'reportUri' (s3://...) and 'metric'"),
    ],
)
def test_bad_input_raises_the_named_error(event: dict[str, Any], message: str) -> None:
    with pytest.raises(evaluate.InvalidEvaluationReport) as caught:
        evaluate.handler(event)
    assert message in str(caught.value)


def test_a_missing_report_read_without_list_permission_is_the_named_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's role has no s3:ListBucket, so S3 answers a missing key with AccessDenied, not NoSuchKey."""
    from botocore.exceptions import ClientError

    class Denying:
        class exceptions:
            NoSuchKey = type("NoSuchKey", (Exception,), {})

        def get_object(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    monkeypatch.setattr(evaluate, "_client", Denying)
    uri = f"{PREFIX}runs/abc/evaluation/evaluation.json"
    with pytest.raises(evaluate.InvalidEvaluationReport, match=r"no report at .*evaluation.json \(or not readable\)"):
        evaluate.handler({"reportUri": uri, "metric": "auc"})
