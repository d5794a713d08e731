"""Small stores nwbzarr wrote (the demo session, the tutorial, a converted PyNWB file) for the ecosystem readers."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import DataIO, NWBZarrIO, convert
from nwbzarr.model import NWBFile
from nwbzarr.testing import SyntheticSession, make_session
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file
from nwbzarr.tree.nodes import Dataset, Group, walk

#: the demo session, small: 48 frames of 64 x 64 in sharded storage (shards of 16 frames, chunks of 4 x 32 x 32)
DEMO = SyntheticSession(n_frames=48, height=64, width=64, n_cells=6)
MOVIE_CHUNKS, MOVIE_SHARDS = (4, 32, 32), (16, 64, 64)


def demo_file() -> NWBFile:
    nwbfile = make_session(DEMO)
    series = nwbfile.acquisition["TwoPhotonSeries"]
    movie = np.asarray(series.data)  # type: ignore[attr-defined]
    object.__setattr__(series, "data", DataIO(movie, chunks=MOVIE_CHUNKS, shards=MOVIE_SHARDS))
    return nwbfile


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(demo_file())
    return path


@pytest.fixture(scope="session")
def tutorial_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tutorial") / "tutorial.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(build_tutorial_file(frames=20, size=16))
    return path


@pytest.fixture(scope="session")
def converted_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tutorial written by PyNWB to HDF5, then converted by nwbzarr."""
    pynwb = pytest.importorskip("pynwb")
    folder = tmp_path_factory.mktemp("converted")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(folder / "tutorial.nwb"), "w") as io:
            io.write(build_tutorial_file("pynwb", frames=20, size=16))
    convert(folder / "tutorial.nwb", folder / "tutorial.nwb.zarr")
    return folder / "tutorial.nwb.zarr"


@pytest.fixture(scope="session")
def converted_ecephys_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PyNWB ecephys file (electrodes with references, units with ragged spike times), converted."""
    pytest.importorskip("pynwb")
    from tests.interop.pynwb_files import write_ecephys_file

    folder = tmp_path_factory.mktemp("ecephys")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_ecephys_file(folder / "ecephys.nwb")
    convert(folder / "ecephys.nwb", folder / "ecephys.nwb.zarr")
    return folder / "ecephys.nwb.zarr"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        server.create_bucket("eco")
        yield server


def tree_of(path: Path) -> Group:
    with NWBZarrIO(path, "r") as io:
        return io.read_tree()


def arrays_of(tree: Group) -> Iterator[tuple[str, Dataset]]:
    """Every dataset of a tree with its path (no leading slash)."""
    for path, node in walk(tree):
        if isinstance(node, Dataset):
            yield path.lstrip("/"), node
