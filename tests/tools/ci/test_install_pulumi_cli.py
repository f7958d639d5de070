"""tools/ci/install_pulumi_cli.sh and pin_pulumi.sh, run for real with a stand-in `curl` that serves the Pulumi
and pulumi-aws releases from local files: the pinned CLI and the locked AWS provider plugin are fetched, each
checked against the SHA-256 committed in .github/pulumi-checksums.txt (or, not pinned yet, the CLI against what
its release publishes, with a warning), and a download that does not match is refused with one line and
installs nothing."""

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
SCRIPTS = ("install_pulumi_cli.sh", "pin_pulumi.sh", "pulumi_pins.sh")
VERSION = "3.999.1"
AWS = "7.99.2"
ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "")
GOARCH = {"x64": "amd64", "arm64": "arm64"}.get(ARCH, "")
ARCHIVE = f"pulumi-v{VERSION}-linux-{ARCH}.tar.gz"
PLUGIN = f"pulumi-resource-aws-v{AWS}-linux-{GOARCH}.tar.gz"
RELEASE = f"https://github.com/pulumi/pulumi/releases/download/v{VERSION}"
AWS_RELEASE = f"https://github.com/pulumi/pulumi-aws/releases/download/v{AWS}"

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
    """The CLI archive's layout (`pulumi/` prefix); its `pulumi` logs each call's arguments to $PULUMI_LOG."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("pulumi", "pulumi-language-python"):
            data = f'#!/bin/sh\n[ -z "$PULUMI_LOG" ] || echo "$*" >> "$PULUMI_LOG"\necho {name} v{VERSION}\n'.encode()
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
    for name in SCRIPTS:
        shutil.copy(SCRIPT.parent / name, project / "tools" / "ci" / name)
    (project / ".github" / "pulumi-cli-version").write_text(f"{VERSION}\n")
    (project / "requirements-ci.txt").write_text(f"pulumi-aws=={AWS} \\\n    --hash=sha256:{'0' * 64}\n")
    assets = tmp_path / "release"
    assets.mkdir()
    archive = _tarball()
    (assets / ARCHIVE).write_bytes(archive)
    (assets / PLUGIN).write_bytes(b"pulumi-resource-aws binary")
    other = hashlib.sha256(b"another asset").hexdigest()
    (assets / f"pulumi-{VERSION}-checksums.txt").write_text(
        f"{other}  pulumi-v{VERSION}-darwin-x64.tar.gz\n{hashlib.sha256(archive).hexdigest()}  {ARCHIVE}\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(CURL)
    (bin_dir / "curl").chmod(0o755)
    return {"project": project, "assets": assets, "bin": bin_dir, "home": tmp_path / "home", "log": tmp_path / "log"}


def _pin(release: dict[str, Path], **archives: bytes) -> None:
    """Commit checksums as `make pin-pulumi` writes them: one line per archive (its file name: its bytes)."""
    lines = ["# SHA-256 of the archives the workflows install"]
    lines += [f"{hashlib.sha256(data).hexdigest()}  {name}" for name, data in archives.items()]
    (release["project"] / ".github" / "pulumi-checksums.txt").write_text("\n".join(lines) + "\n")


def _run(release: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{release['bin']}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(release["home"]),
        "RELEASE_DIR": str(release["assets"]),
        "CURL_LOG": str(release["log"]),
        "PULUMI_LOG": str(release["home"].parent / "pulumi-calls"),
    }
    script = release["project"] / "tools" / "ci" / SCRIPT.name
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, check=False)


def _errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Standard error without GitHub's workflow commands (`::warning::`, shown as annotations)."""
    return [line for line in result.stderr.splitlines() if not line.startswith("::")]


def _calls(release: dict[str, Path]) -> list[str]:
    log = release["home"].parent / "pulumi-calls"
    return log.read_text().splitlines() if log.exists() else []


def test_not_pinned_yet_the_cli_is_checked_against_its_release_and_each_gap_is_a_warning(
    release: dict[str, Path],
) -> None:
    result = _run(release)
    assert result.returncode == 0, result.stderr
    installed = release["home"] / ".pulumi" / "bin"
    assert sorted(p.name for p in installed.iterdir()) == ["pulumi", "pulumi-language-python"]
    assert subprocess.run([installed / "pulumi"], capture_output=True, text=True, check=True).stdout.strip() == (
        f"pulumi v{VERSION}"
    )
    assert release["log"].read_text().splitlines() == [
        f"{RELEASE}/pulumi-{VERSION}-checksums.txt",
        f"{RELEASE}/{ARCHIVE}",
    ]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("::warning::")]
    assert len(warnings) == 2 and all("run make pin-pulumi" in w for w in warnings)
    assert ARCHIVE in warnings[0] and PLUGIN in warnings[1] and "unverified" in warnings[1]
    assert _calls(release) == [f"plugin install resource aws {AWS}"]


def test_pinned_both_are_checked_against_the_committed_checksums_alone(release: dict[str, Path]) -> None:
    """The release's own checksums file is never read: whoever can replace an asset can replace it too."""
    _pin(release, **{ARCHIVE: (release["assets"] / ARCHIVE).read_bytes(), PLUGIN: b"pulumi-resource-aws binary"})
    result = _run(release)
    assert (result.returncode, "::warning::" in result.stderr) == (0, False), result.stderr
    assert release["log"].read_text().splitlines() == [f"{RELEASE}/{ARCHIVE}", f"{AWS_RELEASE}/{PLUGIN}"]
    [call] = _calls(release)
    assert call.startswith(f"plugin install resource aws {AWS} --file ") and call.endswith(f"/{PLUGIN}")
    assert result.stdout.strip().endswith(f"and AWS plugin {AWS} (SHA-256 pinned) in {release['home']}/.pulumi/bin")


@pytest.mark.parametrize("replaced", ["cli", "plugin"])
def test_a_pinned_archive_replaced_at_its_release_is_refused_and_nothing_installed(
    release: dict[str, Path], replaced: str
) -> None:
    """A release asset swapped, with a checksums file to match: the committed SHA-256 still refuses it."""
    _pin(release, **{ARCHIVE: (release["assets"] / ARCHIVE).read_bytes(), PLUGIN: b"pulumi-resource-aws binary"})
    name = ARCHIVE if replaced == "cli" else PLUGIN
    swapped = _tarball() + b"\0" if replaced == "cli" else b"another binary"
    (release["assets"] / name).write_bytes(swapped)
    published = release["assets"] / f"pulumi-{VERSION}-checksums.txt"
    published.write_text(f"{hashlib.sha256(swapped).hexdigest()}  {name}\n")
    result = _run(release)
    assert result.returncode == 1
    (line,) = _errors(result)
    assert line.startswith(f"error: {name}: SHA-256 {hashlib.sha256(swapped).hexdigest()} is not the pinned ")
    assert line.endswith("; not installed")
    assert not (release["home"] / ".pulumi").exists() and _calls(release) == []


def _pin_run(release: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{release['bin']}{os.pathsep}{os.environ['PATH']}"}
    env |= {"RELEASE_DIR": str(release["assets"]), "CURL_LOG": str(release["log"])}
    script = release["project"] / "tools" / "ci" / "pin_pulumi.sh"
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, check=False)


def test_make_pin_pulumi_writes_what_the_install_then_accepts(release: dict[str, Path]) -> None:
    other = "arm64" if ARCH == "x64" else "x64"
    other_archive = f"pulumi-v{VERSION}-linux-{other}.tar.gz"
    (release["assets"] / other_archive).write_bytes(b"the other build")
    other_plugin = f"pulumi-resource-aws-v{AWS}-linux-{'arm64' if GOARCH == 'amd64' else 'amd64'}.tar.gz"
    (release["assets"] / other_plugin).write_bytes(b"the other plugin")
    published = release["assets"] / f"pulumi-{VERSION}-checksums.txt"
    published.write_text(published.read_text() + f"{hashlib.sha256(b'the other build').hexdigest()}  {other_archive}\n")
    result = _pin_run(release)
    assert result.returncode == 0, result.stderr
    pins = release["project"] / ".github" / "pulumi-checksums.txt"
    entries = {line.split()[1]: line.split()[0] for line in pins.read_text().splitlines() if not line.startswith("#")}
    assert set(entries) == {ARCHIVE, other_archive, PLUGIN, other_plugin}
    assert entries[PLUGIN] == hashlib.sha256(b"pulumi-resource-aws binary").hexdigest()
    assert "::warning::" not in _run(release).stderr  # the install now checks both against the file


def test_make_pin_pulumi_writes_nothing_when_a_cli_archive_is_not_the_published_one(release: dict[str, Path]) -> None:
    other = "arm64" if ARCH == "x64" else "x64"
    (release["assets"] / f"pulumi-v{VERSION}-linux-{other}.tar.gz").write_bytes(b"unpublished build")
    result = _pin_run(release)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("; nothing written")
    assert not (release["project"] / ".github" / "pulumi-checksums.txt").exists()


def test_the_committed_checksums_name_the_pinned_versions_only() -> None:
    """What `make pin-pulumi` wrote is for the versions in use: a bump of either (Dependabot moves pulumi-aws)
    fails here until the checksums are written again."""
    lock = (ROOT / "requirements-ci.txt").read_text()
    (aws,) = re.findall(r"^pulumi-aws==([0-9.]+) ", lock, flags=re.MULTILINE)
    cli = (ROOT / ".github" / "pulumi-cli-version").read_text().strip()
    assert b"\r" not in (ROOT / ".github" / "pulumi-checksums.txt").read_bytes()  # the install refuses CRLF
    lines = [
        line.split()
        for line in (ROOT / ".github" / "pulumi-checksums.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all(len(fields) == 2 and re.fullmatch(r"[0-9a-f]{64}", fields[0]) for fields in lines), lines
    named = {fields[1] for fields in lines}
    expected = {f"pulumi-v{cli}-linux-{a}.tar.gz" for a in ("x64", "arm64")}
    expected |= {f"pulumi-resource-aws-v{aws}-linux-{a}.tar.gz" for a in ("amd64", "arm64")}
    assert named in (set(), expected), f"run make pin-pulumi: {sorted(named ^ expected)}"


def test_a_tampered_download_is_refused_and_nothing_installed(release: dict[str, Path]) -> None:
    (release["assets"] / ARCHIVE).write_bytes(_tarball() + b"\0")  # the same files, one byte more
    result = _run(release)
    assert result.returncode == 1
    (line,) = _errors(result)
    assert line.startswith(f"error: {ARCHIVE}: SHA-256 ") and line.endswith("; not installed")
    assert " is not the published " in line
    assert not (release["home"] / ".pulumi").exists()


def test_no_published_checksum_for_the_archive_is_refused(release: dict[str, Path]) -> None:
    checksums = release["assets"] / f"pulumi-{VERSION}-checksums.txt"
    checksums.write_text("".join(line + "\n" for line in checksums.read_text().splitlines() if ARCHIVE not in line))
    result = _run(release)
    assert (result.returncode, _errors(result)) == (
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


def test_every_job_that_runs_pulumi_lets_it_fetch_no_plugin_of_its_own() -> None:
    """With automatic acquisition on, the engine downloads any plugin the program asks for, unchecked; off, only
    what the setup installed (checked against the committed checksums) runs."""
    from tests.repository.test_workflows import DOCS

    jobs = [
        (name, job)
        for name, document in DOCS.items()
        for job in document["jobs"].values()
        if any("pulumi-cli" in str(step.get("with", {})) for step in job.get("steps", []))
    ]
    assert len(jobs) == 3  # the preview, the drift check and the deploy
    for name, job in jobs:
        assert job["env"]["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true", name
        assert job["env"]["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true", name


@pytest.mark.parametrize("damage", ["crlf", "one pin missing"])
def test_a_pins_file_that_would_hide_a_pin_fails_closed(release: dict[str, Path], damage: str) -> None:
    """Line endings of another system (awk would never match `name\\r`), or a version moved without its
    checksums: the install refuses rather than fall back to the release's own checksums or no check at all."""
    archives = {ARCHIVE: (release["assets"] / ARCHIVE).read_bytes(), PLUGIN: b"pulumi-resource-aws binary"}
    if damage == "one pin missing":
        archives.pop(PLUGIN)
    _pin(release, **archives)
    pins = release["project"] / ".github" / "pulumi-checksums.txt"
    if damage == "crlf":
        pins.write_bytes(pins.read_bytes().replace(b"\n", b"\r\n"))
    result = _run(release)
    assert result.returncode == (2 if damage == "crlf" else 1)
    (line,) = _errors(result)
    expected = "carriage returns" if damage == "crlf" else f"pins no SHA-256 for {PLUGIN}"
    assert line.startswith(f"error: {pins}") and expected in line
    assert not (release["home"] / ".pulumi").exists() and _calls(release) == []
    assert not release["log"].exists()  # nothing fetched
