#!/usr/bin/env bash
# Installs the Pulumi CLI at the version pinned in .github/pulumi-cli-version into $PULUMI_HOME/bin (default
# ~/.pulumi/bin), and the AWS provider plugin at the version of pulumi-aws in requirements-ci.txt (what the
# program's SDK asks the engine for). Each archive's SHA-256 is checked against .github/pulumi-checksums.txt,
# committed and reviewed (`make pin-pulumi` writes it), before anything is unpacked; a mismatch installs nothing.
# Nothing is piped into a shell.
#
#   tools/ci/install_pulumi_cli.sh            # Linux x64 or arm64
#
# Until the committed file pins anything, the CLI is checked against what its release publishes (its
# pulumi-<version>-checksums.txt) and the plugin installed by `pulumi plugin install` unverified, each with a
# warning naming `make pin-pulumi`; once it pins anything, an archive it does not pin is refused. The workflows set PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: the engine
# never fetches another plugin on its own.
#
# Release assets: github.com/pulumi/pulumi/releases/download/v<v>/pulumi-v<v>-linux-<x64|arm64>.tar.gz and
# pulumi-<v>-checksums.txt ("<sha256>  <file name>" lines); github.com/pulumi/pulumi-aws/releases/download/v<v>/
# pulumi-resource-aws-v<v>-linux-<amd64|arm64>.tar.gz (the URL Pulumi's own plugin download builds for a
# GitHub-hosted provider, pkg/workspace/plugins.go).
set -euo pipefail

# shellcheck source=tools/ci/pulumi_pins.sh
source "$(dirname "${BASH_SOURCE[0]}")/pulumi_pins.sh"
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 goarch=amd64 ;;
  aarch64 | arm64) arch=arm64 goarch=arm64 ;;
  *) echo "error: no Pulumi CLI build for $(uname -m) (x86_64 or arm64)" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# fetch URL NAME EXPECTED SOURCE: download, then refuse unless the SHA-256 is EXPECTED (SOURCE says whose).
fetch() {
  curl -fsSL --retry 3 -o "$work/$2" "$1"
  local actual
  actual="$(sha256sum "$work/$2" | cut -d' ' -f1)"
  if [ "$actual" != "$3" ]; then
    echo "error: $2: SHA-256 $actual is not the $4 $3; not installed" >&2
    exit 1
  fi
}

archive="pulumi-v$version-linux-$arch.tar.gz"
plugin="pulumi-resource-aws-v$aws_version-linux-$goarch.tar.gz"
for name in "$archive" "$plugin"; do
  if pinning && [ -z "$(pinned "$name")" ]; then
    echo "error: $pins pins no SHA-256 for $name (a version moved?): run make pin-pulumi; not installed" >&2
    exit 1
  fi
done
expected="$(pinned "$archive")"
whose="pinned"
if [ -z "$expected" ]; then
  echo "::warning::.github/pulumi-checksums.txt pins no SHA-256 for $archive: checked against its release's own checksums; run make pin-pulumi" >&2
  curl -fsSL --retry 3 -o "$work/checksums.txt" "$cli_release/pulumi-$version-checksums.txt"
  expected="$(awk -v f="$archive" '$2 == f { print $1 }' "$work/checksums.txt")"
  whose="published"
  if ! [[ "$expected" =~ ^[0-9a-f]{64}$ ]]; then
    echo "error: pulumi-$version-checksums.txt has no SHA-256 for $archive; not installed" >&2
    exit 1
  fi
fi
fetch "$cli_release/$archive" "$archive" "$expected" "$whose"

plugin_sha="$(pinned "$plugin")"
if [ -n "$plugin_sha" ]; then
  fetch "$aws_release/$plugin" "$plugin" "$plugin_sha" pinned
fi

# Both archives checked: only now is anything unpacked or installed.
tar -xzf "$work/$archive" -C "$work"
bin="${PULUMI_HOME:-$HOME/.pulumi}/bin"
mkdir -p "$bin"
cp "$work"/pulumi/* "$bin"/
plugin_state="SHA-256 pinned"
if [ -n "$plugin_sha" ]; then
  "$bin/pulumi" plugin install resource aws "$aws_version" --file "$work/$plugin"
else
  plugin_state="unverified"
  echo "::warning::.github/pulumi-checksums.txt pins no SHA-256 for $plugin: installed by pulumi plugin install, unverified; run make pin-pulumi" >&2
  "$bin/pulumi" plugin install resource aws "$aws_version"
fi
echo "Pulumi CLI $version ($arch, SHA-256 $whose) and AWS plugin $aws_version ($plugin_state) in $bin"
