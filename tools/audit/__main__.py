"""Audit what is deployed: the pack's rules over an account's IAM, every user, group and role.

    ml-pipelines audit-account --authorization-details FILE [--config FILE]... [--json] [--sarif FILE]
    ml-pipelines audit-account --live [--authorization-details FILE] [--config FILE]... [--json] [--sarif FILE]

FILE is what `aws iam get-account-authorization-details` prints (one response, or a list of pages). `--live`
calls that API with the caller's credentials (read-only, `iam:GetAccountAuthorizationDetails`); with
`--authorization-details` it also writes what it read there, so that the run can be repeated offline.
`--config` is the pack config (`policies/config/prod.json`): each rule's level and settings, as `pulumi preview
--policy-pack-config` applies them; without one, prod's levels. Exit 1 when a mandatory finding exists, 0
otherwise, 2 when the input or the config cannot be read (one line each).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tools.audit import account, details, live, sarif
from tools.cli import Parser, UsageError
from tools.offline_preview import policy_config


def _parser() -> Parser:
    parser = Parser(prog="ml-pipelines audit-account", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--authorization-details",
        type=Path,
        metavar="FILE",
        help="the output of `aws iam get-account-authorization-details` (with --live: written)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="read the account with the caller's credentials (iam:GetAccountAuthorizationDetails)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a policy pack config (levels and settings); repeat to layer",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--sarif", type=Path, metavar="FILE", help="also write the findings as a SARIF 2.1.0 log")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if not args.live and args.authorization_details is None:
            raise UsageError("--authorization-details FILE or --live is required")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        config = account.settings([policy_config.load(path) for path in args.config])
    except policy_config.ConfigError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2
    try:
        if args.live:
            pages = live.fetch()
            if args.authorization_details is not None:
                live.save(pages, args.authorization_details)
            found = details.read(pages, args.authorization_details or live.SOURCE)
        else:
            found = details.load(args.authorization_details)
        result = account.audit(found, config)
    except details.DetailsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        # A shape the reader does not check yet: still one line and exit 2 (unreadable), never 0 or 1.
        source = args.authorization_details or live.SOURCE
        print(f"error: {source}: cannot be audited ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
        return 2
    if args.sarif is not None:
        sarif.write(result, args.sarif, found.path)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        _print(result)
    return 1 if result.mandatory else 0


def _print(result: account.Audit) -> None:
    for finding in result.findings:
        print(f"[{finding.enforcement_level}] {finding.policy_name}: {finding.principal}")
        print(f"    {finding.message}")
    mandatory = sum(f.enforcement_level == "mandatory" for f in result.findings)
    print(
        f"account {result.account or '(several or none named)'}: {result.principals} principals, "
        f"{len(result.findings)} findings ({mandatory} mandatory)"
    )


if __name__ == "__main__":
    sys.exit(main())
