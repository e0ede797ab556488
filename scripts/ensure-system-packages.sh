#!/usr/bin/env bash
# Install the Debian packages the project needs where they are missing (gettext for the
# translation catalogues). Runs apt only when something is missing and we are root.
set -euo pipefail
missing=()
command -v msgfmt >/dev/null || missing+=(gettext)
for pkg in "$@"; do
  case "$pkg" in
    chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
    *) dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Please install: ${missing[*]} (Debian packages)" >&2
  exit 1
fi
echo "Installing ${missing[*]}…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
