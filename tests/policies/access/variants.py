"""Ways of writing a grant, each with whether it is full SageMaker access: the table the pack, bench/README.md's
evasion table and the peers bench (`bench/peers.py`) are measured on."""

from __future__ import annotations

from typing import Any


def grant(**statement: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


ACTION_LETTERS = [f"sagemaker:{c}*" for c in "ABCDEGILPQRSTU"]
RESOURCE_LETTERS = [f"arn:aws:sagemaker:*:*:{c}*" for c in "acdefhijlmnoprstuw"]
_MANY_KINDS = ("Domain", "UserProfile", "App", "Space", "Model", "Endpoint", "Training", "Pipeline", "Notebook")
"""Enough kinds of resource that leaving out their actions leaves out more than a tenth of the types."""

# (variant, document, full SageMaker access?)
VARIANTS: list[tuple[str, Any, bool]] = [
    ("the grant this project started from", grant(Action=["lambda:InvokeFunction", "sagemaker:*"], Resource="*"), True),
    ("statement as an object", {"Statement": {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}}, True),
    ("mixed case", grant(Action="SageMaker:*", Resource="*"), True),
    ("glob in the service prefix", grant(Action="s*maker:*", Resource="*"), True),
    ("? in the service prefix", grant(Action="sage?aker:*", Resource="*"), True),
    ("sagemaker:?*", grant(Action="sagemaker:?*", Resource="*"), True),
    ("every action", grant(Action="*", Resource="*"), True),
    ("*:*", grant(Action="*:*", Resource="*"), True),
    (
        "JSON escape in the action",
        '{"Statement": {"Effect": "Allow", "Action": "sagemaker\\u003a*", "Resource": "*"}}',
        True,
    ),
    ("letter-prefix action globs", grant(Action=ACTION_LETTERS, Resource="*"), True),
    ("resource arn:*", grant(Action="sagemaker:*", Resource="arn:*"), True),
    ("resource arn:aws:sagemaker:*", grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:*"), True),
    ("resource arn:*:sagemaker:*:*:*", grant(Action="sagemaker:*", Resource="arn:*:sagemaker:*:*:*"), True),
    ("resource arn:aws:sagemaker:*:*:*/*", grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:*:*:*/*"), True),
    (
        "letter-prefix actions and resources, star-only actions on *",
        {
            "Statement": [
                {"Effect": "Allow", "Action": ACTION_LETTERS, "Resource": RESOURCE_LETTERS},
                {
                    "Effect": "Allow",
                    "Action": ["sagemaker:List*", "sagemaker:Search*", "sagemaker:Get*"],
                    "Resource": "*",
                },
            ]
        },
        True,
    ),
    (
        "one region and account",
        grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:eu-west-1:123456789012:*"),
        True,
    ),
    ("one region, any account", grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:eu-west-1:*:*"), True),
    ("another partition", grant(Action="sagemaker:*", Resource="arn:aws-cn:sagemaker:*"), True),
    ("NotAction on another service", grant(NotAction="iam:*", Resource="*"), True),
    ("NotResource on another service", grant(Action="sagemaker:*", NotResource="arn:aws:s3:::bucket/*"), True),
    (
        "with a Condition",
        grant(Action="sagemaker:*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "true"}}),
        True,
    ),
    (
        "with a decoy Deny",
        {
            "Statement": [
                {"Effect": "Deny", "Action": "sagemaker:DeleteModel", "Resource": "arn:aws:sagemaker:*:*:model/x"},
                {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
            ]
        },
        True,
    ),
    (
        "with a conditional Deny of everything",
        {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": "ap-south-2"}},
                },
                {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
            ]
        },
        True,
    ),
    (
        "split over two statements (as AmazonSageMakerFullAccess)",
        {
            "Statement": [
                {"Effect": "Allow", "Action": "sagemaker:*", "NotResource": ["arn:aws:sagemaker:*:*:domain/*"]},
                {
                    "Effect": "Allow",
                    "Action": "sagemaker:*",
                    "Resource": "arn:aws:sagemaker:*:*:domain/*",
                    "Condition": {"Null": {"sagemaker:ResourceTag/owner": "false"}},
                },
            ]
        },
        True,
    ),
    ("lower-case element names", {"statement": [{"effect": "Allow", "action": "sagemaker:*", "resource": "*"}]}, True),
    (
        "scoped to the pipeline",
        grant(Action="sagemaker:*", Resource="arn:aws:sagemaker:eu-west-1:1:training-job/tumor-*"),
        False,
    ),
    ("some actions only", grant(Action="sagemaker:Create*", Resource="*"), False),
    # Every action but one is every action on all but the types only it needs (one: `domain`): a NotAction or a
    # Deny of one harmless action does not escape the rule.
    ("NotAction excluding a SageMaker action", grant(NotAction="sagemaker:DeleteDomain", Resource="*"), True),
    (
        "NotAction excluding the actions of a tenth of the types and more",
        grant(NotAction=[f"sagemaker:*{kind}*" for kind in _MANY_KINDS], Resource="*"),
        False,
    ),
    (
        "NotResource excluding SageMaker resources",
        grant(Action="sagemaker:*", NotResource="arn:aws:sagemaker:*"),
        False,
    ),
    (
        "an unconditional Deny of one action",
        {
            "Statement": [
                {"Effect": "Deny", "Action": "sagemaker:DeleteDomain", "Resource": "*"},
                {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
            ]
        },
        True,
    ),
    ("Deny only", {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}, False),
    ("another service", grant(Action="s3:*", Resource="*"), False),
    (
        "a scoped SageMaker execution role",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob"],
                    "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/tumor-prod-*",
                },
                {"Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "*"},
            ]
        },
        False,
    ),
]
