"""The stack's AWS provider and where it deploys (partition, region, account), asked of the provider."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.arns import AwsContext


def stack_provider(region: str, tags: dict[str, str]) -> aws.Provider:
    """One explicit provider per stack: every resource gets the stack's tags as provider default tags."""
    return aws.Provider("aws", region=region, default_tags={"tags": tags})


def current_context(provider: aws.Provider) -> AwsContext:
    """Invokes are answered at preview time too, so ARNs built from this are known when policies run."""
    invoke = pulumi.InvokeOptions(provider=provider)
    return AwsContext(
        partition=aws.get_partition(opts=invoke).partition,
        region=aws.get_region(opts=invoke).region,
        account_id=aws.get_caller_identity(opts=invoke).account_id,
    )
