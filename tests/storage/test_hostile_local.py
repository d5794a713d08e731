"""A hostile local store cannot make nwbzarr read or change anything outside it, or exhaust memory.

Every case plants something by hand in a valid store (symlinks out of it, to ``/dev/zero`` or to a
copy of the store's own objects, a FIFO, oversized or deeply nested metadata) and checks that the
read or write ends in an NWBZarrError, and that a sentinel folder beside the store is unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

from nwbzarr import NWBZarrIO
from nwbzarr.errors import InvalidStoreError, NWBZarrError
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.storage import make_store
from nwbzarr.storage.jsonlimits import MAX_JSON_BYTES, json_depth, parse_json
from nwbzarr.storage.local import SafeLocalStore
from nwbzarr.testing.tutorial import build_tutorial_file

DATA = "acquisition/TwoPhotonSeries1/data"


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file's bytes and every symlink's target under ``root`` (symlinks are not followed)."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + str(path.readlink())
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-local") / "valid.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(build_tutorial_file(frames=12, size=16))
    return path


@pytest.fixture
def store(valid: Path, tmp_path: Path) -> Path:
    """A fresh copy of the valid store, with a sentinel folder beside it."""
    copy = tmp_path / "store.nwb.zarr"
    shutil.copytree(valid, copy)
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "secret.txt").write_bytes(b"outside the store\n")
    return copy


def _sentinel(store: Path) -> Path:
    return store.parent / "sentinel"


def _chunk(store: Path) -> Path:
    return min((p for p in (store / DATA).rglob("*") if p.is_file() and p.name != "zarr.json"), key=lambda p: p.parts)


def _read_all(store: Path) -> None:
    with NWBZarrIO(store, "r") as io:
        nwbfile = io.read()
        for obj in nwbfile.all_children():
            data = obj.__dict__.get("data")
            if data is not None and hasattr(data, "shape"):
                np.asarray(obj.data[()] if not obj.data.shape else obj.data[:])


def _refused(store: Path, action: Callable[[Path], None], match: str = "") -> NWBZarrError:
    outside = snapshot(_sentinel(store))
    with pytest.raises(NWBZarrError, match=match) as caught:
        action(store)
    assert snapshot(_sentinel(store)) == outside
    return caught.value


def test_make_store_gives_the_safe_store_for_paths_and_plain_local_stores(tmp_path: Path) -> None:
    assert type(make_store(tmp_path / "a.nwb.zarr", read_only=False)) is SafeLocalStore
    assert type(make_store(f"file://{tmp_path}/a.nwb.zarr", read_only=True)) is SafeLocalStore
    assert type(make_store(LocalStore(tmp_path), read_only=True)) is SafeLocalStore
    assert isinstance(make_store(tmp_path, read_only=True), LocalStore)  # the rest of nwbzarr keeps working
    assert make_store(tmp_path, read_only=False).with_read_only(True).read_only


def test_a_valid_store_reads_as_before(store: Path) -> None:
    _read_all(store)


def test_a_chunk_linked_to_dev_zero_is_refused(store: Path) -> None:
    chunk = _chunk(store)
    chunk.unlink()
    chunk.symlink_to("/dev/zero")
    error = _refused(store, _read_all, match="outside the store")
    assert isinstance(error, InvalidStoreError)


def test_a_chunk_linked_to_a_copy_outside_is_not_read(store: Path) -> None:
    chunk = _chunk(store)
    copy = _sentinel(store) / "chunk-copy"
    shutil.copyfile(chunk, copy)  # a perfectly good chunk: reading it would succeed
    chunk.unlink()
    chunk.symlink_to(copy)
    _refused(store, _read_all, match="outside the store")


def test_a_root_document_linked_outside_is_refused(store: Path) -> None:
    root = store / "zarr.json"
    shutil.copyfile(root, _sentinel(store) / "zarr.json")
    root.unlink()
    root.symlink_to(_sentinel(store) / "zarr.json")
    _refused(store, _read_all, match="outside the store")


def test_a_root_document_linked_to_dev_zero_is_refused(store: Path) -> None:
    root = store / "zarr.json"
    root.unlink()
    root.symlink_to("/dev/zero")
    _refused(store, _read_all)


def test_a_folder_linked_outside_is_refused_for_reads_and_writes(store: Path) -> None:
    acquisition = store / "acquisition"
    shutil.copytree(acquisition, _sentinel(store) / "acquisition")
    shutil.rmtree(acquisition)
    acquisition.symlink_to(_sentinel(store) / "acquisition", target_is_directory=True)
    _refused(store, _read_all, match="outside the store")

    def append(path: Path) -> None:
        with NWBZarrIO(path, "a") as io:
            nwbfile = io.read()
            nwbfile.add_acquisition(TimeSeries(name="extra", data=np.arange(3.0), unit="V", rate=1.0))
            io.write(nwbfile)

    _refused(store, append)


def test_a_symlink_inside_the_store_is_followed(store: Path) -> None:
    chunk = _chunk(store)
    moved = store / "elsewhere-in-the-store"
    chunk.rename(moved)
    chunk.symlink_to(moved)
    _read_all(store)


def test_a_fifo_is_refused_without_blocking(store: Path) -> None:
    chunk = _chunk(store)
    chunk.unlink()
    os.mkfifo(chunk)
    _refused(store, _read_all, match="not a regular file")


def test_oversized_metadata_is_refused_before_it_is_read(store: Path) -> None:
    root = store / "zarr.json"
    with root.open("r+b") as f:  # sparse: grows the file without writing the bytes
        f.truncate(MAX_JSON_BYTES + 1)
    _refused(store, _read_all, match="more than the")


def test_a_chunk_larger_than_its_array_declares_is_refused(store: Path) -> None:
    chunk = _chunk(store)
    with chunk.open("r+b") as f:
        f.truncate(64 * 1024**2)  # sparse 64 MiB where a 16 x 16 frame chunk is declared
    _refused(store, _read_all, match="more than the")


def test_deeply_nested_metadata_is_refused_not_a_recursion_error(store: Path) -> None:
    root = store / "zarr.json"
    meta = json.loads(root.read_text())
    text = json.dumps(meta)
    nested = "[" * 100_000 + "]" * 100_000
    root.write_text(text[:-1] + f', "deep": {nested}}}')
    _refused(store, _read_all, match="nested")


def test_a_write_through_a_planted_lock_link_reads_nothing_outside(store: Path) -> None:
    (store / "nwbzarr.lock").symlink_to("/dev/zero")

    def write(path: Path) -> None:
        with NWBZarrIO(path, "a") as io:
            io.write(io.read())

    _refused(store, write)


def test_the_store_deletes_a_link_not_what_it_points_at(tmp_path: Path) -> None:
    target = tmp_path / "outside.bin"
    target.write_bytes(b"keep me")
    root = tmp_path / "store"
    root.mkdir()
    (root / "c").symlink_to(target)
    store = SafeLocalStore(root)
    sync(store.delete("c"))
    assert not (root / "c").exists() and target.read_bytes() == b"keep me"


@pytest.mark.parametrize("key", ["/etc/passwd", "../outside.bin", "a/../../outside.bin", "a\x00b", "a//b", "a\\b"])
def test_the_store_refuses_keys_that_are_not_relative_paths(tmp_path: Path, key: str) -> None:
    (tmp_path / "outside.bin").write_bytes(b"keep me")
    store = SafeLocalStore(tmp_path / "store")
    prototype = default_buffer_prototype()
    with pytest.raises(InvalidStoreError, match="store key"):
        sync(store.get(key, prototype=prototype))
    with pytest.raises(InvalidStoreError, match="store key"):
        sync(store.set(key, prototype.buffer.from_bytes(b"written")))
    with pytest.raises(InvalidStoreError, match="store key"):
        sync(store.delete(key))
    assert (tmp_path / "outside.bin").read_bytes() == b"keep me"


def test_json_depth_and_parse_bounds() -> None:
    assert json_depth(b'{"a": [1, [2, {"b": "[[[[not nesting]]]]"}]]}') == 4
    assert json_depth(b'"\\"[[["') == 0
    assert parse_json(b'{"a": [1]}', what="doc") == {"a": [1]}
    with pytest.raises(InvalidStoreError, match="doc: JSON nested 200 levels"):
        parse_json(b"[" * 200 + b"]" * 200, what="doc")
    with pytest.raises(InvalidStoreError, match="doc: a metadata document of 11 bytes"):
        parse_json(b'"too long!"', what="doc", max_bytes=10)
    with pytest.raises(InvalidStoreError, match="not valid JSON"):
        parse_json(b"{", what="doc")


def test_a_new_file_writes_and_reads_through_the_safe_store(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    nwbfile = NWBFile("d", "id", datetime(2024, 1, 1, tzinfo=UTC))
    nwbfile.add_acquisition(TimeSeries(name="ts", data=np.arange(10.0), unit="V", rate=2.0))
    with NWBZarrIO(tmp_path / "new.nwb.zarr", "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(tmp_path / "new.nwb.zarr", "r") as io:
        assert np.array_equal(io.read().acquisition["ts"].data[:], np.arange(10.0))


def test_mode_w_replaces_a_store_holding_an_outward_link_without_touching_its_target(store: Path) -> None:
    (store / "linked").symlink_to(_sentinel(store), target_is_directory=True)
    outside = snapshot(_sentinel(store))
    with NWBZarrIO(store, "w") as io:
        io.write(build_tutorial_file(frames=4, size=8))
    assert snapshot(_sentinel(store)) == outside and not (store / "linked").is_symlink()
    _read_all(store)
