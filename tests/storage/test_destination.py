"""The destination guard (issue 17): no write destroys what it was not asked to replace.

Every refusal is checked on local disk and on the S3 test server, and the source (or whatever the
destination held) is checked intact afterwards: it reads back equal and verifies.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr import NWBHDF5IO, NWBZarrIO, verify
from nwbzarr.errors import DestinationError, StoreExistsError
from nwbzarr.model import NWBFile
from nwbzarr.operations.convert import convert
from nwbzarr.storage import make_store
from nwbzarr.storage.destination import ACCEPTED_SUFFIXES, locate
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file

_names = itertools.count()


@functools.cache
def small_file(seed: int = 0) -> NWBFile:
    """One file per seed for the whole module (object ids are random, so equal files must be one build)."""
    nwbfile = build_tutorial_file(frames=8, size=8, seed=seed)
    assert isinstance(nwbfile, NWBFile)
    return nwbfile


@dataclass
class Place:
    """Where the stores of one storage kind go: ``url(name)`` and the storage options."""

    kind: str
    url: Callable[[str], str]
    options: dict[str, Any] | None


@pytest.fixture(scope="module", params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Place:
    if request.param == "local":
        root = tmp_path_factory.mktemp("guard")
        return Place("local", lambda name: str(root / name), None)
    server: S3TestServer = request.getfixturevalue("s3_server")
    prefix = f"s3://lab/guard-{next(_names)}"
    return Place("s3", lambda name: f"{prefix}/{name}", server.storage_options())


@pytest.fixture(scope="module")
def source(place: Place) -> str:
    """One source store per place, written once: every test refuses to harm it and checks it after."""
    return _write(place.url("project/a.nwb.zarr"), place, small_file())


def _write(url: str, place: Place, nwbfile: NWBFile) -> str:
    with NWBZarrIO(url, "w", storage_options=place.options) as io:
        io.write(nwbfile)
    return url


def _intact(url: str, place: Place, nwbfile: NWBFile, *, every_byte: bool = True) -> None:
    with NWBZarrIO(url, "r", storage_options=place.options) as io:
        assert io.read() == nwbfile
    if every_byte:
        report = verify(url, storage_options=place.options)
        assert report.ok, report.problems


def _put(url: str, place: Place, key: str, data: bytes) -> None:
    store = make_store(url, read_only=False, storage_options=place.options)
    sync(store.set(key, default_buffer_prototype().buffer.from_bytes(data)))


def _get(url: str, place: Place, key: str) -> bytes | None:
    if place.kind == "local" and not Path(url).is_dir():
        return None
    store = make_store(url, read_only=True, storage_options=place.options)
    value = sync(store.get(key, prototype=default_buffer_prototype()))
    return None if value is None else value.to_bytes()


def test_convert_refuses_the_source_itself_inside_or_around_it(place: Place, source: str) -> None:
    relations = {
        source: "is the source",
        source + "/": "is the source",
        source + "/copy.nwb.zarr": "lies inside",
        place.url("project"): "contains",
    }
    for dst, relation in relations.items():
        with pytest.raises(DestinationError, match=f"{dst}: the destination {relation}"):
            convert(
                source,
                dst,
                overwrite=True,
                dst_format="zarr",
                storage_options=place.options,
                dst_storage_options=place.options,
            )
    _intact(source, place, small_file())


def test_local_spellings_of_the_source_are_recognized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nwbfile = small_file()
    src = _write(str(tmp_path / "a.nwb.zarr"), Place("local", str, None), nwbfile)
    (tmp_path / "alias.nwb.zarr").symlink_to(src)
    monkeypatch.chdir(tmp_path)
    for dst in (f"file://{src}", "alias.nwb.zarr", "./a.nwb.zarr", str(tmp_path / "x" / ".." / "a.nwb.zarr")):
        with pytest.raises(DestinationError, match="the destination is the source"):
            convert(src, dst, overwrite=True)
    _intact(src, Place("local", str, None), nwbfile)
    hdf5 = tmp_path / "copy.nwb"
    with NWBHDF5IO(hdf5, "w") as io:
        io.write(nwbfile)
    with pytest.raises(DestinationError, match="the destination is the source"):
        convert(hdf5, f"file://{hdf5}", overwrite=True)
    with NWBHDF5IO(hdf5) as io:
        assert io.read() == nwbfile


def test_a_non_empty_folder_that_is_no_nwb_store_is_refused(place: Place, source: str) -> None:
    src = source
    folder = place.url("notes.nwb.zarr")
    _put(folder, place, "notes.txt", b"precious")
    _put(folder, place, "sub/more.txt", b"also precious")
    with pytest.raises(DestinationError, match=f"{folder}: .*not a Zarr store of an NWB file|{folder}: holds objects"):
        convert(src, folder, overwrite=True, storage_options=place.options, dst_storage_options=place.options)
    with pytest.raises(DestinationError):
        NWBZarrIO(folder, "w", storage_options=place.options)
    assert _get(folder, place, "notes.txt") == b"precious"
    assert _get(folder, place, "sub/more.txt") == b"also precious"


def test_a_plain_zarr_group_is_not_replaced(place: Place, source: str) -> None:
    """A Zarr hierarchy that is no NWB file (no nwb_version) is someone's data, not a store to replace."""
    import zarr

    url = place.url("other.zarr")
    zarr.open_group(make_store(url, read_only=False, storage_options=place.options), mode="w")
    with pytest.raises(DestinationError, match="not a Zarr store of an NWB file"):
        NWBZarrIO(url, "w", storage_options=place.options)
    with pytest.raises(DestinationError, match="not a Zarr store of an NWB file"):
        convert(source, url, overwrite=True, storage_options=place.options, dst_storage_options=place.options)
    assert _get(url, place, "zarr.json") is not None


def test_existing_files_of_another_kind_are_refused(tmp_path: Path) -> None:
    nwbfile = small_file()
    src = _write(str(tmp_path / "a.nwb.zarr"), Place("local", str, None), nwbfile)
    text = tmp_path / "notes.nwb"
    text.write_text("precious")
    with pytest.raises(DestinationError, match=r"notes\.nwb: an existing file that is not an NWB file"):
        convert(src, text, overwrite=True)
    with pytest.raises(DestinationError, match="not an NWB file"):
        NWBHDF5IO(text, "w")
    assert text.read_text() == "precious"
    hdf5 = tmp_path / "b.nwb"
    with NWBHDF5IO(hdf5, "w") as io:
        io.write(nwbfile)
    before = hdf5.read_bytes()
    with pytest.raises(DestinationError, match="an existing HDF5 file; a Zarr store would replace it"):
        convert(src, hdf5, dst_format="zarr", overwrite=True)
    with pytest.raises(DestinationError, match="an existing Zarr store; an HDF5 file cannot replace"):
        convert(hdf5, src, dst_format="hdf5", overwrite=True)
    with pytest.raises(DestinationError, match="a non-empty folder"):
        NWBHDF5IO(tmp_path, "w")
    assert hdf5.read_bytes() == before
    _intact(src, Place("local", str, None), nwbfile)


def test_a_name_without_an_nwb_suffix_is_refused_with_the_accepted_ones(place: Place, source: str) -> None:
    src = source
    dst = place.url("out.txt")
    with pytest.raises(DestinationError, match=r"out.txt: the name ends in no NWB format's suffix") as caught:
        convert(src, dst, storage_options=place.options, dst_storage_options=place.options)
    assert all(suffix in str(caught.value) for suffix in ACCEPTED_SUFFIXES)
    assert _get(dst, place, "zarr.json") is None and _get(dst, place, "nwbzarr.json") is None
    if place.kind == "local":
        assert not Path(dst).exists()
    with pytest.raises(DestinationError, match="a Zarr store named like an HDF5 file"):
        NWBZarrIO(place.url("b.nwb"), "w", storage_options=place.options)


def test_an_existing_store_needs_overwrite_and_says_how(place: Place, source: str) -> None:
    nwbfile = small_file()
    src = source
    old = small_file(seed=5)
    dst = _write(place.url("b.nwb.zarr"), place, old)
    with pytest.raises(StoreExistsError, match=r"b\.nwb\.zarr already exists; pass --overwrite"):
        convert(src, dst, storage_options=place.options, dst_storage_options=place.options)
    with pytest.raises(StoreExistsError, match="use mode 'w'"):
        NWBZarrIO(dst, "w-", storage_options=place.options)
    _intact(dst, place, old, every_byte=False)
    told: list[str] = []
    convert(
        src, dst, overwrite=True, storage_options=place.options, dst_storage_options=place.options, explain=told.append
    )
    _intact(dst, place, nwbfile, every_byte=False)  # convert verified every byte of the copy already
    in_place = [line for line in told if "replacing the existing store in place" in line]
    assert bool(in_place) == (place.kind == "s3"), told  # object storage says it replaces in place


class _Fails:
    """A progress callback that breaks the write after a few datasets."""

    calls = 0

    def set_total(self, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        self.calls += 1
        if self.calls > 3:
            raise RuntimeError("disk unplugged")

    def close(self) -> None:
        pass


@pytest.mark.parametrize("suffix", [".nwb.zarr", ".nwb"])
def test_local_overwrite_swaps_in_a_complete_copy_and_keeps_the_old_on_failure(tmp_path: Path, suffix: str) -> None:
    nwbfile, old = small_file(), small_file(seed=5)
    src = _write(str(tmp_path / "a.nwb.zarr"), Place("local", str, None), nwbfile)
    dst = tmp_path / f"b{suffix}"
    convert(src, dst)
    convert(src, dst, overwrite=True)  # a replacement of the same content works
    with NWBHDF5IO(dst, "w") if suffix == ".nwb" else NWBZarrIO(dst, "w") as io:
        io.write(old)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        convert(src, dst, overwrite=True, progress=_Fails())
    with NWBHDF5IO(dst) if suffix == ".nwb" else NWBZarrIO(dst) as io:
        assert io.read() == old  # the failed copy never touched the old file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nwb.zarr", f"b{suffix}"]  # no half copy beside it
    convert(src, dst, overwrite=True)
    with NWBHDF5IO(dst) if suffix == ".nwb" else NWBZarrIO(dst) as io:
        assert io.read() == nwbfile
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nwb.zarr", f"b{suffix}"]


def test_locations_compare_spellings() -> None:
    a, b = locate("s3://lab/x.nwb.zarr"), locate("s3a://lab//x.nwb.zarr/")
    assert a is not None and b is not None and a.relation(b) == "is"
    inner = locate("s3://lab/x.nwb.zarr/y.nwb.zarr")
    assert inner is not None and inner.relation(a) == "lies inside" and a.relation(inner) == "contains"
    other = locate("s3://lab/x.nwb.zarr2")
    assert other is not None and other.relation(a) is None
    assert locate("memory://lab/x.nwb.zarr") is not None
    assert locate("memory://lab/x.nwb.zarr").relation(a) is None  # type: ignore[union-attr]
