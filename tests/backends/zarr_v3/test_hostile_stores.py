"""Corrupt and hostile stores end in a clear NWBZarrError naming the node; never a hang, a huge
allocation or a traceback from deep inside. Property-based: hypothesis mutates a valid store."""

from __future__ import annotations

import json
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nwbzarr import NWBZarrIO
from nwbzarr.abc.array import LazyArray
from nwbzarr.errors import IncompleteStoreError, InvalidStoreError, NWBZarrError, UnsafeDataError
from nwbzarr.model import DynamicTable, NWBFile
from nwbzarr.model.spec import members
from nwbzarr.testing.tutorial import build_tutorial_file


@pytest.fixture(scope="module")
def valid_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "valid.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(build_tutorial_file(frames=12, size=16))
    return path


def _consolidated(root: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((root / "zarr.json").read_text())
    return meta


def _save(root: Path, meta: dict[str, Any]) -> None:
    """Replace the consolidated root, forging the manifest's record of it too (a hostile writer can)."""
    data = json.dumps(meta).encode()
    (root / "zarr.json").write_bytes(data)
    manifest_path = root / "nwbzarr.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        manifest.setdefault("objects", {})["zarr.json"] = [len(data), zlib.crc32(data)]
        manifest_path.write_text(json.dumps(manifest))


def exercise(nwbfile: NWBFile) -> None:
    """Touch every field of every object and read every array (what a curious user would do)."""
    for obj in nwbfile.all_children():
        for name, _ in members(obj):
            value = getattr(obj, name)
            if isinstance(value, LazyArray):
                value[()] if not value.shape else value[:]
        if isinstance(obj, DynamicTable):
            obj.to_dataframe()


def _open_and_use(path: Path) -> None:
    with NWBZarrIO(path, "r") as io:
        exercise(io.read())


def _mutate_attribute(meta: dict[str, Any], data: st.DataObject) -> None:
    nodes = meta["consolidated_metadata"]["metadata"]
    key = data.draw(st.sampled_from(sorted(nodes)))
    attrs = nodes[key].setdefault("attributes", {})
    if not attrs:
        return
    name = data.draw(st.sampled_from(sorted(attrs)))
    attrs[name] = data.draw(
        st.one_of(
            st.integers(),
            st.none(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
            st.booleans(),
        )
    )


def _mutate_shape(meta: dict[str, Any], data: st.DataObject) -> None:
    arrays = {
        k: v for k, v in meta["consolidated_metadata"]["metadata"].items() if v["node_type"] == "array" and v["shape"]
    }
    key = data.draw(st.sampled_from(sorted(arrays)))
    node = arrays[key]
    axis = data.draw(st.integers(0, len(node["shape"]) - 1))
    node["shape"][axis] = data.draw(st.sampled_from([0, 1, 3, 10**12, -5, 2**63]))


def _mutate_links(meta: dict[str, Any], data: st.DataObject) -> None:
    nodes = meta["consolidated_metadata"]["metadata"]
    linked = sorted(k for k, v in nodes.items() if v.get("attributes", {}).get("_LINKS"))
    key = data.draw(st.sampled_from(linked))
    link = nodes[key]["attributes"]["_LINKS"][0]
    choice = data.draw(st.sampled_from(["missing", "self", "climb", "absolute_source", "relative_source", "junk"]))
    if choice == "missing":
        link["path"] = "/general/nothing/here"
    elif choice == "self":
        link["path"] = f"/{key}/{link['name']}"
    elif choice == "climb":
        link["path"] = "/../../../etc/passwd"
    elif choice == "absolute_source":
        link["source"] = "/etc"
    elif choice == "relative_source":
        link["source"] = "../../other.nwb.zarr"
    else:
        nodes[key]["attributes"]["_LINKS"] = data.draw(st.sampled_from([[1, 2], "x", {"a": 1}, [{"name": 3}]]))


def _mutate_reference(meta: dict[str, Any], data: st.DataObject) -> None:
    nodes = meta["consolidated_metadata"]["metadata"]
    with_refs = sorted(
        k
        for k, v in nodes.items()
        if any(isinstance(a, dict) and "_REFERENCE" in a for a in v.get("attributes", {}).values())
    )
    key = data.draw(st.sampled_from(with_refs))
    attrs = nodes[key]["attributes"]
    name = next(n for n, a in attrs.items() if isinstance(a, dict) and "_REFERENCE" in a)
    attrs[name]["_REFERENCE"]["path"] = data.draw(st.sampled_from(["/nope", "/acquisition", "/../x", "", "//"]))


def _files(root: Path, chunks: bool) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and (p.name != "zarr.json") == chunks and p.name != "nwbzarr.json"
    )


@settings(
    max_examples=60, deadline=20_000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_mutation_ends_in_a_clear_error(valid_store: Path, tmp_path: Path, data: st.DataObject) -> None:
    target = Path(tempfile.mkdtemp(dir=tmp_path)) / "case.nwb.zarr"
    shutil.copytree(valid_store, target)
    kind = data.draw(
        st.sampled_from(
            [
                "json",
                "attribute",
                "shape",
                "links",
                "reference",
                "chunk_delete",
                "chunk_truncate",
                "chunk_garbage",
                "manifest",
            ]
        )
    )
    if kind == "json":
        text = (target / "zarr.json").read_bytes()
        (target / "zarr.json").write_bytes(text[: data.draw(st.integers(0, len(text) - 1))])
    elif kind in ("attribute", "shape", "links", "reference"):
        meta = _consolidated(target)
        {
            "attribute": _mutate_attribute,
            "shape": _mutate_shape,
            "links": _mutate_links,
            "reference": _mutate_reference,
        }[kind](meta, data)
        _save(target, meta)
    elif kind == "manifest":
        (target / "nwbzarr.json").write_bytes(data.draw(st.binary(max_size=20)))
    else:
        chunk = data.draw(st.sampled_from(_files(target, chunks=True)))
        if kind == "chunk_delete":
            chunk.unlink()
        elif kind == "chunk_truncate":
            chunk.write_bytes(chunk.read_bytes()[: data.draw(st.integers(0, max(0, chunk.stat().st_size - 1)))])
        else:
            chunk.write_bytes(data.draw(st.binary(min_size=1, max_size=64)))
    try:
        _open_and_use(target)
    except NWBZarrError as exc:
        assert str(exc), "errors must say what is wrong"
    # anything else (KeyError from deep inside, RecursionError, MemoryError...) fails the test


def test_link_cycle_is_reported(valid_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "cycle.nwb.zarr"
    shutil.copytree(valid_store, target)
    meta = _consolidated(target)
    nodes = meta["consolidated_metadata"]["metadata"]
    nodes["acquisition/TwoPhotonSeries1"]["attributes"]["_LINKS"] = [
        {"source": ".", "path": "/acquisition/TwoPhotonSeries2/imaging_plane", "name": "imaging_plane"}
    ]
    nodes["acquisition/TwoPhotonSeries2"]["attributes"]["_LINKS"] = [
        {"source": ".", "path": "/acquisition/TwoPhotonSeries1/imaging_plane", "name": "imaging_plane"}
    ]
    _save(target, meta)
    with pytest.raises(InvalidStoreError, match="cycle"):
        _open_and_use(target)


def test_external_link_is_not_followed(valid_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "external.nwb.zarr"
    shutil.copytree(valid_store, target)
    meta = _consolidated(target)
    meta["consolidated_metadata"]["metadata"]["acquisition/TwoPhotonSeries1"]["attributes"]["_LINKS"][0]["source"] = (
        "/etc"
    )
    _save(target, meta)
    with pytest.raises(UnsafeDataError, match="external links are not followed"):
        _open_and_use(target)


def test_a_deleted_chunk_is_an_error_not_zeros(valid_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "deleted.nwb.zarr"
    shutil.copytree(valid_store, target)
    next((target / "acquisition/TwoPhotonSeries1/data").rglob("c/*/*/*")).unlink()
    with NWBZarrIO(target) as io, pytest.raises(IncompleteStoreError, match="missing now"):
        io.read().acquisition["TwoPhotonSeries1"].data[:]  # type: ignore[attr-defined]


def test_pickle_codec_is_refused(valid_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "pickle.nwb.zarr"
    shutil.copytree(valid_store, target)
    meta = _consolidated(target)
    node = meta["consolidated_metadata"]["metadata"]["acquisition/TwoPhotonSeries1/data"]
    node["codecs"].append({"name": "numcodecs.pickle", "configuration": {"protocol": 5}})
    _save(target, meta)
    with pytest.raises(UnsafeDataError, match="runs code"), NWBZarrIO(target) as io:
        io.read()


def test_huge_declared_shape_does_not_allocate(valid_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "huge.nwb.zarr"
    shutil.copytree(valid_store, target)
    meta = _consolidated(target)
    meta["consolidated_metadata"]["metadata"]["acquisition/TwoPhotonSeries1/data"]["shape"] = [10**9, 10**6, 10**6]
    meta["consolidated_metadata"]["metadata"]["general/optophysiology/ImagingPlane/grid_spacing"]["shape"] = [10**12]
    _save(target, meta)
    with NWBZarrIO(target) as io:
        nwbfile = io.read()
        with pytest.raises(NWBZarrError):
            nwbfile.acquisition["TwoPhotonSeries1"].data[:]  # type: ignore[attr-defined]
        with pytest.raises(InvalidStoreError, match="too large for a metadata field"):
            _ = nwbfile.imaging_planes["ImagingPlane"].grid_spacing
    assert np.prod([1]) == 1
