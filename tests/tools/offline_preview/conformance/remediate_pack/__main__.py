"""`owner-tag` adds tags.owner to every bucket (and says so if it has none); `owner-tag-set` checks it."""

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy
from pulumi_policy.proxy import UnknownValueError, _is_unknown


def add_owner(args):
    if args.resource_type != "aws:s3/bucket:Bucket":
        return None
    props = dict(args.props)
    props["tags"] = {**dict(props.get("tags") or {}), "owner": "ml-platform"}
    return props


def owner_missing(args, report):
    if args.resource_type == "aws:s3/bucket:Bucket" and "owner" not in dict(args.props.get("tags") or {}):
        report("tags.owner is not set")


def policy_from_bucket(args):
    if args.resource_type == "aws:s3/bucketPolicy:BucketPolicy":
        policy = args.props["policy"]
        # pulumi-policy 1.21's Remediate wraps props for secrets first, so its unknown-checking proxy does not
        # raise on access as Analyze's does; raise the SDK's own error, which its Remediate turns into the
        # "can't run remediation ... during preview" diagnostic.
        if _is_unknown(policy):
            raise UnknownValueError(policy, ["policy"])
        return {**dict(args.props), "policy": policy.replace('"Deny"', '"Deny" ')}
    return None


PolicyPack(
    name="conformance-remediate",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="owner-tag",
            description="Adds tags.owner to buckets.",
            remediate=add_owner,
            validate=owner_missing,
            enforcement_level=EnforcementLevel.REMEDIATE,
        ),
        ResourceValidationPolicy(
            name="owner-tag-set", description="Requires tags.owner on buckets.", validate=owner_missing
        ),
        ResourceValidationPolicy(
            name="bucket-policy-rewrite",
            description="Rewrites bucket policies.",
            remediate=policy_from_bucket,
            enforcement_level=EnforcementLevel.REMEDIATE,
        ),
    ],
)
