"""``nwbzarr plot`` on an NWB HDF5 file: a local path and the same file at an HTTP URL draw the same figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nwbzarr.testing.range_server import RangeServer
from nwbzarr.testing.remote_hdf5 import write_layouts_file

pytest.importorskip("matplotlib")


def test_plot_reads_local_and_remote_hdf5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nwbzarr.cli import main

    served = tmp_path / "served"
    served.mkdir()
    local = write_layouts_file(served / "session.nwb")
    reports = []
    with RangeServer(served) as server:
        for name, target in (("local", str(local)), ("remote", f"{server.url}/session.nwb")):
            out = tmp_path / f"{name}.png"
            assert main(["plot", target, "-o", str(out), "--json"]) == 0
            assert out.stat().st_size > 10_000
            reports.append(json.loads(capsys.readouterr().out))
    local_report, remote_report = reports
    assert remote_report["series"] == local_report["series"] is not None
    assert remote_report["frames_used"] == local_report["frames_used"] > 0
    assert remote_report["rois_outlined"] == local_report["rois_outlined"] > 0
    assert remote_report["decoded_bytes"] == local_report["decoded_bytes"]
