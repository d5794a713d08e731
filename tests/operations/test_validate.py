"""nwbzarr validate: every problem with its path; a missing schema cache is said."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import zarr

from nwbzarr import NWBHDF5IO, NWBZarrIO
from nwbzarr.model import NWBFile
from nwbzarr.operations.validate import validate


def test_valid_files_have_no_problems(tutorial_file: NWBFile, tmp_path: Path) -> None:
    with NWBZarrIO(tmp_path / "a.nwb.zarr", "w") as io:
        io.write(tutorial_file)
    with NWBHDF5IO(tmp_path / "a.nwb", "w") as io:
        io.write(tutorial_file)
    assert validate(tmp_path / "a.nwb.zarr") == []
    assert validate(tmp_path / "a.nwb") == []


def test_every_problem_is_reported_with_its_path(tutorial_file: NWBFile, tmp_path: Path) -> None:
    path = tmp_path / "bad.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(tutorial_file)
    root = zarr.open_group(path, mode="r+")
    root["acquisition/TwoPhotonSeries1/starting_time"].attrs["rate"] = -3.0
    del root["processing/ophys/Fluorescence/RoiResponseSeries/data"].attrs["unit"]  # required, no default
    root["processing/ophys/Fluorescence/RoiResponseSeries/starting_time"].attrs["rate"] = 0.0
    import shutil

    shutil.rmtree(path / "specifications")
    zarr.consolidate_metadata(path)
    (path / "nwbzarr.json").unlink()  # the store was edited by hand: it is no longer nwbzarr's write
    problems = validate(path)
    text = [str(p) for p in problems]
    assert any(p.path == "/specifications" and p.severity == "warning" for p in problems), text
    assert any(p.path == "/acquisition/TwoPhotonSeries1" and "rate" in p.message for p in problems), text
    assert any(
        p.path == "/processing/ophys/Fluorescence/RoiResponseSeries" and "rate" in p.message for p in problems
    ), text
    assert any(
        p.path.endswith("Fluorescence/RoiResponseSeries") and "'unit': is required" in p.message for p in problems
    )
    assert len([p for p in problems if p.severity == "error"]) == 3, text
    result = subprocess.run(
        [sys.executable, "-m", "nwbzarr", "validate", "--json", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["valid"] is False
