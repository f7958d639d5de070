"""Regenerate components/data/image_uris/ from the SageMaker Python SDK's own image data.

The SDK (`sagemaker-core`, which `image_uris.retrieve` reads) keeps, per framework, a JSON file of versions,
the AWS account that holds each region's images and the repository. This copies the frameworks the program
resolves (`components.images.FRAMEWORKS`), their training and inference scopes, as they are. Install the
data with `make image-data` (sagemaker-core without its dependencies: only its files are read).

    python -m tools.image_data          # rewrite the copies
    python -m tools.image_data --check  # exit 1 if a copy differs from the installed SDK's data
    python -m tools.image_data --move-pin requirements-image-data.txt  # pin the newest release, with its hash
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from components.images import DATA_DIR, FRAMEWORKS, SCOPES

SDK_DISTRIBUTION = "sagemaker-core"
SDK_DATA = "sagemaker/core/image_uri_config/{framework}.json"


class ImageDataError(Exception):
    """The SDK's data is not installed or not in the shape expected; one line."""


def sdk_data(framework: str) -> dict[str, object]:
    """The SDK's image data for one framework, limited to the scopes the program uses."""
    try:
        distribution = importlib.metadata.distribution(SDK_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ImageDataError(
            f"{SDK_DISTRIBUTION} is not installed: make image-data installs its data (no dependencies)"
        ) from None
    path = Path(str(distribution.locate_file(SDK_DATA.format(framework=framework))))
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ImageDataError(f"{path}: cannot be read as JSON ({exc})") from None
    missing = [scope for scope in SCOPES if scope not in document]
    if missing:
        raise ImageDataError(f"{path}: no {', '.join(missing)} scope")
    return {
        "source": f"{SDK_DISTRIBUTION} {distribution.version}: {SDK_DATA.format(framework=framework)}",
        **{scope: document[scope] for scope in SCOPES},
    }


def move_pin(requirements: Path) -> str:
    """Pin the SDK's newest release in `requirements` with its wheel's SHA-256 (pip's own index and download)."""
    pip = [sys.executable, "-m", "pip"]
    listing = subprocess.run([*pip, "index", "versions", SDK_DISTRIBUTION], capture_output=True, text=True, check=False)
    found = re.search(rf"^{re.escape(SDK_DISTRIBUTION)} \(([^)]+)\)", listing.stdout, re.MULTILINE)
    if found is None:
        raise ImageDataError(f"the package index did not answer with {SDK_DISTRIBUTION}'s versions")
    version = found.group(1)
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [
                *pip,
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary",
                ":all:",
                "-d",
                folder,
                f"{SDK_DISTRIBUTION}=={version}",
            ],
            check=True,
        )
        [wheel] = Path(folder).glob("*.whl")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    text = requirements.read_text(encoding="utf-8")
    text = re.sub(rf"^{re.escape(SDK_DISTRIBUTION)}==\S+", f"{SDK_DISTRIBUTION}=={version}", text, flags=re.MULTILINE)
    text = re.sub(r"--hash=sha256:[0-9a-f]{64}", f"--hash=sha256:{digest}", text)
    requirements.write_text(text, encoding="utf-8")
    return version


def render(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.image_data", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    parser.add_argument("--move-pin", type=Path, metavar="FILE", help="pin the SDK's newest release in FILE")
    args = parser.parse_args(argv)
    if args.move_pin is not None:
        try:
            print(f"{SDK_DISTRIBUTION} pinned at {move_pin(args.move_pin)} ({args.move_pin})")
        except ImageDataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        wanted = {framework: render(sdk_data(framework)) for framework in FRAMEWORKS}
    except ImageDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = []
    for framework, text in wanted.items():
        path = DATA_DIR / f"{framework}.json"
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(str(path))
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(
            f"error: {', '.join(stale)} differ from {SDK_DISTRIBUTION}'s data: run python -m tools.image_data",
            file=sys.stderr,
        )
        return 1
    print(("stale: " if args.check else "written: ") + (", ".join(stale) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
