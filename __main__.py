"""ML training pipelines on AWS Step Functions: one deployment per stack (stacks/Pulumi.<stack>.yaml)."""

import pulumi

from components import arns
from components.artifacts_bucket import ArtifactsBucket, ArtifactsBucketArgs
from components.aws_account import current_context, stack_provider
from components.ml_pipeline import MlPipeline, pipelines_of
from components.settings import load_settings

project, stack = pulumi.get_project(), pulumi.get_stack()
settings = load_settings(project, stack)
provider = stack_provider(pulumi.Config("aws").require("region"), settings.tags)
context = current_context(provider)
with_provider = pulumi.ResourceOptions(providers=[provider])

try:
    bucket_name = arns.artifacts_bucket_name(project, stack, context)
except ValueError as exc:  # a stack name too long for S3's bucket names
    raise pulumi.RunError(f"stacks/Pulumi.{stack}.yaml: {exc}") from None
bucket = ArtifactsBucket("artifacts", ArtifactsBucketArgs(bucket_name=bucket_name, context=context), with_provider)
pulumi.export("artifacts_bucket", bucket.bucket_name)

for pipeline_args in pipelines_of(project, stack, settings, context):
    pipeline = MlPipeline(pipeline_args.settings.name, pipeline_args, with_provider, bucket=bucket)
    pulumi.export(
        pipeline_args.settings.name,
        {
            "state_machine_arn": pipeline.state_machine_arn,
            "state_machine_role_arn": pipeline.state_machine_role_arn,
            "sagemaker_role_arn": pipeline.sagemaker_role_arn,
            "evaluate_function_role_arn": pipeline.evaluate_function_role_arn,
            "bucket_name": bucket.bucket_name,
            "failure_topic_arn": pipeline.failure_topic_arn,
            "model_package_group_name": pipeline.model_package_group_name,
            "console_url": pipeline.console_url,
        },
    )
