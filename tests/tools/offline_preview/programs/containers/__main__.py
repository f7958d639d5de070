"""An EKS cluster and an ECS task, as aws-py-eks and aws-py-fargate write their roles: each service's own role
with the AWS-managed policies AWS documents for it, a kubeconfig built from the cluster's outputs."""

import json

import pulumi
import pulumi_aws as aws


def trust(service: str, account: str | None = None) -> str:
    # The task role's trust names the account (AWS's own examples for ecs-tasks, against the confused deputy).
    condition = {"Condition": {"StringEquals": {"aws:SourceAccount": account}}} if account else {}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", **condition}
            ],
        }
    )


me = aws.get_caller_identity()


vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])

cluster_role = aws.iam.Role("eks-cluster", assume_role_policy=trust("eks.amazonaws.com"))
aws.iam.RolePolicyAttachment(
    "eks-cluster-policy", role=cluster_role.name, policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
)
cluster = aws.eks.Cluster("cluster", role_arn=cluster_role.arn, vpc_config={"subnet_ids": subnets.ids})

task_role = aws.iam.Role("task-exec", assume_role_policy=trust("ecs-tasks.amazonaws.com", me.account_id))
aws.iam.RolePolicyAttachment(
    "task-exec-policy",
    role=task_role.name,
    policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
)
ecs = aws.ecs.Cluster("ecs")
task = aws.ecs.TaskDefinition(
    "app",
    family="app",
    cpu="256",
    memory="512",
    network_mode="awsvpc",
    requires_compatibilities=["FARGATE"],
    execution_role_arn=task_role.arn,
    container_definitions=json.dumps([{"name": "app", "image": "nginx", "portMappings": [{"containerPort": 80}]}]),
)

kubeconfig = pulumi.Output.all(cluster.endpoint, cluster.certificate_authority.data, cluster.name).apply(
    lambda args: json.dumps(
        {
            "apiVersion": "v1",
            "clusters": [{"cluster": {"server": args[0], "certificate-authority-data": args[1]}, "name": args[2]}],
        }
    )
)
pulumi.export("kubeconfig", pulumi.Output.secret(kubeconfig))
pulumi.export("task_definition", task.arn)
