#!/usr/bin/env bash
# Install Debian's chromium, which tests/display uses to render the notebook HTML views headless.
# Only chromium and the libraries it needs (--no-install-recommends: no systemd, cups or perl): 25
# packages and 48 s on the Debian 12 image CI uses (chromium itself is ~350 MB installed); apt's output
# goes to .venv/apt-chromium.log instead of the terminal.
# Safe to run again: does nothing when chromium is already on PATH. Needs root or sudo; without them,
# or off Debian/Ubuntu, it says so and the screenshot test is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v chromium >/dev/null 2>&1; then
    echo "install_chromium: chromium already installed ($(command -v chromium))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: no apt-get here; install chromium yourself (or set NWBZARR_CHROMIUM)" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "install_chromium: needs root or password-less sudo to run apt-get" >&2
    exit 1
fi
log=".venv/apt-chromium.log"
mkdir -p .venv
echo "install_chromium: apt-get install --no-install-recommends chromium (system package, for the screenshot test; log: $log)"
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
    tail -5 "$log" >&2
    exit 1
fi
echo "install_chromium: $(chromium --version) installed in $(( $(date +%s) - start )) s"
