"""Evaluation step: read the metric the quality gate compares from the evaluation report.

Input (from the state machine): {"reportUri": "s3://bucket/key", "metric": "auc"}. The report is the
`evaluation.json` the workload's evaluate.py wrote (an object of its own), or that file inside a SageMaker
`output.tar.gz` (what a container of your own may leave in /opt/ml/output/data). Its shape is SageMaker's model
quality report:

    {"binary_classification_metrics": {"auc": {"value": 0.91, "standard_deviation": 0.01}}}

Output: {"metric": "auc", "value": 0.91, "reportUri": <the report read>}: the registered model version's
ModelMetrics point at the same file. A missing, unreadable or malformed report raises InvalidEvaluationReport
(the error name the state machine sees), never a silent default.
"""

from __future__ import annotations

import io
import json
import math
import os
import tarfile
from typing import Any
from urllib.parse import urlparse

REPORT_NAME = "evaluation.json"
MAX_REPORT_BYTES = 10 * 1024 * 1024


class InvalidEvaluationReport(Exception):
    """The report is missing, unreadable, or does not hold the metric as a number."""


def _client() -> Any:
    import boto3  # in the Lambda runtime; imported late so that tests can start moto first

    return boto3.client("s3")


def parse_s3_uri(uri: str, allowed_prefix: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise InvalidEvaluationReport(f"reportUri {uri!r} is not an s3://bucket/key URI")
    if allowed_prefix and not uri.startswith(allowed_prefix):
        raise InvalidEvaluationReport(f"reportUri {uri!r} is outside this pipeline's prefix {allowed_prefix!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def read_report(body: bytes, key: str) -> Any:
    """The report's JSON, from a plain object or from a tar.gz that holds `evaluation.json`."""
    if key.endswith((".tar.gz", ".tgz")):
        try:
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
                member = next(
                    (m for m in archive.getmembers() if m.isfile() and os.path.basename(m.name) == REPORT_NAME),
                    None,
                )
                if member is None:
                    raise InvalidEvaluationReport(f"{key} holds no {REPORT_NAME}")
                if member.size > MAX_REPORT_BYTES:
                    raise InvalidEvaluationReport(f"{key}: {REPORT_NAME} is larger than {MAX_REPORT_BYTES} bytes")
                extracted = archive.extractfile(member)
                body = extracted.read() if extracted else b""
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InvalidEvaluationReport(f"{key} is not a readable tar.gz archive ({exc})") from None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvaluationReport(f"{key}: {REPORT_NAME} is not JSON ({exc})") from None


def find_metric(report: Any, metric: str) -> float:
    """The metric's value from `{<section>_metrics: {<metric>: {"value": number}}}`, in exactly one section."""
    if not isinstance(report, dict):
        raise InvalidEvaluationReport(f"the report is a {type(report).__name__}, not a JSON object")
    found = [section[metric] for section in report.values() if isinstance(section, dict) and metric in section]
    if not found:
        raise InvalidEvaluationReport(f"metric {metric!r} is not in the report (sections: {sorted(report)})")
    if len(found) > 1:
        raise InvalidEvaluationReport(f"metric {metric!r} is in more than one section of the report")
    entry = found[0]
    value = entry.get("value") if isinstance(entry, dict) else None
    # bool is an int in Python, but `true` is no metric value.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidEvaluationReport(f"metric {metric!r} has no finite numeric 'value' (got {entry!r})")
    return float(value)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if not isinstance(event, dict) or not isinstance(event.get("reportUri"), str) or not event.get("metric"):
        raise InvalidEvaluationReport("the input needs 'reportUri' (s3://...) and 'metric'")
    metric = str(event["metric"])
    bucket, key = parse_s3_uri(event["reportUri"], os.environ.get("ALLOWED_REPORT_PREFIX", ""))
    client = _client()
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except client.exceptions.NoSuchKey:
        raise InvalidEvaluationReport(f"no report at {event['reportUri']}") from None
    except Exception as exc:
        # Without s3:ListBucket (the role has none), S3 answers a missing key with AccessDenied, not NoSuchKey.
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "AccessDenied":
            raise
        raise InvalidEvaluationReport(f"no report at {event['reportUri']} (or not readable)") from None
    if int(response.get("ContentLength", 0)) > MAX_REPORT_BYTES * 10:
        raise InvalidEvaluationReport(f"{key} is larger than {MAX_REPORT_BYTES * 10} bytes")
    report = read_report(response["Body"].read(), key)
    value = find_metric(report, metric)
    return {"metric": metric, "value": value, "reportUri": event["reportUri"]}
