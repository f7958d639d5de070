"""Typed, validated settings for one stack, read from Pulumi config at program start.

Every per-environment difference lives in `stacks/Pulumi.<stack>.yaml`; this module is the only reader of
that config. A bad value stops the program before any resource is declared, with one line that names the
stack file, the key path and what is accepted.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import botocore.model
import botocore.session
import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import images
from components.files import read_document
from components.workflow_definition import STEP_TAGS

# Job names are `<prefix>-<step>-<32-hex run id>` and SageMaker caps them at 63 characters: the prefix takes
# what the longest step tag (workflow_definition.STEP_TAGS) and the run id leave.
MAX_SAGEMAKER_NAME = 63
MAX_PREFIX_LENGTH = MAX_SAGEMAKER_NAME - 1 - max(len(tag) for tag in STEP_TAGS.values()) - 1 - 32

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, `retentionInDays`).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

_ECR_IMAGE = re.compile(
    # The partition's DNS suffix: amazonaws.com, amazonaws.com.cn, and the isolated partitions' own (botocore).
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|[a-z0-9]+(?:\.[a-z0-9]+)*\.gov)/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$"
)
_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_VARIABLE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_CONTAINER_ENVIRONMENT = 100
"""SageMaker's limit on a container's `Environment` map (ContainerDefinition, ModelPackageContainerDefinition)."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\)|at\([^()]+\))$")


class SettingsError(pulumi.RunError):
    """A stack's config is invalid. Reported by the CLI as one line, without a traceback."""


@functools.cache
def _sagemaker_model() -> botocore.model.ServiceModel:
    """SageMaker's API model from botocore's own service data, loaded once per process (it is large)."""
    return botocore.session.get_session().get_service_model("sagemaker")


@functools.cache
def _instance_types(shape: str) -> frozenset[str]:
    """Instance types SageMaker accepts for a shape of its API model."""
    return frozenset(_sagemaker_model().shape_for(shape).enum)


def _check_instance_type(value: str, shape: str, what: str) -> str:
    if value not in _instance_types(shape):
        raise ValueError(f"{value!r} is not a SageMaker {what} instance type (e.g. ml.m5.xlarge)")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False
    )


def _check_ecr_image(value: str) -> str:
    if not _ECR_IMAGE.match(value):
        raise ValueError(
            f"{value!r} is not an ECR image URI "
            "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>)"
        )
    return value


EcrImage = Annotated[str, AfterValidator(_check_ecr_image)]
"""An ECR image URI; the SageMaker execution role may pull from its repository only."""


def image_repository(uri: str) -> tuple[str, str, str]:
    """(account, region, repository) of a validated ECR image URI."""
    match = _ECR_IMAGE.match(uri)
    if match is None:
        raise ValueError(f"{uri!r} is not an ECR image URI")
    return match["account"], match["region"], match["repository"]


class _ImageChoice(_Model):
    """A step's container: an AWS-owned framework image (`framework` and `version`, resolved for the stack's
    region from the SageMaker SDK's data, components/images.py) or a custom one (`image`), not both."""

    image: EcrImage | None = None
    """ECR URI of a container of your own (bring your own container)."""
    framework: Literal["sklearn", "xgboost"] | None = None
    """An AWS-owned SageMaker framework image: `sklearn` (scikit-learn) or `xgboost`."""
    version: Annotated[str, Field(pattern=r"^[0-9][0-9a-z.-]{0,31}$")] | None = None
    """The framework image's version as the SageMaker SDK names it (e.g. `1.2-1`)."""

    _image_required: ClassVar[bool] = True
    """False where the step may name no image (it then runs in another step's container)."""

    @model_validator(mode="after")
    def _one_image(self) -> _ImageChoice:
        if self.image is not None and (self.framework or self.version):
            raise ValueError("set either image (a container of your own) or framework and version, not both")
        if self.image is None and self._image_required and not (self.framework and self.version):
            raise ValueError("set framework and version (an AWS-owned image, e.g. sklearn 1.2-1) or image")
        if self.image is None and bool(self.framework) != bool(self.version):
            raise ValueError("set framework and version together (or neither, to use the processing container)")
        return self

    def resolved_image(self) -> str:
        """The image URI; for a framework image, only once `parse_settings` has resolved it for the region."""
        if self.image is None:
            raise ValueError("the framework image has not been resolved for the stack's region")
        return self.image


class ProcessingSettings(_ImageChoice):
    """The preprocessing step: a SageMaker processing job running the workload's `preprocess.py`."""

    entrypoint: list[str] | None = None
    """The container's entrypoint (`AppSpecification.ContainerEntrypoint`); by default
    `python3 /opt/ml/processing/input/code/preprocess.py`, the workload's script where the job delivers it."""
    instance_type: str = "ml.m5.xlarge"
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 30
    max_runtime_seconds: Annotated[int, Field(ge=60, le=432000)] = 3600

    @field_validator("instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        return _check_instance_type(value, "ProcessingInstanceType", "processing")


class EvaluationSettings(ProcessingSettings):
    """The evaluation step: a processing job running the workload's `evaluate.py` on the held-out test set.
    Without its own image or framework it runs in the preprocessing step's container."""

    _image_required: ClassVar[bool] = False


class TrainingSettings(_ImageChoice):
    """The training step: a SageMaker training job; with a framework image, the workload's `train.py` in script
    mode."""

    instance_type: str = "ml.m5.xlarge"
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 50
    max_runtime_seconds: Annotated[int, Field(ge=60, le=2419200)] = 86400
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    """Passed to the training script as `--name value` (SageMaker takes string values only)."""

    @field_validator("instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        return _check_instance_type(value, "TrainingInstanceType", "training")

    @field_validator("hyperparameters", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(item, str):
                    raise ValueError(f"hyperparameter {key!r} must be a string (quote it), got {item!r}")
                if str(key).startswith("sagemaker_"):
                    raise ValueError(f"hyperparameter {key!r}: sagemaker_* names are set by the program")
        return value


class QualityGate(_Model):
    """The evaluation metric the model must reach before it is registered."""

    metric: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")]
    """Name of the metric in the evaluation report (e.g. `auc` under `binary_classification_metrics`)."""
    threshold: float
    direction: Literal["higher-is-better", "lower-is-better"] = "higher-is-better"

    @field_validator("threshold")
    @classmethod
    def _bounded(cls, value: float, info: ValidationInfo) -> float:
        metric = str(info.data.get("metric", "")).lower().rsplit(".", 1)[-1]
        if metric in BOUNDED_METRICS and not 0 <= value <= 1:
            raise ValueError(f"{value:g} is out of range for {metric}, which lies in [0, 1]; no model could pass")
        return value


class InferenceSettings(_ImageChoice):
    """How a registered model is served: the framework's serving image running the workload's `inference.py`,
    or a container of its own."""

    instance_type: str = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    environment: dict[str, str] = Field(default_factory=dict)
    """The container's environment variables (`Environment`: at most 100, names like SHELL variables)."""

    @field_validator("instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        return _check_instance_type(value, "ProductionVariantInstanceType", "endpoint")

    @field_validator("environment", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            if len(value) > MAX_CONTAINER_ENVIRONMENT:
                raise ValueError(f"{len(value)} variables; SageMaker accepts at most {MAX_CONTAINER_ENVIRONMENT}")
            for key, item in value.items():
                if not isinstance(key, str) or not _VARIABLE.match(key):
                    raise ValueError(f"{key!r} is not an environment variable name ([a-zA-Z_][a-zA-Z0-9_]*)")
                if not isinstance(item, str) or len(item) > 1024:
                    raise ValueError(f"variable {key!r} must be a string of at most 1024 characters (quote it)")
                if key in RESERVED_ENVIRONMENT:
                    raise ValueError(f"variable {key!r} is set by the program (it names the workload's code)")
        return value


class RegistrySettings(_Model):
    """Registration in the SageMaker Model Registry: the approval status a new model version starts with."""

    initial_approval_status: Literal["Approved", "PendingManualApproval"] = "PendingManualApproval"
    """`Approved` deploys at once where the stack deploys; `PendingManualApproval` waits for a person."""


class DeploymentSettings(_Model):
    """Whether approved model versions are served from a real-time endpoint, and how the update is guarded."""

    enabled: bool = False
    max_wait_seconds: Annotated[int, Field(ge=600, le=14400)] = 3600
    """How long a deployment waits for the endpoint to be in service before it fails and notifies."""
    rollback_alarm_window_seconds: Annotated[int, Field(ge=60, le=3600)] = 600
    """Blue/green: how long the new fleet is watched (the rollback alarms) before the old one is removed."""

    @model_validator(mode="after")
    def _wait_covers_the_window(self) -> DeploymentSettings:
        # BlueGreenUpdatePolicy: the update's time limit must exceed the window the new fleet is watched.
        if self.max_wait_seconds <= self.rollback_alarm_window_seconds:
            raise ValueError(
                f"maxWaitSeconds ({self.max_wait_seconds}) must exceed rollbackAlarmWindowSeconds "
                f"({self.rollback_alarm_window_seconds}): the update is watched that long before it ends"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            moved = [k for k in ("instanceType", "initialInstanceCount", "instance_type") if k in value]
            if moved:
                raise ValueError(
                    f"{', '.join(moved)} moved to the pipeline's inference settings "
                    "(inference.instanceType, inference.instanceCount)"
                )
        return value


class RetrySettings(_Model):
    """Backoff for throttling and transient service errors, on every task."""

    interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """At least 1: every task retries throttling and service errors."""
    backoff_rate: Annotated[float, Field(ge=1.0, le=10.0)] = 2.0


class ScheduleSettings(_Model):
    """An EventBridge Scheduler schedule that starts a retraining run."""

    expression: str
    """`rate(7 days)`, `cron(0 3 ? * MON *)` or `at(...)`."""
    timezone: str = "UTC"

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        if not _SCHEDULE.match(value):
            raise ValueError(f"{value!r} is not a schedule expression (rate(...), cron(...) or at(...))")
        return value


class ExampleData(_Model):
    """A dataset file inside an installed Python package: the local run reads it, and with `upload` the program
    puts it in the pipeline's `data/raw/` prefix so that a first execution has input."""

    package: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    """The distribution that ships it (e.g. `scikit-learn`)."""
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.csv$")]
    """Its path inside the distribution (e.g. `sklearn/datasets/data/breast_cancer.csv`)."""
    upload: bool = True
    """False where the team puts its own data in `data/raw/` (prod)."""

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError(f"{value!r} must stay inside the package (no '..')")
        return value

    def file(self) -> Path:
        """The file on this machine; a missing package or file is a ValueError naming both."""
        import importlib.metadata

        try:
            distribution = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError:
            raise ValueError(f"package {self.package!r} is not installed (pip install {self.package})") from None
        located = Path(str(distribution.locate_file(self.path)))
        if not located.is_file():
            raise ValueError(f"{self.package} {distribution.version} has no file {self.path!r}")
        return located


class PipelineSettings(_Model):
    """One ML training pipeline: its steps, its gate and whether it deploys."""

    name: Annotated[str, Field(min_length=2, max_length=MAX_PREFIX_LENGTH)]
    """Lower-case letters, digits and dashes; with the stack name it prefixes every job and resource."""
    workload: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    """The folder under `workloads/` whose scripts the jobs run (preprocess.py, train.py, evaluate.py,
    inference.py); the program uploads it to the pipeline's `code/` prefix."""
    example_data: ExampleData | None = None
    """A public dataset shipped in an installed package, uploaded to `data/raw/` (see ExampleData)."""
    processing: ProcessingSettings
    evaluation: EvaluationSettings | None = None
    """The evaluation job's container and size; by default the processing step's."""
    training: TrainingSettings
    quality_gate: QualityGate
    inference: InferenceSettings
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    schedule: ScheduleSettings | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} must be lower-case letters, digits and dashes, starting with a letter")
        return value


class StackSettings(_Model):
    """Everything one stack (environment) decides."""

    tags: dict[str, str]
    """Applied to every resource through the provider's default tags."""
    pipelines: Annotated[list[PipelineSettings], Field(min_length=1)]
    log_level: Literal["ALL", "ERROR", "FATAL", "OFF"] = "ERROR"
    """Step Functions execution log level."""
    log_retention_days: int = 30
    tracing: bool = True
    """X-Ray tracing on state machines and the evaluation Lambda."""
    alarm_emails: list[str] = Field(default_factory=list)
    """Subscribed to each pipeline's failure topic (confirm the subscription e-mail once)."""

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one tag is required (e.g. owner, cost-center)")
        if len(value) > MAX_TAGS:
            raise ValueError(
                f"{len(value)} tags; at most {MAX_TAGS} (AWS accepts 50 on a resource, and the jobs carry one more: "
                "execution-arn)"
            )
        for key, item in value.items():
            if not key or len(key) > 128 or len(item) > 256 or key.lower().startswith("aws:"):
                raise ValueError(f"tag {key!r}: keys are 1-128 characters not starting with 'aws:', values <= 256")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention; accepted: {list(LOG_RETENTION_DAYS)}")
        return value

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @field_validator("pipelines")
    @classmethod
    def _unique_names(cls, value: list[PipelineSettings]) -> list[PipelineSettings]:
        names = [p.name for p in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"pipeline names must be unique; repeated: {duplicates}")
        return value


def _key_path(namespace: str, loc: tuple[int | str, ...]) -> str:
    path = namespace
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (":" if path == namespace else ".") + str(part)
    return path


def _describe(error: dict[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown key (a typo?)"
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "literal_error":
        return f"got {error['input']!r}; " + message.replace("Input should be", "accepted:")
    if error["type"] == "value_error":
        return message
    if error["type"] == "too_short":
        return f"at least {error['ctx']['min_length']} required; got {len(error['input'])}"
    # pydantic's own wording ("Input should be a valid boolean, ..."), with what it was given.
    return f"{message.split(', unable')[0].replace('Input should be', 'expected')}; got {error['input']!r}"


RESERVED_ENVIRONMENT = frozenset({"SAGEMAKER_PROGRAM", "SAGEMAKER_SUBMIT_DIRECTORY", "SAGEMAKER_REGION"})
"""Serving variables the program sets from the workload (the framework serving containers read them)."""
WORKLOADS_DIR = "workloads"
"""Relative to the project directory, where the Pulumi CLI runs the program."""
BOUNDED_METRICS = frozenset({"auc", "accuracy", "f1", "precision", "recall"})
"""Metrics that lie in [0, 1]: a threshold outside it is a model no training can pass."""
MAX_TAGS = 49
"""AWS's limit of 50 tags on one resource (user tags; the provider's default tags count), less the one tag the
state machines add to what they create (`execution-arn`, workflow_definition.EXECUTION_TAG)."""
PROVIDER_NAMESPACES = ("aws", "pulumi")
"""Config namespaces besides the project's: the provider the program uses, and Pulumi's own (`pulumi:tags`)."""


@functools.cache
def aws_regions() -> frozenset[str]:
    """Every region of every partition botocore knows (its `partitions` data)."""
    import botocore.loaders

    data = botocore.loaders.Loader().load_data("partitions")
    return frozenset(region for partition in data["partitions"] for region in partition["regions"])


def _check_namespaces(project: str, config: Mapping[str, Any], stack_file: str) -> None:
    """A key in a namespace that is neither the project's nor a provider's is a mistake, not a setting."""
    accepted = [project, *PROVIDER_NAMESPACES]
    for key in sorted(config):
        namespace = key.split(":", 1)[0]
        if namespace not in accepted:
            close = difflib.get_close_matches(namespace, accepted, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SettingsError(
                f"{stack_file}: {key}: {namespace!r} is neither this project's namespace nor a provider's{hint}; "
                f"accepted: {', '.join(accepted)}"
            )
    region = config.get("aws:region")
    if isinstance(region, str) and region not in aws_regions():
        close = difflib.get_close_matches(region, sorted(aws_regions()), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SettingsError(f"{stack_file}: aws:region: {region!r} is not an AWS region{hint}")


def parse_settings(
    project: str,
    stack: str,
    config: Mapping[str, Any],
    stack_file: str,
    secret_keys: frozenset[str] = frozenset(),
    project_dir: Path | None = None,
) -> StackSettings:
    """Validate the project's config keys (values as the engine passes them: strings, JSON for structures).

    Raises SettingsError with one line: `<stack file>: <key path>: <what is wrong and what is accepted>`.
    """
    _check_namespaces(project, config, stack_file)
    namespace = f"{project}:"
    raw: dict[str, Any] = {}
    for key, value in config.items():
        if not key.startswith(namespace):
            continue
        name = key[len(namespace) :]
        if key in secret_keys:
            raise SettingsError(f"{stack_file}: {key}: no setting of this project is secret; set it in plain text")
        try:
            structured = isinstance(value, str) and value.lstrip().startswith(("[", "{"))
            raw[name] = json.loads(value) if structured else value
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{stack_file}: {key}: not valid JSON ({exc.msg})") from None
    try:
        settings = StackSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(
            f"{stack_file}: {_key_path(project, tuple(first['loc']))}: {_describe(dict(first))}"
        ) from None
    settings = _resolve(project, settings, config.get("aws:region"), stack_file, project_dir)
    for index, pipeline in enumerate(settings.pipelines):
        prefix = f"{pipeline.name}-{stack}"
        if len(prefix) > MAX_PREFIX_LENGTH:
            raise SettingsError(
                f"{stack_file}: {project}:pipelines[{index}].name: {pipeline.name!r} with stack {stack!r} makes the "
                f"prefix {prefix!r} ({len(prefix)} characters); at most {MAX_PREFIX_LENGTH}, as SageMaker job "
                "names are limited to 63"
            )
    return settings


WORKLOAD_SCRIPTS = ("preprocess.py", "train.py", "evaluate.py", "inference.py")
"""What a workload folder holds: the code each container runs (see workloads/breast-cancer/)."""
# The scope whose image each step runs: the SDK's framework processors and estimators take the training image.
_IMAGE_SCOPES = {"processing": "training", "training": "training", "evaluation": "training", "inference": "inference"}


def _resolve_pipeline(
    pipeline: PipelineSettings, key: str, region: Any, stack_file: str, project_dir: Path
) -> PipelineSettings:
    """The pipeline with its workload checked, its example data found and every framework image resolved."""
    folder = project_dir / WORKLOADS_DIR / pipeline.workload
    missing = [script for script in WORKLOAD_SCRIPTS if not (folder / script).is_file()]
    if missing:
        raise SettingsError(
            f"{stack_file}: {key}.workload: {WORKLOADS_DIR}/{pipeline.workload}/ has no {', '.join(missing)}; "
            f"a workload folder holds {', '.join(WORKLOAD_SCRIPTS)} (copy workloads/breast-cancer/)"
        )
    if pipeline.example_data is not None and pipeline.example_data.upload:  # the program reads it only to upload it
        try:
            pipeline.example_data.file()
        except ValueError as exc:
            raise SettingsError(f"{stack_file}: {key}.exampleData: {exc}") from None
    evaluation = pipeline.evaluation or EvaluationSettings()
    if evaluation.image is None and evaluation.framework is None:
        evaluation = evaluation.model_copy(
            update={
                "image": pipeline.processing.image,
                "framework": pipeline.processing.framework,
                "version": pipeline.processing.version,
            }
        )
    steps: dict[str, _ImageChoice] = {
        "processing": pipeline.processing,
        "training": pipeline.training,
        "evaluation": evaluation,
        "inference": pipeline.inference,
    }
    resolved: dict[str, Any] = {}
    for step, settings in steps.items():
        if settings.image is None and settings.framework and settings.version:
            if not isinstance(region, str):
                raise SettingsError(f"{stack_file}: aws:region: required to find {step}'s {settings.framework} image")
            try:
                uri = images.image_uri(
                    settings.framework,
                    settings.version,
                    region,
                    scope=_IMAGE_SCOPES[step],
                    instance_type=getattr(settings, "instance_type", ""),
                )
            except images.ImageError as exc:
                raise SettingsError(f"{stack_file}: {key}.{step}.version: {exc}") from None
            settings = settings.model_copy(update={"image": uri})
        resolved[step] = settings
    return pipeline.model_copy(update=resolved)


def _resolve(
    project: str, settings: StackSettings, region: Any, stack_file: str, project_dir: Path | None
) -> StackSettings:
    folder = project_dir if project_dir is not None else Path.cwd()
    pipelines = [
        _resolve_pipeline(pipeline, f"{project}:pipelines[{index}]", region, stack_file, folder)
        for index, pipeline in enumerate(settings.pipelines)
    ]
    return settings.model_copy(update={"pipelines": pipelines})


def load_settings(project: str, stack: str, stack_config_dir: str = "stacks") -> StackSettings:
    """Read the running stack's settings from Pulumi config (the engine's view of `Pulumi.<stack>.yaml`)."""
    from pulumi.runtime import config as runtime_config

    config: dict[str, Any] = dict(runtime_config.get_config_env())
    config.update(runtime_config.CONFIG.get())
    secret = frozenset(runtime_config.get_config_secret_keys_env()) | {
        key for key in config if runtime_config.is_config_secret(key)
    }
    return parse_settings(project, stack, config, f"{stack_config_dir}/Pulumi.{stack}.yaml", secret)


def settings_of_stack_file(project: str, stack: str, path: Path, project_dir: Path | None = None) -> StackSettings:
    """A stack's settings read from its stack file, for a program of another project (bootstrap/) that must
    know the stack's pipelines: the same validation, the values passed as the engine passes them."""
    document = read_document(path, "stack file", SettingsError) or {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise SettingsError(f"{path}: config: expected a mapping of settings")
    secret = frozenset(k for k, v in config.items() if isinstance(v, dict) and "secure" in v)
    engine = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    # A stack file lives in the project's stack config folder (stacks/), one level below the project.
    return parse_settings(project, stack, engine, str(path), secret, project_dir or path.resolve().parent.parent)
