"""An instance in a network another stack owns, as aws-py-ec2-provisioners and aws-py-stackreference write it:
data sources for the image, the zone and the caller, a stack reference for the network, an instance profile."""

import json

import pulumi
import pulumi_aws as aws

network = pulumi.StackReference(f"acme/network/{pulumi.get_stack()}")
subnet_id = network.require_output("private_subnet_id")

ami = aws.ec2.get_ami(
    most_recent=True,
    owners=["amazon"],
    filters=[{"name": "name", "values": ["al2023-ami-2023.*-x86_64"]}],
)
zone = aws.route53.get_zone(name="example.com")
me = aws.get_caller_identity()
region = aws.get_region()

role = aws.iam.Role(
    "web",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicy(
    "read-config",
    role=role.id,
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:{region.region}:{me.account_id}:parameter/web/*",
                },
                {"Effect": "Allow", "Action": ["ec2:DescribeTags", "ec2:DescribeInstances"], "Resource": "*"},
            ],
        }
    ),
)
profile = aws.iam.InstanceProfile("web", role=role)
server = aws.ec2.Instance(
    "web",
    ami=ami.id,
    instance_type="t3.micro",
    subnet_id=subnet_id,
    iam_instance_profile=profile,
    tags={"Name": "web"},
)
aws.route53.Record("web", zone_id=zone.zone_id, name=f"web.{zone.name}", type="A", ttl=300, records=[server.private_ip])
pulumi.export("address", server.private_ip.apply(lambda ip: f"http://{ip}"))
