"""zarrita.js (the Zarr library of the web viewers) reads a frame and a time course of the demo store."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwbzarr import NWBZarrIO

from .conftest import MOVIE_SHARDS

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".node" / "node_modules"
SCRIPT = Path(__file__).with_name("zarrita_read.mjs")

if shutil.which("node") is None:
    pytest.skip("node is not installed (scripts/install_node_deps.sh needs node and npm)", allow_module_level=True)
if not (NODE_MODULES / "zarrita").is_dir():
    pytest.skip(
        "zarrita.js is not installed: run scripts/install_node_deps.sh (make test does)", allow_module_level=True
    )


def _zarrita(store: Path, path: str, frame: int, row: int | None, col: int) -> dict[str, Any]:
    args = [str(NODE_MODULES), str(store), path, str(frame), "-" if row is None else str(row), str(col)]
    done = subprocess.run(["node", str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def _ours(store: Path, path: str) -> np.ndarray:
    with NWBZarrIO(store, "r") as io:
        node: Any = io.read_tree()
        for part in path.split("/"):
            node = node.members[part]
        return np.asarray(node.data.read())


def test_frame_and_time_course_of_the_sharded_movie(demo_store: Path) -> None:
    path = "acquisition/TwoPhotonSeries/data"
    movie = _ours(demo_store, path)
    frame = MOVIE_SHARDS[0] + 5  # in the second shard
    got = _zarrita(demo_store, path, frame, 10, 37)
    assert got["shape"] == list(movie.shape) and got["dtype"] == "uint16"
    assert np.array_equal(np.asarray(got["frame"], dtype=movie.dtype).reshape(movie.shape[1:]), movie[frame])
    assert np.array_equal(np.asarray(got["course"], dtype=movie.dtype), movie[:, 10, 37])


def test_traces(demo_store: Path) -> None:
    path = "processing/ophys/Fluorescence/RoiResponseSeries/data"
    traces = _ours(demo_store, path)
    got = _zarrita(demo_store, path, 9, None, 2)
    assert got["dtype"] == "float32"
    assert np.array_equal(
        np.asarray(got["frame"], dtype=np.float32), traces[9]
    )  # float32 -> JS double -> float32: exact
    assert np.array_equal(np.asarray(got["course"], dtype=np.float32), traces[:, 2])


@pytest.mark.parametrize("nonfinite", ["strict", "bare"])
def test_nan_attributes_and_strict_json(tmp_path: Path, nonfinite: str) -> None:
    """JSON.parse rejects bare NaN: only the strict encoding (the default) keeps the store readable."""
    from .conftest import demo_file

    nwbfile = demo_file()
    object.__setattr__(nwbfile.acquisition["TwoPhotonSeries"], "resolution", float("nan"))  # on the movie array
    store = tmp_path / "nan.nwb.zarr"
    with NWBZarrIO(store, "w", nonfinite=nonfinite) as io:  # type: ignore[arg-type]
        io.write(nwbfile)
    args = [str(NODE_MODULES), str(store), "acquisition/TwoPhotonSeries/data", "0", "1", "1"]
    done = subprocess.run(["node", str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    if nonfinite == "strict":
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0 and "JSON" in done.stderr
