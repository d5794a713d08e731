"""The NWB schema ships with nwbzarr (issue 17): every file carries it, with or without PyNWB installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nwbzarr.model import NWB_VERSION
from nwbzarr.schema.specifications import SPEC_GROUP, _shipped, cached_specifications, export_pynwb_schema


def test_the_shipped_schema_is_pynwbs_for_the_version_nwbzarr_writes() -> None:
    pytest.importorskip("pynwb")
    from_pynwb = export_pynwb_schema()
    if NWB_VERSION not in from_pynwb.get("core", {}):
        pytest.skip(f"the installed PyNWB has core {sorted(from_pynwb['core'])}, nwbzarr writes {NWB_VERSION}")
    assert _shipped() == from_pynwb, "stale: run scripts/build_schema.py"
    assert list(_shipped()["core"]) == [NWB_VERSION]
    namespace = json.loads(_shipped()["core"][NWB_VERSION]["namespace"])
    assert namespace["namespaces"][0]["version"] == NWB_VERSION


def test_the_licenses_ship_beside_it() -> None:
    folder = Path(sys.modules["nwbzarr"].__file__ or "").parent / "schema"
    for name in ("LICENSE-nwb-schema.txt", "LICENSE-hdmf-common-schema.txt"):
        assert "Redistribution and use in source and binary forms" in (folder / name).read_text()


def test_each_call_gives_a_tree_of_its_own() -> None:
    a, b = cached_specifications(), cached_specifications()
    assert a is not b and set(a.members) == {"core", "hdmf-common", "hdmf-experimental"}


def test_a_store_written_without_pynwb_validates_complete(tmp_path: Path) -> None:
    """`make demo` installs no PyNWB: its store must still carry the schema (no warning from validate)."""
    script = f"""
import sys
sys.modules["pynwb"] = None  # as if not installed: any import of it fails
sys.modules["hdmf"] = None
from nwbzarr import NWBZarrIO
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.operations.validate import validate
with NWBZarrIO({str(tmp_path / "s.nwb.zarr")!r}, "w") as io:
    io.write(build_tutorial_file(frames=4, size=8))
print([str(p) for p in validate({str(tmp_path / "s.nwb.zarr")!r})])
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
    assert (tmp_path / "s.nwb.zarr" / SPEC_GROUP / "core" / NWB_VERSION / "nwb.base" / "zarr.json").is_file()
