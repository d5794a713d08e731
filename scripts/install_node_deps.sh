#!/usr/bin/env bash
# Install the JavaScript readers the ecosystem tests use (zarrita.js) into .node/ (ignored by git).
# Without node/npm this does nothing: tests/ecosystem/test_zarrita.py then skips with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install_node_deps: node/npm not found; the zarrita.js test will be skipped" >&2
  exit 0
fi
mkdir -p .node
stamp=".node/.installed-zarrita"
if [ ! -f "$stamp" ] || [ "$0" -nt "$stamp" ]; then
  npm install --silent --no-audit --no-fund --prefix .node zarrita@0.5 @zarrita/storage@0.1 && touch "$stamp"
fi
