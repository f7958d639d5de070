"""requirements-ci.txt, what CI installs (`make install-locked`): every file hashed, no registry address, and
in step with pyproject.toml, so a pin changed without `make lock` fails here rather than in CI."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

LOCK = ROOT / "requirements-ci.txt"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)")


def _entries() -> dict[str, tuple[Version, list[str]]]:
    """name -> (version, its hashes), from the requirement lines and their continuation lines."""
    entries: dict[str, tuple[Version, list[str]]] = {}
    current = ""
    for line in LOCK.read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match[1])
            entries[current] = (Version(match[2]), [])
        elif line.strip().startswith("--hash=sha256:"):
            entries[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        else:
            assert line.startswith(("#", "    #")) or not line.strip(), f"unexpected line in {LOCK.name}: {line!r}"
    return entries


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = project["project"]["optional-dependencies"]
    listed = [*project["project"]["dependencies"], *extras["tools"], *extras["workloads"]]
    listed += [d for d in project["dependency-groups"]["dev"] if isinstance(d, str)]
    return [Requirement(d) for d in listed]


def test_every_locked_file_is_hashed_and_no_registry_is_named() -> None:
    entries = _entries()
    assert len(entries) > 50
    for name, (_, hashes) in entries.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
    # No address and no pip option at all (an index or a link would be one): pins, hashes and comments only. The
    # image data pin too: `make install-locked` installs it into the .venv the program and the pack run from.
    for path in (LOCK, LOCK.parent / "requirements-image-data.txt"):
        text = path.read_text()
        assert "://" not in text, path.name
        options = [line for line in text.splitlines() if line.lstrip().startswith("-")]
        assert all(line.strip().startswith("--hash=sha256:") for line in options), (path.name, options)


def test_the_lock_satisfies_every_declared_range() -> None:
    entries = _entries()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{requirement} is declared in pyproject.toml but not locked: run `make lock`"
        version = entries[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} in {LOCK.name} is outside pyproject.toml's {requirement.specifier}: run `make lock`"
        )
