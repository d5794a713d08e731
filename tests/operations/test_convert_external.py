"""Issue 20/21: external links (keep, copy, refuse) and HDF5 data stored outside the file."""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

from nwbzarr.errors import InvalidStoreError
from nwbzarr.operations.convert import convert

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

DATA = np.arange(12, dtype=np.float32).reshape(6, 2)


@pytest.fixture
def linked_file(tmp_path: Path) -> Path:
    """``source/linking.nwb`` whose TimeSeries data is an HDF5 external link into ``source/data.nwb`` (PyNWB)."""
    from datetime import datetime

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    folder = tmp_path / "source"
    folder.mkdir()

    def new() -> NWBFile:
        return NWBFile("linking", "id-" + str(len(list(folder.iterdir()))), datetime(2024, 1, 1, tzinfo=UTC))

    with NWBHDF5IO(str(folder / "data.nwb"), "w") as io:
        nwbfile = new()
        nwbfile.add_acquisition(TimeSeries(name="raw", data=DATA, unit="V", rate=10.0))
        io.write(nwbfile)
    with NWBHDF5IO(str(folder / "data.nwb"), "r") as data_io:
        raw = data_io.read().acquisition["raw"]
        nwbfile = new()
        nwbfile.add_acquisition(TimeSeries(name="linked", data=raw.data, unit="V", rate=10.0))
        with NWBHDF5IO(str(folder / "linking.nwb"), "w") as io:
            io.write(nwbfile, link_data=True)
    import h5py

    with h5py.File(folder / "linking.nwb", "r") as file:
        link = file["acquisition/linked"].get("data", getlink=True)
        assert isinstance(link, h5py.ExternalLink) and link.filename == "data.nwb"
    return folder / "linking.nwb"


def _read_linked(path: Path) -> np.ndarray:
    from pynwb import NWBHDF5IO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(path), "r") as io:
            return np.asarray(io.read().acquisition["linked"].data[:])


def test_keep_rewrites_the_target_so_it_still_resolves(linked_file: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "back").mkdir()
    store, back = tmp_path / "out" / "linking.nwb.zarr", tmp_path / "back" / "linking.nwb"
    said: list[str] = []
    convert(linked_file, store, explain=said.append)  # "keep" is the default
    links = json.loads((store / "acquisition" / "linked" / "zarr.json").read_text())["attributes"]["_LINKS"]
    entry = next(e for e in links if e["name"] == "data")
    assert entry["source"] == str(Path("..", "..", "source", "data.nwb"))  # from the store's root
    assert any("/acquisition/linked/data" in text and "now names" in text for text in said)
    convert(store, back)
    here = Path.cwd()
    os.chdir(tmp_path / "out")  # HDF5 resolves it from the linking file's folder, not the working one
    try:
        assert np.array_equal(_read_linked(back), DATA)
    finally:
        os.chdir(here)


def test_copy_brings_the_linked_object_in(linked_file: Path, tmp_path: Path) -> None:
    store, back = tmp_path / "copied.nwb.zarr", tmp_path / "copied.nwb"
    convert(linked_file, store, external_links="copy")
    attrs = json.loads((store / "acquisition" / "linked" / "zarr.json").read_text())["attributes"]
    assert "data" not in {e["name"] for e in attrs.get("_LINKS", [])}
    assert (store / "acquisition" / "linked" / "data" / "zarr.json").exists()
    (linked_file.parent / "data.nwb").unlink()  # the copy no longer needs the other file
    convert(store, back)
    assert np.array_equal(_read_linked(back), DATA)


def test_refuse_names_each_link(linked_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidStoreError, match=r"/acquisition/linked/data -> data\.nwb:/acquisition/raw/data"):
        convert(linked_file, tmp_path / "refused.nwb.zarr", external_links="refuse")
    assert not (tmp_path / "refused.nwb.zarr").exists()


def test_external_raw_storage_is_refused_unless_allowed(tmp_path: Path) -> None:
    import h5py

    (tmp_path / "values.bin").write_bytes(np.arange(8, dtype="<i4").tobytes())
    src = tmp_path / "external.h5"
    with h5py.File(src, "w") as file:
        file.create_dataset("values", shape=(8,), dtype="<i4", external=[("values.bin", 0, 32)])
    here = Path.cwd()
    os.chdir(tmp_path)  # h5py finds raw external files from the working folder
    try:
        with pytest.raises(InvalidStoreError, match=r"/values \(external raw storage in values\.bin\)"):
            convert(src, tmp_path / "refused.nwb.zarr", raw=True)
        convert(src, tmp_path / "allowed.nwb.zarr", raw=True, allow_external_data=True)
    finally:
        os.chdir(here)
    import zarr

    assert np.asarray(zarr.open_array(str(tmp_path / "allowed.nwb.zarr" / "values"))[:]).tolist() == list(range(8))


def test_virtual_datasets_are_refused_unless_allowed(tmp_path: Path) -> None:
    import h5py

    with h5py.File(tmp_path / "part.h5", "w") as part:
        part.create_dataset("x", data=np.arange(4, dtype=np.int16))
    layout = h5py.VirtualLayout(shape=(4,), dtype=np.int16)
    layout[:] = h5py.VirtualSource(str(tmp_path / "part.h5"), "x", shape=(4,))
    src = tmp_path / "virtual.h5"
    with h5py.File(src, "w") as file:
        file.create_virtual_dataset("v", layout)
    with pytest.raises(InvalidStoreError, match="virtual dataset"):
        convert(src, tmp_path / "refused.nwb.zarr", raw=True)
    convert(src, tmp_path / "allowed.nwb.zarr", raw=True, allow_external_data=True)
    import zarr

    assert np.asarray(zarr.open_array(str(tmp_path / "allowed.nwb.zarr" / "v"))[:]).tolist() == [0, 1, 2, 3]


def test_the_cli_takes_the_link_mode(linked_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nwbzarr.cli import main

    argv = ["convert", str(linked_file), str(tmp_path / "a.nwb.zarr"), "--quiet"]
    assert main([*argv, "--external-links", "refuse"]) != 0
    assert "/acquisition/linked/data" in capsys.readouterr().err
    assert main([*argv, "--external-links", "copy"]) == 0
    assert (tmp_path / "a.nwb.zarr" / "acquisition" / "linked" / "data" / "zarr.json").exists()
