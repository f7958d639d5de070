#!/usr/bin/env bash
# Installs the Pulumi CLI at the version pinned in .github/pulumi-cli-version, verified against the SHA-256
# Pulumi publishes with the release, into $PULUMI_HOME/bin (default ~/.pulumi/bin). Nothing is piped into a
# shell; a download whose checksum does not match is refused with one line and nothing is installed.
#
#   tools/ci/install_pulumi_cli.sh            # Linux x64 or arm64
#
# Release assets (github.com/pulumi/pulumi/releases): pulumi-v<version>-linux-<arch>.tar.gz and
# pulumi-<version>-checksums.txt, one "<sha256>  <file name>" line per asset.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pin_file="$root/.github/pulumi-cli-version"
version="$(tr -d '[:space:]' < "$pin_file")"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "error: $pin_file: expected a version like 3.272.0, got '$version'" >&2
  exit 2
fi
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "error: no Pulumi CLI build for $(uname -m) (x86_64 or arm64)" >&2; exit 2 ;;
esac

release="https://github.com/pulumi/pulumi/releases/download/v$version"
archive="pulumi-v$version-linux-$arch.tar.gz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

curl -fsSL --retry 3 -o "$work/$archive" "$release/$archive"
curl -fsSL --retry 3 -o "$work/checksums.txt" "$release/pulumi-$version-checksums.txt"

expected="$(awk -v f="$archive" '$2 == f { print $1 }' "$work/checksums.txt")"
if ! [[ "$expected" =~ ^[0-9a-f]{64}$ ]]; then
  echo "error: pulumi-$version-checksums.txt has no SHA-256 for $archive; not installed" >&2
  exit 1
fi
actual="$(sha256sum "$work/$archive" | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
  echo "error: $archive: SHA-256 $actual is not the published $expected; not installed" >&2
  exit 1
fi

tar -xzf "$work/$archive" -C "$work"
bin="${PULUMI_HOME:-$HOME/.pulumi}/bin"
mkdir -p "$bin"
cp "$work"/pulumi/* "$bin"/
echo "Pulumi CLI $version ($arch, SHA-256 verified) in $bin"
