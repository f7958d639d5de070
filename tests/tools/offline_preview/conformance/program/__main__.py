"""Exercises what the engine hands to policy packs: the root stack, a component and its child, default and
explicit providers, deleteBeforeReplace set and unset, a value unknown at preview, a dynamic resource."""

import pulumi
import pulumi_aws as aws
from pulumi import dynamic


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("conformance:index:Box", name, None, opts)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"bucket": self.bucket.bucket})


class Noop(dynamic.ResourceProvider):
    def create(self, props: dict) -> dynamic.CreateResult:
        return dynamic.CreateResult("noop", props)


class NoopResource(dynamic.Resource):
    def __init__(self, name: str, props: dict) -> None:
        super().__init__(Noop(), name, props)


config = pulumi.Config()
box = Box("box")
plain = aws.s3.Bucket("plain", tags={"greeting": config.require("greeting")})
replaced = aws.s3.Bucket("replaced", opts=pulumi.ResourceOptions(delete_before_replace=True))
kept = aws.s3.Bucket("kept", opts=pulumi.ResourceOptions(delete_before_replace=False))
explicit = aws.Provider("explicit", region="us-west-2")
elsewhere = aws.s3.Bucket("elsewhere", opts=pulumi.ResourceOptions(provider=explicit))
# Its policy is built from an output of a resource being created: unknown at preview.
aws.s3.BucketPolicy(
    "plain-policy",
    bucket=plain.id,
    policy=plain.arn.apply(
        lambda arn: pulumi.Output.json_dumps(
            {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{arn}/*"}]}
        )
    ),
)
NoopResource("noop", {"size": 1})
pulumi.export("bucket", plain.bucket)
