"""`ml-pipelines run-local`: a stack's pipelines run on this machine, under SageMaker's container contract.

The local run walks the training state machine's definition as Step Functions would (Initialize, Preprocess,
Train, Evaluate, ReadMetric, QualityGate) and runs each task's container locally, in a temporary folder shaped as
`/opt/ml` with the paths and environment variables SageMaker gives each container; S3 is a folder
(`containers.LocalS3`). The quality gate is the definition's own Choice state; an approved model is then served
through the workload's inference handler as the framework serving container calls it.
"""
