"""Explain actions from the pack's IAM data: what each accepts, and the ARN formats to scope it with.

.venv/bin/python -m policies.access sagemaker:CreateTrainingJob 's3:Get*'
"""

from __future__ import annotations

import sys

from . import catalog
from .least_privilege import expand, scoped


def explain(pattern: str) -> list[str]:
    names = expand(pattern)
    if not names:
        return [
            f"{pattern}: not in IAM's current action list (IAM data of {catalog.data_date()}): "
            "a retired service or a typo"
        ]
    lines = []
    for name in names:
        action = catalog.action(name)
        assert action is not None
        service = catalog.service(name.split(":", 1)[0])
        assert service is not None
        if not action.resource_types:
            lines.append(f'{name}: accepts only Resource "*"')
            continue
        verdict = "scope it to ARNs" if scoped(name) else '"*" is accepted (its only resource type is optional)'
        lines.append(f"{name}: {verdict}")
        for type_ in action.resource_types:
            required = " (required)" if type_ in action.required else ""
            lines.append(f"  {type_}{required}: {service.arn_formats.get(type_, '?')}")
    return lines


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    for pattern in argv:
        print("\n".join(explain(pattern)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
