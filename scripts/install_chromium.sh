#!/usr/bin/env bash
# Install Debian's chromium, which tests/display uses to render the notebook HTML views headless.
# Safe to run again: does nothing when chromium is already on PATH. Needs root or sudo.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v chromium)"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install_chromium.sh: needs root or sudo to run apt-get" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium
chromium --version
