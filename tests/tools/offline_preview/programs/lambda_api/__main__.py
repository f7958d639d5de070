"""A Lambda function behind API Gateway, as aws-py-apigateway-lambda-serverless writes it: resource objects as
inputs, an AWS-managed execution policy, a permission scoped to the API's execution ARN, outputs in strings."""

import json

import pulumi
import pulumi_aws as aws

role = aws.iam.Role(
    "lambda-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment(
    "lambda-logs",
    role=role,
    policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
)
fn = aws.lambda_.Function(
    "hello",
    role=role.arn,
    runtime=aws.lambda_.Runtime.PYTHON3D12,  # an enum of the provider's
    environment={"variables": {"TOKEN": pulumi.Output.secret("not-a-real-token")}},
    handler="handler.handler",
    code=pulumi.AssetArchive({"handler.py": pulumi.StringAsset("def handler(event, context):\n    return {}\n")}),
)
api = aws.apigateway.RestApi("api")
resource = aws.apigateway.Resource("hello", rest_api=api, parent_id=api.root_resource_id, path_part="hello")
method = aws.apigateway.Method("get", rest_api=api, resource_id=resource.id, http_method="GET", authorization="NONE")
integration = aws.apigateway.Integration(
    "lambda",
    rest_api=api,
    resource_id=resource.id,
    http_method=method.http_method,
    integration_http_method="POST",
    type="AWS_PROXY",
    uri=fn.invoke_arn,
)
deployment = aws.apigateway.Deployment(
    "deployment", rest_api=api, opts=pulumi.ResourceOptions(depends_on=[integration])
)
stage = aws.apigateway.Stage("prod", rest_api=api, deployment=deployment, stage_name="prod")
aws.lambda_.Permission(
    "api-invoke",
    action="lambda:InvokeFunction",
    function=fn,
    principal="apigateway.amazonaws.com",
    source_arn=stage.execution_arn.apply(lambda arn: f"{arn}/*/*"),
)
pulumi.export("url", stage.invoke_url.apply(lambda url: url + "/hello"))
pulumi.export("execution_arn_prefix", stage.execution_arn.apply(lambda arn: arn.split(":")[5]))
