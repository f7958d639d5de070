REDRIVE_MARK = "@redrive"
"""A mock config test case `<case>@redrive<N>` answers the Nth redrive of `<case>`'s execution: not a case itself."""
