#!/usr/bin/env bash
# Regenerate tests/data/v2 with hdmf-zarr 0.13 (the last Zarr v2 writer). It needs zarr < 3, so it runs in
# a throw-away environment of its own (any Python 3.10/3.11: zarr 2 does not support newer ones).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${V2_PYTHON:-python3}"
env_dir="${TMPDIR:-/tmp}/nwbzarr-v2-fixtures"
[ -x "$env_dir/bin/python" ] || "$py" -m venv "$env_dir"
"$env_dir/bin/pip" install --quiet "hdmf-zarr==0.13.0" "pynwb==4.2.0" "zarr<3" "numcodecs<0.16"
"$env_dir/bin/python" scripts/make_v2_fixtures.py
