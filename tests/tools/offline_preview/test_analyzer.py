"""The offline preview behaves as the Pulumi engine does when it drives a policy pack.

Each test names the engine behaviour it pins and the source it was read from (pulumi/pulumi unless said).
The programs and packs under `conformance/` were written for these tests; what they cover follows
pulumi-policy's integration tests (config validation, remediation, the stack resource, providers, resource
options, attribution, stack tags, errors).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.offline_preview.__main__ import Outcome, main, parse_args, run
from tools.offline_preview.analyzer import PolicyPack
from tools.offline_preview.policy_config import ConfigError, PackInfo, PolicyConfig, parse, reconcile

HERE = Path(__file__).parent / "conformance"
PROGRAM = HERE / "program"
STACK_URN = "urn:pulumi:dev::conformance::pulumi:pulumi:Stack::conformance-dev"
DEFAULT_AWS = "urn:pulumi:dev::conformance::pulumi:providers:aws::default_7_51_1"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::conformance::{type_}::{name}"


BUCKET = "aws:s3/bucket:Bucket"


def planned(pack: str, *extra: str, preview: bool = False) -> Outcome:
    argv = ["--cwd", str(PROGRAM), "--stack", "dev", "--policy-pack", str(HERE / pack), *extra]
    (outcome,) = run(parse_args([*argv, "--preview"] if preview else argv))
    return outcome


def reported(outcome: Outcome, policy: str) -> list[tuple[str, Any]]:
    """(resource URN, the JSON the observer policy reported) for each of the policy's violations."""
    assert outcome.error is None, outcome.error
    found = []
    for d in outcome.diagnostics:
        if d.policy_name == policy:
            _description, _, message = d.message.partition("\n")
            found.append((d.resource_urn, json.loads(message) if message.startswith(("{", "[")) else message))
    return found


@pytest.fixture(scope="module", params=["update", "preview"])
def observed(request: pytest.FixtureRequest) -> Outcome:
    """What the observer pack saw, in both phases: the engine hands the pack parents, dependencies, property
    dependencies and stack tags in a preview as in an update (only values differ: unknown at a first preview)."""
    tags = ("--stack-tag", "owner=ml-platform", "--stack-tag", "team=data")
    return planned("observer_pack", *tags, preview=request.param == "preview")


@pytest.fixture(scope="module")
def analyzed(observed: Outcome) -> dict[str, dict[str, Any]]:
    """What Analyze was handed, by resource URN."""
    return {resource: seen for resource, seen in reported(observed, "observe")}


@pytest.fixture(scope="module")
def stack_view(observed: Outcome) -> dict[str, dict[str, Any]]:
    """What AnalyzeStack was handed, by resource URN."""
    ((_, seen),) = reported(observed, "observe-stack")
    return seen


# -- the root stack resource --------------------------------------------------------------------------------
def test_the_root_stack_is_analyzed_first_and_parents_top_level_resources(
    observed: Outcome, analyzed: dict[str, Any], stack_view: dict[str, Any]
) -> None:
    """The language host registers `pulumi:pulumi:Stack` before the program runs; the step generator sends
    every registration through Analyze (step_generator.go), and AnalyzeResources sends every resource of the
    deployment, the root stack included, so the SDK can link each top-level resource to it as its parent."""
    first = reported(observed, "observe")[0]
    assert first[0] == STACK_URN
    assert first[1]["type"] == "pulumi:pulumi:Stack"
    assert stack_view[STACK_URN]["parent"] is None
    assert stack_view[urn(BUCKET, "plain")]["parent"] == STACK_URN
    assert stack_view[urn("conformance:index:Box", "box")]["parent"] == STACK_URN
    box_bucket = "urn:pulumi:dev::conformance::conformance:index:Box$aws:s3/bucket:Bucket::box-bucket"
    assert stack_view[box_bucket]["parent"] == urn("conformance:index:Box", "box")
    # AnalyzeStack sees the stack's outputs (the program's exports) and a component's registered outputs
    # (step_executor.go ExecuteRegisterResourceOutputs).
    assert stack_view[STACK_URN]["keys"] == ["bucket"]
    assert stack_view[urn("conformance:index:Box", "box")]["keys"] == ["bucket"]


def test_empty_property_dependencies_are_not_sent(stack_view: dict[str, Any]) -> None:
    """analyzer_plugin.go, AnalyzeStack: "Skip properties that have no dependencies"."""
    assert stack_view[urn(BUCKET, "plain")]["propertyDependencies"] == []
    policy = urn("aws:s3/bucketPolicy:BucketPolicy", "plain-policy")
    assert stack_view[policy]["propertyDependencies"] == ["bucket", "policy"]


def test_dependencies_and_property_dependencies_name_the_resources_in_both_phases(stack_view: dict[str, Any]) -> None:
    """AnalyzerResource.dependencies and propertyDependencies (analyzer.proto), resolved by the SDK to the
    resources themselves: the bucket policy's `bucket` and `policy` come from the bucket, in a preview too."""
    policy = urn("aws:s3/bucketPolicy:BucketPolicy", "plain-policy")
    assert stack_view[policy]["propertyDependencyUrns"] == {
        "bucket": [urn(BUCKET, "plain")],
        "policy": [urn(BUCKET, "plain")],
    }
    assert stack_view[policy]["dependencies"] == [urn(BUCKET, "plain")]
    assert stack_view[urn(BUCKET, "plain")]["dependencies"] == []


# -- providers ----------------------------------------------------------------------------------------------
def test_default_providers_are_named_by_version_and_get_a_version_input(analyzed: dict[str, Any]) -> None:
    """providers/registry.go ProviderRequest.DefaultName: `default_<major>_<minor>_<patch>`; default_providers.go
    sets the package's config (namespace dropped) and `version` as its inputs."""
    assert analyzed[DEFAULT_AWS]["keys"] == ["region", "version"]
    assert analyzed[urn(BUCKET, "plain")]["provider"] == {"name": "default_7_51_1", "keys": ["region", "version"]}
    explicit = urn("pulumi:providers:aws", "explicit")
    assert analyzed[explicit]["type"] == "pulumi:providers:aws"
    assert analyzed[urn(BUCKET, "elsewhere")]["provider"]["name"] == "explicit"


def test_a_dynamic_provider_gets_the_whole_config_with_namespaced_keys(analyzed: dict[str, Any]) -> None:
    """target.go GetPackageConfig: "For dynamic providers, we always pass the full configuration"."""
    provider = urn("pulumi:providers:pulumi-python", "default")
    keys = ["aws:region", "conformance:greeting", "conformance:token", "pulumi:tags"]
    assert analyzed[provider]["keys"] == keys
    assert analyzed[urn("pulumi-python:dynamic:Resource", "noop")]["provider"] == {"name": "default", "keys": keys}


def test_resource_policies_run_on_the_stack_components_and_providers(analyzed: dict[str, Any]) -> None:
    """step_generator.go: every registration, whatever its type, goes through the analyzers."""
    types = {seen["type"] for seen in analyzed.values()}
    assert {"pulumi:pulumi:Stack", "conformance:index:Box", "pulumi:providers:aws"} <= types
    assert "pulumi:providers:pulumi-python" in types


def test_the_json_lists_the_stack_and_providers_and_the_tree_hides_default_providers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--cwd", str(PROGRAM), "--stack", "dev", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    listed = [r["urn"] for r in document["resources"]]
    assert listed[0] == STACK_URN
    assert DEFAULT_AWS in listed
    assert main(["--cwd", str(PROGRAM), "--stack", "dev"]) == 0
    text = capsys.readouterr().out
    assert "pulumi:providers:aws explicit" in text
    assert "default_7_51_1" not in text


# -- inputs and options -------------------------------------------------------------------------------------
def test_internal_keys_are_stripped_from_what_policies_see(analyzed: dict[str, Any], stack_view: dict) -> None:
    """analyzer_plugin.go marshals Analyze and AnalyzeStack properties with SkipInternalKeys: a dynamic
    resource's `__provider` never reaches a policy."""
    noop = urn("pulumi-python:dynamic:Resource", "noop")
    assert analyzed[noop]["keys"] == ["size"]
    assert "__provider" not in stack_view[noop]["keys"]


def test_delete_before_replace_is_none_unless_the_program_set_it(analyzed: dict[str, Any]) -> None:
    """analyzer_plugin.go marshalResourceOptions: deleteBeforeReplaceDefined = the option was given; the SDK
    reads None when it was not."""
    assert analyzed[urn(BUCKET, "plain")]["deleteBeforeReplace"] is None
    assert analyzed[urn(BUCKET, "replaced")]["deleteBeforeReplace"] is True
    assert analyzed[urn(BUCKET, "kept")]["deleteBeforeReplace"] is False


# -- attribution --------------------------------------------------------------------------------------------
def test_a_resource_policy_violation_belongs_to_the_resource_analyzed(observed: Outcome) -> None:
    """step_generator.go: "we always use the URN we have here rather than a URN specified with the
    diagnostic"."""
    urns = [resource for resource, _ in reported(observed, "report-elsewhere")]
    assert urn(BUCKET, "plain") in urns
    assert urn(BUCKET, "elsewhere") in urns
    assert len(urns) == len(set(urns)) == 5  # one per bucket, none moved to `kept`


def test_a_stack_policy_violation_keeps_a_known_urn_else_goes_to_the_root_stack(observed: Outcome) -> None:
    """step_generator.go AnalyzeResources: a diagnostic's URN is kept when the deployment has that resource,
    else it is attributed to the root stack."""
    assert sorted(reported(observed, "report-from-stack")) == sorted(
        [(urn(BUCKET, "kept"), "about kept"), (STACK_URN, "about a resource that does not exist")]
    )


# -- stack tags ---------------------------------------------------------------------------------------------
def test_stack_tags_come_from_pulumi_tags_and_the_command_line(analyzed: dict[str, Any]) -> None:
    """AnalyzerStackConfigureRequest.tags (pulumi/pulumi#20084); on a self-managed backend a stack's tags are
    the stack file's `pulumi:tags` (pulumi/docs#17670). --stack-tag adds to them and wins on a clash."""
    assert {json.dumps(seen["stackTags"]) for seen in analyzed.values()} == {
        json.dumps({"owner": "ml-platform", "team": "data"})
    }


def test_stack_tags_must_be_key_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cwd", str(PROGRAM), "--stack", "dev", "--stack-tag", "owner"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --stack-tag 'owner': KEY=VALUE is required, e.g. --stack-tag owner=ml-platform"
    )


# -- errors from the pack's own code ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "detail"),
    [
        ({"explode": "advisory"}, "Exception calling application: cannot judge plain"),
        (
            {"explode": {"enforcementLevel": "advisory", "silently": True}},
            "Exception calling application: (an exception without a message)",
        ),
    ],
)
def test_a_policy_that_raises_fails_the_run_with_its_exception(tmp_path: Path, config: dict, detail: str) -> None:
    """step_generator.go: `failed to run policy: <the RPC's error>`, the run stops; grpc's server sends
    "Exception calling application: <str(exception)>"."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    outcome = planned("observer_pack", "--policy-pack-config", str(path))
    assert outcome.exit_code == 2
    assert outcome.error == (
        f"policy pack conformance-observer ({HERE / 'observer_pack'}): failed to run policy on "
        f"{urn(BUCKET, 'plain')}: {detail}"
    )


# -- remediation --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def remediated() -> Outcome:
    return planned("remediate_pack")


def test_remediations_run_before_analysis_and_their_inputs_are_what_later_policies_see(remediated: Outcome) -> None:
    """step_generator.go: "first we perform remediations, and *then* we do analysis"; each remediation's
    properties become the inputs. A remediate-level policy's validation then runs as mandatory (the SDK)."""
    assert remediated.error is None
    assert remediated.diagnostics == []  # owner-tag-set and owner-tag's own validation see the tag
    buckets = [r for r in remediated.plan.resources if r.type == BUCKET] if remediated.plan else []
    assert len(buckets) == 5
    assert all(r.wire_inputs["tags"]["owner"] == "ml-platform" for r in buckets)
    plain = next(r for r in remediated.remediations if r.resource_urn == urn(BUCKET, "plain"))
    assert (plain.policy_pack_name, plain.policy_name, plain.changed) == (
        "conformance-remediate",
        "owner-tag",
        ["tags"],
    )
    assert plain.before["tags"] == {"greeting": "hello"}
    assert plain.after["tags"] == {"greeting": "hello", "owner": "ml-platform"}


def test_remediations_are_in_the_json_and_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--cwd", str(PROGRAM), "--stack", "dev", "--policy-pack", str(HERE / "remediate_pack")]
    assert main([*argv, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    plain = next(r for r in document["resources"] if r["name"] == "plain")
    assert plain["inputs"]["tags"] == {"greeting": "hello", "owner": "ml-platform"}
    assert {
        "policyPackName": "conformance-remediate",
        "policyName": "owner-tag",
        "resourceUrn": urn(BUCKET, "plain"),
        "changed": {"tags": {"before": {"greeting": "hello"}, "after": {"greeting": "hello", "owner": "ml-platform"}}},
    } in document["remediations"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    remediated = [line for line in text.splitlines() if line.startswith("[remediated] ")]
    assert len(remediated) == 6  # five buckets tagged, one bucket policy rewritten
    assert "[remediated] conformance-remediate/owner-tag plain: tags: " in text


def test_without_remediation_the_same_policy_blocks(tmp_path: Path) -> None:
    """The remediate level is what makes the engine call Remediate: at mandatory, nothing is fixed."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"owner-tag": "mandatory"}))
    outcome = planned("remediate_pack", "--policy-pack-config", str(path))
    assert [r.policy_name for r in outcome.remediations] == ["bucket-policy-rewrite"]
    assert outcome.exit_code == 1
    blocked = {(d.policy_name, d.resource_urn) for d in outcome.diagnostics if d.enforcement_level == "mandatory"}
    assert (("owner-tag", urn(BUCKET, "plain"))) in blocked
    assert (("owner-tag-set", urn(BUCKET, "plain"))) in blocked


def test_a_remediation_that_meets_an_unknown_at_preview_is_an_advisory_line() -> None:
    """step_generator.go: a remediation's diagnostic is reported as an advisory violation of the resource;
    the SDK words it "can't run remediation ... during preview"."""
    outcome = planned("remediate_pack", preview=True)
    assert [(d.enforcement_level, d.resource_urn, d.message) for d in outcome.diagnostics] == [
        (
            "advisory",
            urn("aws:s3/bucketPolicy:BucketPolicy", "plain-policy"),
            "can't run remediation 'bucket-policy-rewrite' from policy pack 'conformance-remediate@v0.0.1' during "
            "preview: string value at .policy can't be known during preview",
        )
    ]


# -- policy pack config -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def config_pack() -> Iterator[PackInfo]:
    pack = PolicyPack(HERE / "config_pack", project="conformance", stack="dev", dry_run=False).start()
    try:
        yield pack.info()
    finally:
        pack.close()


def test_every_config_error_of_every_policy_in_the_engines_words(config_pack: PackInfo) -> None:
    """analyzer/config.go validatePolicyPackConfig (gojsonschema, "(root): " trimmed) and engine/update.go:
    `validating policy config: <pack> <version>  <policy>: <error>`, all of them, sorted. The wording is
    what pulumi-policy's TestConfig expects of the CLI."""
    config = parse(
        json.dumps(
            {
                "bounded": {"foo": "abcd", "bar": 1.5},
                "choices": {"foo": "qux", "qux": "nope"},
                "defaults": {"count": 0},
            }
        ),
        "config.json",
    )
    with pytest.raises(ConfigError) as caught:
        reconcile(config_pack, [config])
    preamble = "validating policy config: config-policy 0.0.1  "
    assert caught.value.lines == [
        preamble + "bounded: bar: Invalid type. Expected: integer, given: number",
        preamble + "bounded: foo: String length must be less than or equal to 3",
        preamble + 'choices: foo: foo must be one of the following: "bar", "baz"',
        preamble + 'choices: qux: qux does not match: "bar"',
        preamble + "defaults: count: Must be greater than or equal to 1",
        preamble + "required-string: foo is required",
    ]


def test_config_merges_defaults_initial_config_and_files_in_the_engines_order(config_pack: PackInfo) -> None:
    """analyzer/config.go ReconcilePolicyPackConfig: schema defaults, then the pack's initialConfig, then the
    file; `all` sets every level and keeps properties; a file's properties are merged key by key; a policy or
    setting the pack does not declare is passed through (the schema has no additionalProperties)."""
    file = parse(
        json.dumps(
            {
                "all": "mandatory",
                "required-string": {"foo": "ok", "undeclared": True},
                "defaults": {"name": "x"},
                "from-initial-config": "advisory",
                "no-such-policy": "disabled",
            }
        ),
        "config.json",
    )
    result = reconcile(config_pack, [file])
    assert result["defaults"] == PolicyConfig("mandatory", {"count": 2, "name": "x"})
    assert result["disabled-by-default"] == PolicyConfig("mandatory", None)
    assert result["from-initial-config"] == PolicyConfig("advisory", {"mode": "initial"})
    assert result["required-string"] == PolicyConfig("mandatory", {"foo": "ok", "undeclared": True})
    assert result["no-such-policy"] == PolicyConfig("disabled", None)
    assert result["all"] == PolicyConfig("mandatory", None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"x": "blocking"}, 'parsing enforcement level for "x": "blocking" is not a valid enforcement level'),
        ({"x": "Mandatory"}, 'parsing enforcement level for "x": "Mandatory" is not a valid enforcement level'),
        (
            {"x": {"enforcementLevel": 3}},
            'parsing enforcement level for "x": 3 is not a valid enforcement level; must be a string',
        ),
        ({"x": 3}, 'parsing "x": 3 is not a valid value; must be a string or object'),
        ({"x": [1, 2]}, 'parsing "x": [1 2] is not a valid value; must be a string or object'),
    ],
)
def test_config_files_the_engine_cannot_parse(content: dict, message: str) -> None:
    """analyzer/config.go parsePolicyPackConfig and extractEnforcementLevel: the engine's words, after the
    file's name."""
    with pytest.raises(ConfigError) as caught:
        parse(json.dumps(content), "config.json")
    (line,) = caught.value.lines
    assert line.startswith(f"config.json: {message}")


def test_an_empty_config_file_is_no_config() -> None:
    """parsePolicyPackConfig: "Gracefully allow empty content"; entries with neither level nor properties
    are dropped."""
    assert parse("  \n", "config.json") == {}
    assert parse('{"x": {}}', "config.json") == {}


def test_the_cli_prints_every_config_error_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"bounded": {"foo": "abcd"}}))
    argv = ["--cwd", str(PROGRAM), "--stack", "dev", "--policy-pack", str(HERE / "config_pack")]
    assert main([*argv, "--policy-pack-config", str(path), "--json"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: dev: validating policy config: config-policy 0.0.1  bounded: foo: String length must be less "
        "than or equal to 3",
        "error: dev: validating policy config: config-policy 0.0.1  required-string: foo is required",
    ]


def test_the_reconciled_config_is_what_policies_get(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"required-string": {"foo": "ok"}, "defaults": {"name": "x"}}))
    outcome = planned("config_pack", "--policy-pack-config", str(path))
    seen = {d.policy_name: json.loads(d.message.partition("\n")[2]) for d in outcome.diagnostics}
    assert seen["defaults"] == {"count": 2, "name": "x"}
    assert seen["from-initial-config"] == {"mode": "initial"}
    assert seen["required-string"] == {"foo": "ok"}
    assert "disabled-by-default" not in seen


def test_an_entry_for_a_policy_the_pack_lacks_with_settings_but_no_level_fails(tmp_path: Path) -> None:
    """analyzer_plugin.go Configure: `invalid enforcement level`; such an entry keeps the level "" through the
    merge (analyzer/config.go applyConfig), and the engine refuses to configure the pack."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"required-string": {"foo": "ok"}, "not-yet-in-the-pack": {"setting": 1}}))
    outcome = planned("config_pack", "--policy-pack-config", str(path))
    assert outcome.exit_code == 2
    assert outcome.error is not None
    assert outcome.error.startswith('configuring policy pack "config-policy" at ')
    assert 'invalid enforcement level "" for not-yet-in-the-pack' in outcome.error


def test_json_schema_formats_are_checked(config_pack: PackInfo) -> None:
    """gojsonschema checks `format` by default."""
    from tools.offline_preview.policy_config import PolicyInfo, validate

    policy = PolicyInfo("dated", "advisory", {"since": {"type": "string", "format": "date"}})
    assert validate(policy, {"since": "yesterday"}) == ["since: Does not match format 'date'"]
    assert validate(policy, {"since": "2026-11-25"}) == []


def test_an_explicit_provider_gets_its_version_input(analyzed: dict[str, Any]) -> None:
    """resource_monitor.go RegisterResource: `providers.SetProviderVersion` for provider types."""
    assert "version" in analyzed[urn("pulumi:providers:aws", "explicit")]["keys"]


def test_configs_are_one_per_pack_or_none(capsys: pytest.CaptureFixture[str]) -> None:
    """pkg/cmd: MakeLocalPolicyPacks wants one config per pack when any is given."""
    argv = [
        "--cwd",
        str(PROGRAM),
        "--stack",
        "dev",
        "--policy-pack",
        str(HERE / "observer_pack"),
        "--policy-pack",
        str(HERE / "remediate_pack"),
        "--policy-pack-config",
        "x.json",
    ]
    assert main(argv) == 2
    assert "one --policy-pack-config per --policy-pack" in capsys.readouterr().err
