"""An HTTP API in front of a queue, as aws-py-apigatewayv2-http-api-quickcreate and the SQS examples write it: an
integration role with an inline policy on the queue, the endpoint used in strings."""

import json

import pulumi
import pulumi_aws as aws

queue = aws.sqs.Queue("jobs")
role = aws.iam.Role(
    "api-role",
    assume_role_policy=aws.iam.get_policy_document(
        statements=[
            {
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["apigateway.amazonaws.com"]}],
            }
        ]
    ).json,
)
aws.iam.RolePolicy(
    "send",
    role=role.id,
    policy=queue.arn.apply(
        lambda arn: json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}]}
        )
    ),
)
api = aws.apigatewayv2.Api(
    "http",
    protocol_type="HTTP",
    cors_configuration=aws.apigatewayv2.ApiCorsConfigurationArgs(allow_origins=["https://example.com"]),
)
integration = aws.apigatewayv2.Integration(
    "send",
    api_id=api.id,
    integration_type="AWS_PROXY",
    integration_subtype="SQS-SendMessage",
    credentials_arn=role.arn,
    request_parameters={"QueueUrl": queue.url, "MessageBody": "$request.body"},
)
route = aws.apigatewayv2.Route(
    "post", api_id=api.id, route_key="POST /jobs", target=integration.id.apply(lambda i: f"integrations/{i}")
)
aws.apigatewayv2.Stage("default", api_id=api.id, name="$default", auto_deploy=True)
pulumi.export("endpoint", api.api_endpoint.apply(lambda e: e.rstrip("/") + "/jobs"))
pulumi.export("execution_arn", api.execution_arn)
