"""Standard input to standard output with AWS account IDs and e-mail addresses replaced (`github.redact`): what a
job keeps (an artifact, its log, its summary) in a public repository.

    pulumi preview ... 2>&1 | python3 -m tools.ci.redact > output.txt

Standard library only: the workflows run it with the runner's Python.
"""

from __future__ import annotations

import sys

from tools.ci.github import redact


def main() -> int:
    for line in sys.stdin:
        sys.stdout.write(redact(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
