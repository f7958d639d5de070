"""Pulumi's mock runtime, run on the real program with the real stack files: `program.run_program` plans a
stack in-process with AWS-like mocks (`mocks.AwsMocks`). Used by the offline preview, the workflow simulator
and the tests."""
