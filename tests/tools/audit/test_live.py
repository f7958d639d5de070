"""`--live`: the API's own pages, recorded as IAM sends them (query protocol XML, URL-encoded documents), served
to boto3 in place of the network; the paginator, botocore's parser and its document decoding are the real ones."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from tools.audit import __main__ as cli
from tools.audit import live

RECORDED = Path(__file__).parent / "recorded"
PROD = str(Path(__file__).resolve().parents[3] / "policies" / "config" / "prod.json")


class Recorded:
    """Serves page-1.xml, then page-2.xml for the request that carries page 1's Marker; records each request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        form = parse_qs(request.body.decode() if isinstance(request.body, bytes) else request.body)
        self.requests.append(form)
        page = "page-2.xml" if form.get("Marker") == ["page-2"] else "page-1.xml"
        body = (RECORDED / page).read_bytes()

        class Raw:
            def stream(self, **_: Any) -> Any:
                yield body

        return AWSResponse(request.url, 200, {"Content-Type": "text/xml"}, Raw())


def client(recorded: Recorded) -> Any:
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    iam.meta.events.register("before-send.iam.GetAccountAuthorizationDetails", recorded)
    return iam


def test_every_page_is_read_with_its_marker_and_documents_decoded() -> None:
    recorded = Recorded()
    pages = live.fetch(client(recorded))
    assert [r["Action"] for r in recorded.requests] == [["GetAccountAuthorizationDetails"]] * 2
    assert "Marker" not in recorded.requests[0] and recorded.requests[1]["Marker"] == ["page-2"]
    assert [len(p["UserDetailList"]) + len(p["RoleDetailList"]) for p in pages] == [1, 1]
    group_policy = pages[0]["GroupDetailList"][0]["GroupPolicyList"][0]["PolicyDocument"]
    assert group_policy["Statement"][0]["Action"] == "sagemaker:*"  # decoded by botocore, not by this project


def test_live_audits_what_it_read_and_saves_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = Recorded()
    original = live.fetch
    monkeypatch.setattr(live, "fetch", lambda: original(client(recorded)))
    saved = tmp_path / "details.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["--live", "--authorization-details", str(saved), "--config", PROD, "--json"])
    printed = json.loads(out.getvalue())
    found = {(f["principal"], f["policyName"]) for f in printed["findings"]}
    # ana gets sagemaker:* through her group; the role's attached policy grants its default version (v2, narrow),
    # not v1's sagemaker:*, and its trust names prod's allowed account.
    assert ("arn:aws:iam::123456789012:user/ana", "sagemaker-no-full-access-in-prod") in found
    assert not any(p.endswith(("role/tumor-prod-sagemaker", "policy/tumor-training")) for p, _ in found)
    assert code == 1 and printed["principals"] == 3
    # The saved pages audit the same offline.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--authorization-details", str(saved), "--config", PROD, "--json"]) == 1
    assert json.loads(out.getvalue()) == printed


def test_an_api_error_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    denied = (
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        b"<Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to "
        b"perform: iam:GetAccountAuthorizationDetails</Message></Error><RequestId>3</RequestId></ErrorResponse>"
    )

    def refuse(request: Any, **_: Any) -> AWSResponse:
        class Raw:
            def stream(self, **_: Any) -> Any:
                yield denied

        return AWSResponse(request.url, 403, {"Content-Type": "text/xml"}, Raw())

    iam.meta.events.register("before-send.iam.GetAccountAuthorizationDetails", refuse)
    with pytest.raises(live.DetailsError) as raised:
        live.fetch(iam)
    assert str(raised.value).startswith("<iam:GetAccountAuthorizationDetails>: AccessDenied: User: ")
    assert "\n" not in str(raised.value)
