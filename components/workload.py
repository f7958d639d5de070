"""A workload's code as the jobs receive it: the files of `workloads/<name>/`, a digest of them, and the
`sourcedir.tar.gz` that script mode and the serving containers download.

Keys carry the digest (`pipelines/<prefix>/code/<digest>/<file>` and `.../code/<digest>.tar.gz`), so a changed
file gives new keys and a new state machine definition, and an unchanged folder gives the same ones. The
archive is built deterministically (sorted names, fixed times, owners and modes; gzip without a timestamp).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

DIGEST_LENGTH = 16
_SKIPPED_DIRECTORIES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


class WorkloadError(ValueError):
    """The workload folder cannot be read; the message names it."""


@dataclass(frozen=True)
class WorkloadCode:
    """The files of one workload folder, in name order, with their digest and archive."""

    name: str
    files: tuple[tuple[str, bytes], ...]
    """(path relative to the folder, content), sorted by path."""

    @property
    def digest(self) -> str:
        """SHA-256 over each file's path and content, shortened: the code's version in every key."""
        hasher = hashlib.sha256()
        for path, content in self.files:
            hasher.update(path.encode() + b"\0" + hashlib.sha256(content).digest())
        return hasher.hexdigest()[:DIGEST_LENGTH]

    def archive(self) -> bytes:
        """`sourcedir.tar.gz`: the folder's files at the archive's root, as the SageMaker SDK packs a source dir."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path, content in self.files:
                info = tarfile.TarInfo(path)
                info.size, info.mtime, info.mode = len(content), 0, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(content))
        packed = io.BytesIO()
        with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=9, mtime=0) as zipped:
            zipped.write(raw.getvalue())
        return packed.getvalue()


def read_workload(folder: Path) -> WorkloadCode:
    """Every regular file under `folder` but caches, compiled files and hidden files."""
    if not folder.is_dir():
        raise WorkloadError(f"{folder}: no such workload folder")
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part in _SKIPPED_DIRECTORIES for part in relative.parts):
            continue
        if path.is_file() and path.suffix != ".pyc":
            try:
                files.append((relative.as_posix(), path.read_bytes()))
            except OSError as exc:
                raise WorkloadError(f"{path}: cannot be read ({exc.strerror})") from None
    return WorkloadCode(folder.name, tuple(files))


@dataclass(frozen=True)
class CodeLocation:
    """Where a pipeline's code lives in the artifacts bucket."""

    bucket: str
    prefix: str
    """The pipeline's key prefix, `pipelines/<prefix>/`."""
    digest: str

    @property
    def files_key(self) -> str:
        """The folder of single files (processing jobs receive it at /opt/ml/processing/input/code)."""
        return f"{self.prefix}code/{self.digest}/"

    @property
    def archive_key(self) -> str:
        return f"{self.prefix}code/{self.digest}.tar.gz"

    @property
    def files_uri(self) -> str:
        return f"s3://{self.bucket}/{self.files_key}"

    @property
    def archive_uri(self) -> str:
        return f"s3://{self.bucket}/{self.archive_key}"
