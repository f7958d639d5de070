"""AWS-owned SageMaker images: the ECR URI of a framework version in a region, as the SageMaker Python SDK
resolves it (`sagemaker.core.image_uris.retrieve`), from a copy of the SDK's own data.

`data/image_uris/<framework>.json` are the SDK's per-framework files (`sagemaker-core`,
`sagemaker/core/image_uri_config/`), copied by `python -m tools.image_data` and compared with the installed SDK
by a test. A URI is `<account>.dkr.<ecr hostname>/<repository>:<tag>`: the account the SDK's data names for the
region, the ECR hostname botocore's endpoint data gives for it (`.amazonaws.com.cn` in China), the tag
`<version>[-<processor>][-<py version>]` (the SDK's `_format_tag`), for scikit-learn `1.2-1-cpu-py3`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data" / "image_uris"
FRAMEWORKS = ("sklearn", "xgboost")
"""The frameworks a stack may name: scikit-learn (processing, script-mode training, serving) and the built-in
XGBoost algorithm."""
SCOPES = ("training", "inference")
# Instance families whose images are the GPU builds (SageMaker's accelerated-computing instances).
GPU_FAMILIES = ("ml.p", "ml.g")


class ImageError(ValueError):
    """The framework, version or region has no AWS-owned image; the message says what is accepted."""


@functools.cache
def _data(framework: str) -> dict[str, Any]:
    if framework not in FRAMEWORKS:
        raise ImageError(f"{framework!r} is not a framework with AWS-owned images here; accepted: {list(FRAMEWORKS)}")
    document: dict[str, Any] = json.loads((DATA_DIR / f"{framework}.json").read_text(encoding="utf-8"))
    return document


def versions(framework: str, scope: str) -> list[str]:
    return list(_data(framework)[scope]["versions"])


@functools.cache
def _ecr_hostname(region: str) -> str:
    """ECR's hostname in a region, from botocore's endpoint data (what the SDK asks botocore for)."""
    import botocore.loaders
    import botocore.regions

    resolver = botocore.regions.EndpointResolver(botocore.loaders.Loader().load_data("endpoints"))
    endpoint = resolver.construct_endpoint("ecr", region)
    if not endpoint:
        raise ImageError(f"botocore knows no ECR endpoint in {region!r}")
    return str(endpoint["hostname"])


def _one(options: list[str] | None, what: str, instance_type: str) -> str | None:
    if not options:
        return None
    if len(options) == 1:
        return options[0]
    if what == "processor":
        wanted = "gpu" if instance_type.startswith(GPU_FAMILIES) else "cpu"
        if wanted in options:
            return wanted
    raise ImageError(f"several {what}s ({', '.join(options)}) and no way to choose one; set image: explicitly")


def image_uri(framework: str, version: str, region: str, *, scope: str, instance_type: str) -> str:
    """The AWS-owned image of `framework` `version` for `scope` (training or inference) in `region`."""
    config = _data(framework)[scope]
    known = config["versions"]
    aliases = config.get("version_aliases", {})
    key = aliases.get(version, version)
    if key not in known:
        raise ImageError(f"{framework} has no {scope} image version {version!r}; accepted: {', '.join(known)}")
    entry = known[key]
    registries: dict[str, str] = entry["registries"]
    if region not in registries:
        raise ImageError(
            f"{framework} {version} has no image in {region!r} (the SageMaker SDK's data names "
            f"{len(registries)} regions); set image: to an image in your own ECR"
        )
    processor = _one(config.get("processors") or entry.get("processors"), "processor", instance_type)
    py_version = _one(entry.get("py_versions"), "Python version", instance_type)
    tag = "-".join(part for part in (entry.get("tag_prefix", version), processor, py_version) if part)
    return f"{registries[region]}.dkr.{_ecr_hostname(region)}/{entry['repository']}:{tag}"


LIBRARIES = {"sklearn": "scikit-learn", "xgboost": "xgboost"}
"""The Python distribution each framework image is built around."""
# The library version installed in an image, where its Dockerfile says it exactly (aws/sagemaker-scikit-learn-
# container, docker/1.2-1/base/Dockerfile.cpu: `pip install scikit-learn==1.2.1`, Python 3.9). Otherwise the
# framework version's `<major>.<minor>` is the library's (the SDK's `framework_version` is the library version).
IMAGE_LIBRARY_VERSIONS = {("sklearn", "1.2-1"): "1.2.1"}


def library_version(framework: str, version: str) -> str:
    """The library version inside an AWS-owned framework image: exact where known, else `<major>.<minor>`."""
    exact = IMAGE_LIBRARY_VERSIONS.get((framework, version))
    return exact if exact is not None else version.split("-", 1)[0]


def matches(installed: str, expected: str) -> bool:
    """Whether an installed version is the image's: equal, or within `<major>.<minor>` when only that is known."""
    if expected.count(".") >= 2:
        return installed == expected
    return installed == expected or installed.startswith(expected + ".")
