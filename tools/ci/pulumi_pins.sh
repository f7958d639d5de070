# Sourced by install_pulumi_cli.sh and pin_pulumi.sh: the pinned versions and the committed checksums.
#   $version       the Pulumi CLI's, from .github/pulumi-cli-version
#   $aws_version   the AWS provider plugin's: pulumi-aws in requirements-ci.txt, the version its SDK asks for
#   $pins          .github/pulumi-checksums.txt, "<sha256>  <archive>" lines as sha256sum writes them
#   pinned FILE    the committed SHA-256 of an archive, or nothing
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pin_file="$root/.github/pulumi-cli-version"
pins="$root/.github/pulumi-checksums.txt"
lock="$root/requirements-ci.txt"
version="$(tr -d '[:space:]' < "$pin_file")"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "error: $pin_file: expected a version like 3.272.0, got '$version'" >&2
  exit 2
fi
aws_version="$(sed -n 's/^pulumi-aws==\([^ ]*\).*/\1/p' "$lock")"
if ! [[ "$aws_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "error: $lock: expected one line pulumi-aws==<version> (make lock), got '$aws_version'" >&2
  exit 2
fi
cli_release="https://github.com/pulumi/pulumi/releases/download/v$version"
aws_release="https://github.com/pulumi/pulumi-aws/releases/download/v$aws_version"

if [ -f "$pins" ] && LC_ALL=C grep -q $'\r' "$pins"; then
  echo "error: $pins: carriage returns (CRLF line endings) would hide every pin; write it with make pin-pulumi" >&2
  exit 2
fi
pinned() { [ -f "$pins" ] && awk -v f="$1" '$1 !~ /^#/ && $2 == f { print $1 }' "$pins" || true; }
# Whether the file pins anything: once it does, an archive it does not pin is refused, never fetched unchecked.
pinning() { [ -f "$pins" ] && awk '$1 !~ /^#/ && NF { found = 1 } END { exit !found }' "$pins"; }
