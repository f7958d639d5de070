"""What the tools' commands share: usage errors as one line and exit code 2, not argparse's own exit."""

from __future__ import annotations

import argparse


class UsageError(Exception):
    """Bad flags; the command prints `error: <message>` and exits 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)
