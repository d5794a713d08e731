#!/usr/bin/env bash
# Create .venv with a Python >= 3.12 and install nwbzarr with the extras named in $1
# (default: "all,test"). Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all,test}"
venv=".venv"

python_ok() {  # is "$1" an interpreter >= 3.12?
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local candidate
  for candidate in "${NWBZARR_PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate" \
      && { command -v "$candidate"; return; }
  done
  if command -v pyenv >/dev/null 2>&1; then  # pyenv shims need PYENV_VERSION; ask pyenv for prefixes
    for candidate in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])' | sort -rV); do
      local prefix
      prefix=$(pyenv prefix "$candidate" 2>/dev/null) || continue
      python_ok "$prefix/bin/python" && { echo "$prefix/bin/python"; return; }
    done
  fi
  for candidate in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -x "$candidate" ] && python_ok "$candidate" && { echo "$candidate"; return; }
  done
  return 1
}

if [ ! -x "$venv/bin/python" ] || ! python_ok "$venv/bin/python"; then
  py=$(find_python) || { echo "bootstrap: no Python >= 3.12 found (set NWBZARR_PYTHON)" >&2; exit 1; }
  echo "bootstrap: creating $venv with $py" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
stamp="$venv/.installed-$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$venv/bin/python" -m uv pip install --quiet --python "$venv/bin/python" -e ".[$extras]"
  rm -f "$venv"/.installed-* && touch "$stamp"
fi
