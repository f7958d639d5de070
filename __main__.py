"""ML training pipelines on AWS Step Functions: one deployment per stack (stacks/Pulumi.<stack>.yaml)."""

import pulumi

from components import arns
from components.artifacts_bucket import ArtifactsBucket, ArtifactsBucketArgs
from components.aws_account import current_context, stack_provider
from components.ml_pipeline import MlPipeline, MlPipelineArgs
from components.settings import load_settings

project, stack = pulumi.get_project(), pulumi.get_stack()
settings = load_settings(project, stack)
provider = stack_provider(pulumi.Config("aws").require("region"), settings.tags)
context = current_context(provider)
with_provider = pulumi.ResourceOptions(providers=[provider])

bucket_name = arns.artifacts_bucket_name(project, stack, context)
bucket = ArtifactsBucket("artifacts", ArtifactsBucketArgs(bucket_name=bucket_name, context=context), with_provider)
pulumi.export("artifacts_bucket", bucket.bucket_name)

for pipeline_settings in settings.pipelines:
    pipeline = MlPipeline(
        pipeline_settings.name,
        MlPipelineArgs(
            settings=pipeline_settings,
            names=arns.PipelineNames.of(pipeline_settings.name, stack),
            context=context,
            bucket_name=bucket_name,
            tags=settings.tags,
            log_level=settings.log_level,
            log_retention_days=settings.log_retention_days,
            tracing=settings.tracing,
            alarm_emails=settings.alarm_emails,
        ),
        with_provider,
    )
    pulumi.export(
        pipeline_settings.name,
        {
            "state_machine_arn": pipeline.state_machine_arn,
            "state_machine_role_arn": pipeline.state_machine_role_arn,
            "sagemaker_role_arn": pipeline.sagemaker_role_arn,
            "evaluate_function_role_arn": pipeline.evaluate_function_role_arn,
            "bucket_name": bucket.bucket_name,
            "failure_topic_arn": pipeline.failure_topic_arn,
            "console_url": pipeline.console_url,
        },
    )
