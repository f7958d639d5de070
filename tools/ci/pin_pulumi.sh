#!/usr/bin/env bash
# Writes .github/pulumi-checksums.txt, what the workflows' installs are checked against: the SHA-256 of the
# Pulumi CLI's Linux archives (.github/pulumi-cli-version) and of the AWS provider plugin's (pulumi-aws in
# requirements-ci.txt), x64/amd64 and arm64, each computed from the downloaded archive; the CLI's must also be the
# one its release publishes (pulumi-<version>-checksums.txt), or nothing is written.
#
#   make pin-pulumi        # after moving either version; review the diff, commit it
#
# Dependabot moves pulumi-aws in pyproject.toml and the lock; tests/tools/ci/test_install_pulumi_cli.py then fails
# until the checksums name the new version, so a bump never installs an archive nobody pinned.
set -euo pipefail
# shellcheck source=tools/ci/pulumi_pins.sh
source "$(dirname "${BASH_SOURCE[0]}")/pulumi_pins.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 3 -o "$work/published.txt" "$cli_release/pulumi-$version-checksums.txt"
lines=()
for arch in x64 arm64; do
  archive="pulumi-v$version-linux-$arch.tar.gz"
  curl -fsSL --retry 3 -o "$work/$archive" "$cli_release/$archive"
  sum="$(sha256sum "$work/$archive" | cut -d' ' -f1)"
  published="$(awk -v f="$archive" '$2 == f { print $1 }' "$work/published.txt")"
  if [ "$sum" != "$published" ]; then
    echo "error: $archive: SHA-256 $sum is not the published '$published'; nothing written" >&2
    exit 1
  fi
  lines+=("$sum  $archive")
done
for arch in amd64 arm64; do
  plugin="pulumi-resource-aws-v$aws_version-linux-$arch.tar.gz"
  curl -fsSL --retry 3 -o "$work/$plugin" "$aws_release/$plugin"
  lines+=("$(sha256sum "$work/$plugin" | cut -d' ' -f1)  $plugin")
done
{
  echo "# SHA-256 of the Pulumi CLI and AWS provider plugin archives the workflows install"
  echo "# (tools/ci/install_pulumi_cli.sh). Written by make pin-pulumi; review, then commit."
  printf '%s\n' "${lines[@]}"
} > "$work/pins"
mv "$work/pins" "$pins"
echo "wrote $pins: Pulumi CLI $version, AWS plugin $aws_version"
