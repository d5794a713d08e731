"""Issue 13's session: every object PyNWB shows is reachable in nwbzarr by the same path, tables equal."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from nwbzarr import NWBHDF5IO, NWBZarrIO, convert
from nwbzarr.cli import main
from nwbzarr.display.html import to_html
from nwbzarr.model import Container, DynamicTable, NWBFile

from .compare import assert_cell_equal, assert_same_as_pynwb
from .domain_files import DOMAINS, write_domain_file
from .every_object_files import build_session
from .pynwb_files import _assert_equal

pynwb = pytest.importorskip("pynwb")
hdmf_zarr = pytest.importorskip("hdmf_zarr")
pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def pynwb_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("session") / "session.nwb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(build_session("pynwb"))
    return path


def _pynwb_path(obj: Any) -> str:
    parts = []
    while obj.parent is not None:
        parts.append(obj.name)
        obj = obj.parent
    return "/".join(reversed(parts))


def _every_object_reachable(ours: NWBFile, theirs: Any) -> int:
    """Each PyNWB object is ours too, by id and by the PyNWB path; each table's DataFrame is equal."""
    mine = ours.objects
    assert set(mine) == set(theirs.objects)
    tables = 0
    for object_id, other in theirs.objects.items():
        obj = mine[object_id]
        assert type(obj).__name__ == type(other).__name__ and obj.name == other.name
        if isinstance(obj, DynamicTable):
            a, b = obj.to_dataframe(), other.to_dataframe()
            assert list(a.columns) == list(b.columns) and list(a.index) == list(b.index)
            for column in a.columns:
                for x, y in zip(a[column], b[column], strict=True):
                    assert_cell_equal(x, y, f"{obj._label}[{column!r}]")
            tables += 1
    return tables


def _the_issue_paths(nwbfile: NWBFile) -> None:
    assert nwbfile.trials is not None and len(nwbfile.trials) == 3
    assert nwbfile.units is not None and len(nwbfile.units) == 3
    assert set(nwbfile.intervals) == {"trials", "epochs", "invalid_times", "sleep"}
    ophys = nwbfile.processing["ophys"]
    assert set(ophys.data_interfaces) >= {"Fluorescence", "ImageSegmentation", "Backgrounds_0", "DfOverF"}
    assert ophys["Backgrounds_0"]["meanImg"].description == "mean image"  # type: ignore[index]
    behavior = nwbfile.processing["behavior"]
    assert len(behavior.data_interfaces) == 7
    speed = behavior["BehavioralTimeSeries"]["running_speed"]  # type: ignore[index]
    assert speed is nwbfile.acquisition["running_speed"]  # a link, the same object
    assert nwbfile.get("/processing/behavior/Position/position").name == "position"
    assert nwbfile.get("intervals/trials/timeseries_index").neurodata_type == "VectorIndex"
    assert isinstance(nwbfile.get("/"), NWBFile)
    refs = nwbfile.trials.to_dataframe()["timeseries"].iloc[1]
    assert refs[0].timeseries is speed and (refs[0].idx_start, refs[0].count) == (10, 5)
    assert nwbfile.subject is not None and nwbfile.subject.subject_id == "m17"
    assert set(nwbfile.stimulus) == {"gratings", "scene_index", "monitor"}
    assert set(nwbfile.stimulus_template) == {"stimulus_images"}


def test_pynwb_session_in_nwbzarr(pynwb_session: Path) -> None:
    with NWBHDF5IO(pynwb_session) as io, pynwb.NWBHDF5IO(str(pynwb_session), "r") as theirs_io:
        ours, theirs = io.read(), theirs_io.read()
        _the_issue_paths(ours)
        assert _every_object_reachable(ours, theirs) == 9
        assert assert_same_as_pynwb(ours, theirs) > 400


def test_after_conversion_and_through_the_model(pynwb_session: Path, tmp_path: Path) -> None:
    """``nwbzarr convert`` keeps every object; a file read by nwbzarr and written again reads the same in PyNWB."""
    store = tmp_path / "session.nwb.zarr"
    convert(pynwb_session, store)
    again = tmp_path / "again.nwb.zarr"
    with NWBZarrIO(store) as io:
        nwbfile = io.read()
        _the_issue_paths(nwbfile)
        with NWBZarrIO(again, "w") as out:
            out.write(nwbfile)
    with hdmf_zarr.NWBZarrIO(str(again), mode="r") as zio, pynwb.NWBHDF5IO(str(pynwb_session), "r") as hio:
        theirs, original = zio.read(), hio.read()
        assert set(theirs.objects) == set(original.objects)
        with NWBZarrIO(again) as io:
            ours = io.read()
            assert _every_object_reachable(ours, theirs) == 9
            assert assert_same_as_pynwb(ours, original) > 400


def test_nwbzarr_session_in_pynwb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ours = build_session("nwbzarr")
    _the_issue_paths(ours)
    html = to_html(ours)
    for shown in ("TimeIntervals", "Units", "Backgrounds_0", "GrayscaleImage", "Position", "SpatialSeries"):
        assert shown in html, shown
    assert all(isinstance(obj, Container) for obj in ours.objects.values())
    for writer, reader, name in ((NWBHDF5IO, pynwb.NWBHDF5IO, "s.nwb"), (NWBZarrIO, hdmf_zarr.NWBZarrIO, "s.nwb.zarr")):
        with writer(tmp_path / name, "w") as io:
            io.write(ours)
        with reader(str(tmp_path / name), mode="r") as io:
            theirs = io.read()
            assert _every_object_reachable(ours, theirs) == 9
            assert assert_same_as_pynwb(ours, theirs) > 400
            assert pynwb.validate(io=io) == []
    assert main(["info", str(tmp_path / "s.nwb.zarr")]) == 0
    listing = capsys.readouterr().out
    for shown in ("trials/  <TimeIntervals>", "units/  <Units>", "Position/  <Position>", "meanImg  <GrayscaleImage>"):
        assert shown in listing, shown


def _same_pynwb_files(a: Any, b: Any) -> int:
    """Every object of PyNWB's read ``a`` is in ``b`` with equal fields; reference datasets compared by id."""
    theirs = {obj.object_id: obj for obj in b.objects.values()}
    assert set(theirs) == {obj.object_id for obj in a.objects.values()}
    compared = 0
    for obj in a.objects.values():
        other = theirs[obj.object_id]
        assert type(other) is type(obj) and other.name == obj.name
        for key, value in obj.fields.items():
            where = f"{type(obj).__name__} {obj.name!r}.{key}"
            mine, their = value, other.fields.get(key)
            if key == "order_of_images":  # ImageReferences: its data is a dataset of references
                mine, their = mine.data, their.data
            if "ReferenceDataset" in type(mine).__name__:
                assert [v.object_id for v in mine[:]] == [v.object_id for v in their[:]], where
            else:
                _assert_equal(mine, their, where)
            compared += 1
    return compared


@pytest.mark.parametrize("suffix", ["nwb", "nwb.zarr"])
@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_domain_through_the_model(domain: str, suffix: str, tmp_path: Path) -> None:
    """PyNWB's file of each domain (ecephys, icephys... generic here) read by nwbzarr, written anew, read by PyNWB."""
    source = write_domain_file(domain, tmp_path / "src.nwb")
    out = tmp_path / f"out.{suffix}"
    reader = pynwb.NWBHDF5IO if suffix == "nwb" else hdmf_zarr.NWBZarrIO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(source) as io:
            nwbfile = io.read()
            with pynwb.NWBHDF5IO(str(source), "r") as theirs_io:
                assert set(nwbfile.objects) <= set(theirs_io.read().objects)
            writer = NWBHDF5IO if suffix == "nwb" else NWBZarrIO
            with writer(out, "w") as io_out:
                io_out.write(nwbfile)
        with pynwb.NWBHDF5IO(str(source), "r") as a_io, reader(str(out), mode="r") as b_io:
            if domain == "extension" and suffix == "nwb.zarr":
                _upstream_uint_attribute(b_io, out)
            assert _same_pynwb_files(a_io.read(), b_io.read()) > 5


def _upstream_uint_attribute(io: Any, store: Path) -> None:
    """hdmf-zarr 0.14 cannot read an extension's unsigned attribute from any Zarr store, its own included.

    It reads attributes as JSON (``ZarrIO.__read_attrs`` returns the bare value), so ``count`` comes back a
    Python int, and the class hdmf generates for ``TypedMeta`` accepts only numpy unsigned types for a
    ``uint16`` attribute (hdmf-dev/hdmf-zarr#323, open). Ours is written as hdmf-zarr writes it (a bare
    number; nwbzarr adds ``_ATTRIBUTE_DTYPES``, which hdmf-zarr ignores) and nwbzarr reads it back as uint16.
    The xfail is only that exact refusal: anything else fails, and a fixed hdmf-zarr makes the test pass.
    """
    from hdmf.build.errors import ConstructError

    with NWBZarrIO(store) as ours:
        assert ours.read().lab_meta_data["meta"].count.dtype == "uint16"  # type: ignore[attr-defined]
    try:
        io.read()
    except ConstructError as exc:
        if "incorrect type for 'count' (got 'int', expected 'uint16" in str(exc):
            pytest.xfail("hdmf-zarr reads a Zarr uint16 attribute as int and refuses it (hdmf-dev/hdmf-zarr#323)")
        raise
