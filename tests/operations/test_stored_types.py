"""Issue 22: stored types (text encoding, integer width and signedness, float width) survive every conversion.

Storage-level comparisons of PyNWB's own files of each domain through HDF5 -> Zarr -> HDF5 and
Zarr -> HDF5 -> Zarr, no new validator message after a round trip, the law over generated trees, and
the refusal of a source that is no NWB file.
"""

from __future__ import annotations

import string
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tests.interop.domain_files import DOMAINS, write_domain_file
from tests.interop.storage_compare import describe_hdf5, describe_zarr, differences

from nwbzarr.backends.open import open_backend
from nwbzarr.core.dtypes import ASCII, REF, UTF8, DataType
from nwbzarr.core.progress import NO_PROGRESS
from nwbzarr.errors import InvalidStoreError
from nwbzarr.operations.convert import convert
from nwbzarr.tree.nodes import Dataset, Group, Link, Reference, walk
from nwbzarr.tree.values import Ascii, canonical_attribute, stored_type

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.fixture(scope="module", params=sorted(DOMAINS))
def trip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """PyNWB's file of a domain, converted HDF5 -> Zarr -> HDF5 -> Zarr."""
    folder = tmp_path_factory.mktemp(request.param)
    paths = {
        "src": write_domain_file(request.param, folder / "src.nwb"),
        "store": folder / "a.nwb.zarr",
        "back": folder / "back.nwb",
        "again": folder / "again.nwb.zarr",
    }
    convert(paths["src"], paths["store"])
    convert(paths["store"], paths["back"])
    convert(paths["back"], paths["again"])
    return paths


def test_hdf5_zarr_hdf5_keeps_every_stored_type(trip: dict[str, Path]) -> None:
    before, after = describe_hdf5(trip["src"]), describe_hdf5(trip["back"])
    assert len(before) > 50
    assert differences(before, after) == []


def test_zarr_hdf5_zarr_keeps_every_stored_type(trip: dict[str, Path]) -> None:
    assert differences(describe_zarr(trip["store"]), describe_zarr(trip["again"])) == []


def test_pynwb_typing_is_what_the_issue_found(tmp_path: Path) -> None:
    """The three kinds of type the issue saw change: ASCII datetimes and unsigned sweep numbers, kept."""
    src = write_domain_file("icephys", tmp_path / "icephys.nwb")
    convert(src, tmp_path / "icephys.nwb.zarr")
    convert(tmp_path / "icephys.nwb.zarr", tmp_path / "back.nwb")
    after = describe_hdf5(tmp_path / "back.nwb")
    assert after["/session_start_time"][1] == ("text", "ascii", "vlen")
    assert after["/file_create_date"][1] == ("text", "ascii", "vlen")
    sweeps = [v[0] for k, v in after.items() if k.endswith("@sweep_number")]
    assert len(sweeps) == 6 and set(sweeps) == {"<u8"}


def _messages(path: Path) -> tuple[set[tuple[str, str, str]], list[str]]:
    import pynwb
    from nwbinspector import inspect_nwbfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = {(m.importance.name, m.check_function_name, m.message) for m in inspect_nwbfile(nwbfile_path=str(path))}
        errors = [str(e) for e in pynwb.validate(path=str(path))]  # against the file's cached schema
    return found, errors


def test_no_new_validator_message_after_a_round_trip(trip: dict[str, Path]) -> None:
    (inspected, validated), (inspected_after, validated_after) = _messages(trip["src"]), _messages(trip["back"])
    assert validated == [] and validated_after == []
    assert inspected_after - inspected == set()


# --- the law over generated trees ------------------------------------------------------------------------

ascii_text = st.text(string.ascii_letters + string.digits + " _-", max_size=8)
utf8_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
numeric = st.sampled_from(["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"])
floats = st.sampled_from(["float32", "float64"])
names = st.text(string.ascii_lowercase, min_size=1, max_size=6)
NON_FINITE = ("NaN", "Infinity", "-Infinity")


@st.composite
def attribute_values(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["str", "ascii", "int", "float", "bool", "scalar", "array", "texts", "asciis"]))
    if kind == "str":
        return draw(utf8_text)
    if kind == "ascii":
        return Ascii(draw(ascii_text))
    if kind == "int":
        return draw(st.integers(-(2**63), 2**63 - 1))
    if kind == "float":
        return draw(st.floats(allow_nan=False, width=64))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "texts":
        return draw(st.lists(utf8_text, min_size=1, max_size=3))
    if kind == "asciis":
        return [Ascii(t) for t in draw(st.lists(ascii_text, min_size=1, max_size=3))]
    dtype = np.dtype(draw(st.one_of(numeric, floats)))
    if kind == "scalar":
        value = draw(hnp.from_dtype(dtype, allow_nan=False))
        return canonical_attribute(dtype.type(value))
    # 1-d arrays may be empty; an empty n-d attribute (shape (0, 0)) is not kept by JSON
    shape = draw(
        st.one_of(hnp.array_shapes(max_dims=1, min_side=0, max_side=3), hnp.array_shapes(min_dims=2, max_dims=2))
    )
    return draw(hnp.arrays(dtype, shape, elements={"allow_nan": False} if dtype.kind == "f" else None))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    kind = draw(st.sampled_from(["number", "utf8", "ascii"]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4))
    attrs = draw(st.dictionaries(names, attribute_values(), max_size=3))
    dtype: DataType
    if kind == "number":
        np_dtype = np.dtype(draw(st.one_of(numeric, floats)))
        data = draw(hnp.arrays(np_dtype, shape, elements={"allow_nan": False} if np_dtype.kind == "f" else None))
        dtype = np_dtype
    else:
        values = draw(st.lists(utf8_text if kind == "utf8" else ascii_text, min_size=1, max_size=1))
        data = np.empty(shape, dtype=object)
        data.ravel()[:] = values * int(np.prod(shape))
        dtype = UTF8 if kind == "utf8" else ASCII
    return Dataset(dtype=dtype, data=data, attrs=attrs)


@st.composite
def trees(draw: st.DrawFn) -> Group:
    root = Group(attrs={"neurodata_type": "NWBFile", "nwb_version": "2.9.0", "namespace": "core"})
    for _ in range(draw(st.integers(1, 3))):
        group = root.require_group(draw(names))
        group.attrs.update(draw(st.dictionaries(names, attribute_values(), max_size=3)))
        for name in draw(st.lists(names, max_size=3, unique=True)):
            if name not in group.members:
                group.members[name] = draw(datasets())
    paths = [p for p, n in walk(root) if p != "/" and isinstance(n, (Group, Dataset))]
    target = draw(st.sampled_from(paths))
    root.members["refs"] = Dataset(dtype=REF, data=np.array([Reference(path=target)], dtype=object))
    root.members["link"] = Link(path=target)
    root.attrs["pointer"] = Reference(path=target)
    return root


def _typed(value: Any) -> Any:
    """A value with its exact stored type, comparable with == (NaN-free by construction)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            return ("objects", value.shape, [_typed(v) for v in value.ravel()])
        return ("array", value.dtype.str, value.shape, value.tolist())
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, np.generic):
        return ("numpy", value.dtype.str, value.item())
    return (type(value).__name__, value)


def _layout(tree: Group) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, node in walk(tree):
        if isinstance(node, Link):
            out[path] = ("link", node.path, node.source)
            continue
        out.update({f"{path}@{k}": _typed(v) for k, v in node.attrs.items()})
        if isinstance(node, Dataset):
            out[path] = ("dataset", node.dtype, _typed(node.read()))
        else:
            out[path] = ("group",)
    return out


def _write_read(tree: Group, target: Path, fmt: str) -> Group:
    backend = open_backend(target, mode="w", format=fmt)  # type: ignore[arg-type]
    try:
        backend.write_tree(tree, append=False, progress=NO_PROGRESS)
    finally:
        backend.close()
    reader = open_backend(target, mode="r", format=fmt)  # type: ignore[arg-type]
    read = reader.read_tree()
    for _, node in walk(read):  # read everything now: the file closes
        if isinstance(node, Dataset):
            node.data = node.read()
    reader.close()
    return read


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees())
def test_law_hdf5_zarr_hdf5_and_zarr_hdf5_zarr(tree: Group, tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        here = Path(folder)
        expected = _layout(tree)
        h5 = _write_read(tree, here / "a.nwb", "hdf5")
        assert _layout(h5) == expected
        zarr_tree = _write_read(h5, here / "b.nwb.zarr", "zarr")
        assert _layout(zarr_tree) == expected
        assert _layout(_write_read(zarr_tree, here / "c.nwb", "hdf5")) == expected
        assert _layout(_write_read(_write_read(tree, here / "d.nwb.zarr", "zarr"), here / "e.nwb", "hdf5")) == expected


@given(value=attribute_values())
def test_a_recorded_type_gives_the_value_back(value: Any) -> None:
    import json

    from nwbzarr.backends.zarr_v3.attributes import ATTRIBUTE_DTYPES, decode_attrs, encode_attrs

    stored = json.loads(json.dumps(encode_attrs({"x": value})))
    assert _typed(decode_attrs(stored, "/")["x"]) == _typed(value)
    assert (ATTRIBUTE_DTYPES in stored) == (stored_type(value) is not None or stored["x"] in NON_FINITE)


# --- sources that are no NWB file ----------------------------------------------------------------------------


def test_a_file_without_an_nwb_root_is_refused(tmp_path: Path) -> None:
    import h5py

    src = tmp_path / "empty.h5"
    with h5py.File(src, "w"):
        pass
    with pytest.raises(InvalidStoreError, match="neurodata_type"):
        convert(src, tmp_path / "out.nwb.zarr")
    assert not (tmp_path / "out.nwb.zarr").exists()


def test_a_raw_copy_of_a_plain_hdf5_file_is_allowed(tmp_path: Path) -> None:
    import h5py

    src = tmp_path / "plain.h5"
    with h5py.File(src, "w") as file:
        file.create_dataset("counts", data=np.arange(5, dtype=np.uint16))
        file.attrs["label"] = "x"
    convert(src, tmp_path / "out.nwb.zarr", raw=True)
    tree = open_backend(tmp_path / "out.nwb.zarr", mode="r").read_tree()
    counts = tree.get("counts")
    assert isinstance(counts, Dataset) and counts.dtype == np.dtype("uint16")
    assert counts.read().tolist() == [0, 1, 2, 3, 4]
    assert tree.attrs["label"] == "x"


def test_the_cli_refuses_a_plain_file_and_copies_it_with_raw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import h5py

    from nwbzarr.cli import main

    src = tmp_path / "plain.h5"
    with h5py.File(src, "w") as file:
        file.attrs["n"] = np.uint8(3)
    assert main(["convert", str(src), str(tmp_path / "no.nwb.zarr"), "--quiet"]) != 0
    assert "not an NWB file" in capsys.readouterr().err
    assert main(["convert", str(src), str(tmp_path / "yes.nwb.zarr"), "--quiet", "--raw"]) == 0
    n = open_backend(tmp_path / "yes.nwb.zarr", mode="r").read_tree().attrs["n"]
    assert type(n) is np.uint8 and n == 3


def test_a_store_hdmf_zarr_wrote_gets_unsigned_types_from_its_schema(tmp_path: Path) -> None:
    """hdmf-zarr records no attribute types: ``sweep_number`` is a bare JSON int; the schema says uint32."""
    import json

    import pynwb
    from hdmf_zarr.nwb import NWBZarrIO

    src = write_domain_file("icephys", tmp_path / "icephys.nwb")
    store, back = tmp_path / "hdmf.nwb.zarr", tmp_path / "back.nwb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(src), "r") as reader, NWBZarrIO(str(store), "w") as writer:
            writer.export(src_io=reader, write_args={"link_data": False})
    attrs = json.loads((store / "acquisition" / "resp0" / "zarr.json").read_text())["attributes"]
    assert attrs["sweep_number"] == 0 and "_ATTRIBUTE_DTYPES" not in attrs
    convert(store, back)
    sweeps = {k: v[0] for k, v in describe_hdf5(back).items() if k.endswith("@sweep_number")}
    assert len(sweeps) == 6 and set(sweeps.values()) == {"<u4"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert pynwb.validate(path=str(back)) == []
