"""`--live`: the account's authorization details from IAM itself, with the caller's credentials.

Read-only, one action: `iam:GetAccountAuthorizationDetails` (Service Authorization Reference for IAM: no
resource type, `*` only; the read-only role bootstrap creates for the audit grants it and nothing else).
Paginated by boto3's paginator (`IsTruncated`/`Marker`, botocore's `iam/2010-05-08/paginators-1.json`); botocore
decodes the URL-encoded policy documents (`handlers.json_decode_policies`, on `after-call.iam`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.audit.details import DetailsError

ACTION = "iam:GetAccountAuthorizationDetails"
SOURCE = Path(f"<{ACTION}>")
"""How errors and the SARIF log name what `--live` read."""


def fetch(client: Any = None) -> list[dict[str, Any]]:
    """Every page of the account's authorization details, as the API returns them (documents decoded)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        iam = client if client is not None else boto3.client("iam")
        pages = []
        for page in iam.get_paginator("get_account_authorization_details").paginate():
            page.pop("ResponseMetadata", None)
            pages.append(page)
    except ClientError as error:
        detail = error.response.get("Error", {})
        raise DetailsError(
            f"{SOURCE}: {detail.get('Code', 'error')}: {detail.get('Message', '')}".rstrip(": ")
        ) from None
    except BotoCoreError as error:
        raise DetailsError(f"{SOURCE}: {error}") from None
    return pages


def save(pages: list[dict[str, Any]], path: Path) -> None:
    """The pages as the AWS CLI would print them (a list of responses, dates as text), for a run to be repeated
    offline with `--authorization-details`."""
    path.write_text(json.dumps(pages, indent=1, default=str) + "\n", encoding="utf-8")
