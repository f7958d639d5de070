"""tools/ci/install_pulumi_cli.sh, the CLI install of the workflows, run for real with a stand-in `curl` that
serves a release from local files: the pinned version is fetched, its published SHA-256 is checked, and a
download that does not match is refused with one line and installs nothing."""

from __future__ import annotations

import hashlib
import io
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import ROOT

SCRIPT = ROOT / "tools" / "ci" / "install_pulumi_cli.sh"
VERSION = "3.999.1"
ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "")
ARCHIVE = f"pulumi-v{VERSION}-linux-{ARCH}.tar.gz"
RELEASE = f"https://github.com/pulumi/pulumi/releases/download/v{VERSION}"

CURL = """#!/usr/bin/env bash
# stand-in curl: -o FILE URL; serves $RELEASE_DIR/<basename of URL>, logs the URL
out=""; url=""
while [ $# -gt 0 ]; do
  case "$1" in -o) out="$2"; shift 2 ;; -*) [ "$1" = --retry ] && shift; shift ;; *) url="$1"; shift ;; esac
done
echo "$url" >> "$CURL_LOG"
[ -f "$RELEASE_DIR/${url##*/}" ] || { echo "curl: (22) 404 $url" >&2; exit 22; }
cp "$RELEASE_DIR/${url##*/}" "$out"
"""


def _tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("pulumi", "pulumi-language-python"):
            data = f"#!/bin/sh\necho {name} v{VERSION}\n".encode()
            info = tarfile.TarInfo(f"pulumi/{name}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def release(tmp_path: Path) -> dict[str, Path]:
    if not ARCH:
        pytest.skip(f"no Pulumi CLI build for {platform.machine()}")
    project = tmp_path / "project"
    (project / "tools" / "ci").mkdir(parents=True)
    (project / ".github").mkdir()
    shutil.copy(SCRIPT, project / "tools" / "ci" / SCRIPT.name)
    (project / ".github" / "pulumi-cli-version").write_text(f"{VERSION}\n")
    assets = tmp_path / "release"
    assets.mkdir()
    archive = _tarball()
    (assets / ARCHIVE).write_bytes(archive)
    other = hashlib.sha256(b"another asset").hexdigest()
    (assets / f"pulumi-{VERSION}-checksums.txt").write_text(
        f"{other}  pulumi-v{VERSION}-darwin-x64.tar.gz\n{hashlib.sha256(archive).hexdigest()}  {ARCHIVE}\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(CURL)
    (bin_dir / "curl").chmod(0o755)
    return {"project": project, "assets": assets, "bin": bin_dir, "home": tmp_path / "home", "log": tmp_path / "log"}


def _run(release: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{release['bin']}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(release["home"]),
        "RELEASE_DIR": str(release["assets"]),
        "CURL_LOG": str(release["log"]),
    }
    script = release["project"] / "tools" / "ci" / SCRIPT.name
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, check=False)


def test_the_pinned_version_is_installed_after_its_checksum_matches(release: dict[str, Path]) -> None:
    result = _run(release)
    assert result.returncode == 0, result.stderr
    installed = release["home"] / ".pulumi" / "bin"
    assert sorted(p.name for p in installed.iterdir()) == ["pulumi", "pulumi-language-python"]
    assert subprocess.run([installed / "pulumi"], capture_output=True, text=True, check=True).stdout.strip() == (
        f"pulumi v{VERSION}"
    )
    assert release["log"].read_text().splitlines() == [
        f"{RELEASE}/{ARCHIVE}",
        f"{RELEASE}/pulumi-{VERSION}-checksums.txt",
    ]


def test_a_tampered_download_is_refused_and_nothing_installed(release: dict[str, Path]) -> None:
    (release["assets"] / ARCHIVE).write_bytes(_tarball() + b"\0")  # the same files, one byte more
    result = _run(release)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {ARCHIVE}: SHA-256 ") and line.endswith("; not installed")
    assert not (release["home"] / ".pulumi").exists()


def test_no_published_checksum_for_the_archive_is_refused(release: dict[str, Path]) -> None:
    checksums = release["assets"] / f"pulumi-{VERSION}-checksums.txt"
    checksums.write_text("".join(line + "\n" for line in checksums.read_text().splitlines() if ARCHIVE not in line))
    result = _run(release)
    assert (result.returncode, result.stderr.splitlines()) == (
        1,
        [f"error: pulumi-{VERSION}-checksums.txt has no SHA-256 for {ARCHIVE}; not installed"],
    )
    assert not (release["home"] / ".pulumi").exists()


def test_a_malformed_pin_is_one_line_naming_the_file(release: dict[str, Path]) -> None:
    pin = release["project"] / ".github" / "pulumi-cli-version"
    pin.write_text("latest\n")
    result = _run(release)
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [f"error: {pin}: expected a version like 3.272.0, got 'latest'"],
    )
    assert not release["log"].exists()  # nothing fetched


def test_the_pin_is_a_version_the_sdk_range_accepts() -> None:
    pinned = Version((ROOT / ".github" / "pulumi-cli-version").read_text().strip())
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (sdk,) = [Requirement(d) for d in dependencies if Requirement(d).name == "pulumi"]
    assert sdk.specifier.contains(pinned), f"CLI {pinned} outside the SDK's range {sdk.specifier}"


def test_the_workflows_put_first_on_path_the_directory_the_script_installs_to(release: dict[str, Path]) -> None:
    """With PULUMI_HOME set the CLI goes there; the setup action must add that same directory, or the runner's
    own pulumi (unverified) would run instead."""
    action = (ROOT / ".github" / "actions" / "setup" / "action.yml").read_text()
    (added,) = re.findall(r'echo "([^"]+)" >> "\$GITHUB_PATH"', action)
    (installs,) = re.findall(r'^bin="([^"]+)"$', SCRIPT.read_text(), flags=re.MULTILINE)
    assert added == installs
    home = release["home"] / "elsewhere"
    env = {"PATH": f"{release['bin']}{os.pathsep}{os.environ['PATH']}", "HOME": str(release["home"])}
    env |= {"RELEASE_DIR": str(release["assets"]), "CURL_LOG": str(release["log"]), "PULUMI_HOME": str(home)}
    script = release["project"] / "tools" / "ci" / SCRIPT.name
    subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, check=True)
    shown = subprocess.run(["bash", "-c", f'echo "{added}"'], capture_output=True, text=True, env=env, check=True)
    assert (Path(shown.stdout.strip()) / "pulumi").is_file()
