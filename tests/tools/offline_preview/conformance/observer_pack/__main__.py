"""Each policy reports, as an advisory violation whose message is JSON, what the engine handed it."""

import json

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)


def _keys(props):
    return sorted(props)


def observe(args, report):
    provider = args.provider
    report(
        json.dumps(
            {
                "type": args.resource_type,
                "name": args.name,
                "keys": _keys(args.props),
                "deleteBeforeReplace": args.opts.delete_before_replace,
                "provider": None if provider is None else {"name": provider.name, "keys": _keys(provider.props)},
                "stackTags": dict(args.stack_tags),
            },
            sort_keys=True,
        )
    )


def observe_stack(args, report):
    seen = {}
    for resource in args.resources:
        seen[resource.urn] = {
            "parent": resource.parent.urn if resource.parent is not None else None,
            "propertyDependencies": sorted(resource.property_dependencies),
            "propertyDependencyUrns": {
                k: sorted(r.urn for r in v) for k, v in sorted(resource.property_dependencies.items())
            },
            "dependencies": sorted(r.urn for r in resource.dependencies),
            "keys": _keys(resource.props),
        }
    report(json.dumps(seen, sort_keys=True))


def report_elsewhere(args, report):
    if args.resource_type == "aws:s3/bucket:Bucket":
        report("reported with another resource's URN", "urn:pulumi:dev::conformance::aws:s3/bucket:Bucket::kept")


def report_from_stack(args, report):
    kept = next(r.urn for r in args.resources if r.name == "kept")
    report("about kept", kept)
    report("about a resource that does not exist", "urn:pulumi:dev::conformance::aws:s3/bucket:Bucket::nowhere")


def explode(args, report):
    if args.resource_type == "aws:s3/bucket:Bucket" and args.name == "plain":
        if args.get_config().get("silently"):
            raise AssertionError()
        raise ValueError(f"cannot judge {args.name}")


PolicyPack(
    name="conformance-observer",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(name="observe", description="Reports what Analyze is handed.", validate=observe),
        StackValidationPolicy(
            name="observe-stack", description="Reports what AnalyzeStack is handed.", validate=observe_stack
        ),
        ResourceValidationPolicy(
            name="report-elsewhere", description="Reports with an explicit URN.", validate=report_elsewhere
        ),
        StackValidationPolicy(
            name="report-from-stack",
            description="Reports on a resource from a stack policy.",
            validate=report_from_stack,
        ),
        ResourceValidationPolicy(
            name="explode",
            description="Raises on the bucket named plain.",
            validate=explode,
            enforcement_level=EnforcementLevel.DISABLED,
            config_schema=PolicyConfigSchema(properties={"silently": {"type": "boolean"}}),
        ),
    ],
)
