"""Regenerate components/data/image_uris/ from the SageMaker Python SDK's own image data.

The SDK (`sagemaker-core`, which `image_uris.retrieve` reads) keeps, per framework, a JSON file of versions,
the AWS account that holds each region's images and the repository. This copies the frameworks the program
resolves (`components.images.FRAMEWORKS`), their training and inference scopes, as they are. Install the
data with `make image-data` (sagemaker-core without its dependencies: only its files are read).

    python -m tools.image_data          # rewrite the copies
    python -m tools.image_data --check  # exit 1 if a copy differs from the installed SDK's data
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
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


def render(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.image_data", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = parser.parse_args(argv)
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
        print(f"error: {', '.join(stale)} differ from {SDK_DISTRIBUTION}'s data: run python -m tools.image_data",
              file=sys.stderr)
        return 1
    print(("stale: " if args.check else "written: ") + (", ".join(stale) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
