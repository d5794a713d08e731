"""The examples and the README's code run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(script: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_tutorial_example_runs(tmp_path: Path) -> None:
    result = _run(ROOT / "examples" / "ophys_tutorial_zarr.py", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "section of fluorescence responses:" in result.stdout
    assert (tmp_path / "ophys_tutorial.nwb.zarr" / "zarr.json").exists()


def test_readme_python_blocks_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks, "the README has no python example"
    for i, code in enumerate(blocks):
        script = tmp_path / f"readme_{i}.py"
        script.write_text(code)
        result = _run(script, tmp_path)
        assert result.returncode == 0, f"README block {i} failed:\n{result.stderr}"


@pytest.mark.parametrize("command", [["--help"], ["demo", "--help"], ["info", "--help"]])
def test_cli_help(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "nwbzarr.cli", *command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "usage" in result.stdout


def test_cli_info_and_errors(tmp_path: Path, store_path: Path) -> None:
    from nwbzarr import NWBZarrIO
    from nwbzarr.testing.tutorial import build_tutorial_file

    with NWBZarrIO(store_path, "w") as io:
        io.write(build_tutorial_file(frames=20, size=16))
    result = subprocess.run(
        [sys.executable, "-m", "nwbzarr.cli", "info", str(store_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert (
        "TwoPhotonSeries1/  <TwoPhotonSeries>" in result.stdout
        and "imaging_plane -> /general/optophysiology/ImagingPlane" in result.stdout
    )
    as_json = subprocess.run(
        [sys.executable, "-m", "nwbzarr", "info", "--json", str(store_path)], capture_output=True, text=True, timeout=60
    )
    report = __import__("json").loads(as_json.stdout)
    assert report["objects"] > 50 and report["stored_bytes"] > 0 and report["raw_bytes"] > 0
    data = next(n for n in report["nodes"] if n["path"] == "/acquisition/TwoPhotonSeries1/data")
    assert data["shape"] == [20, 16, 16] and data["stored_bytes"] > 0
    missing = subprocess.run(
        [sys.executable, "-m", "nwbzarr.cli", "info", str(tmp_path / "nope.zarr")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "nope.zarr: does not exist" in missing.stderr


def test_tiff_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "tiff_folder_to_nwb.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and (tmp_path / "scan.nwb.zarr" / "nwbzarr.json").exists()


def test_cloud_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cloud_workflow.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "objects verified" in result.stdout and "mean image (128, 128)" in result.stdout


def test_api_reference_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "(no docstring)" not in (ROOT / "docs" / "reference.md").read_text()
