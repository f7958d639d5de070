"""The pack's IAM reasoning, shared by its policies: documents read as IAM reads them (`document`), what IAM
publishes (`catalog`), what statements allow over every published action (`algebra`), where a stack puts
grants (`sources`) and what each principal is granted (`principals`), least privilege per statement
(`least_privilege`). `python -m policies.access <action>` explains an action from the same data."""
