#!/usr/bin/env bash
# Install the Debian packages listed in deps/*.txt that are missing.
# Run as root (CI, a fresh container) or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(cat deps/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "make deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Update the package lists once per machine (or when they are missing).
if [ ! -f /var/lib/apt/periodic/quern-updated ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
  $SUDO apt-get update -q >&2
  $SUDO mkdir -p /var/lib/apt/periodic && $SUDO touch /var/lib/apt/periodic/quern-updated
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
