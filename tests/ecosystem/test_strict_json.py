"""Every metadata document is RFC 8259 JSON; NaN and infinite attributes read back (nwbzarr, PyNWB + hdmf-zarr)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.errors import ValidationError
from nwbzarr.model import NWBFile

from .conftest import demo_file

#: NaN/infinite values set on the demo session: (object, attribute) -> value
NONFINITE = {"pmt_gain": math.nan, "scan_line_rate": math.inf, "resolution": -math.inf, "offset": math.nan}


def _reject(token: str) -> Any:
    raise ValueError(f"not JSON: {token}")


def strict_documents(store: Path) -> dict[str, Any]:
    """Every ``.json`` document of a store, parsed as strict JSON (bare NaN/Infinity tokens raise)."""
    docs = {str(p.relative_to(store)): json.loads(p.read_text(), parse_constant=_reject) for p in store.rglob("*.json")}
    assert "zarr.json" in docs and "nwbzarr.json" in docs
    return docs


def _nonfinite_file() -> NWBFile:
    nwbfile = demo_file()
    series = nwbfile.acquisition["TwoPhotonSeries"]
    for name, value in NONFINITE.items():
        object.__setattr__(series, name, value)
    object.__setattr__(nwbfile.imaging_planes["ImagingPlane"], "imaging_rate", math.nan)  # a 0-d dataset
    return nwbfile


def _same(a: Any, b: Any) -> bool:
    return bool(np.isnan(a) and np.isnan(b)) if np.isnan(a) else bool(a == b)


@pytest.fixture(scope="module")
def strict_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("strict") / "nonfinite.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(_nonfinite_file())
    return path


@pytest.fixture(scope="module")
def bare_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bare") / "nonfinite.nwb.zarr"
    with NWBZarrIO(path, "w", nonfinite="bare") as io:
        io.write(_nonfinite_file())
    return path


@pytest.mark.parametrize("which", ["demo_store", "tutorial_store", "converted_store", "strict_store"])
def test_every_document_is_strict_json(which: str, request: pytest.FixtureRequest) -> None:
    docs = strict_documents(request.getfixturevalue(which))
    consolidated = docs["zarr.json"]["consolidated_metadata"]["metadata"]
    assert len(consolidated) > 30  # the root carries every node's metadata, also strict


def test_nonfinite_attributes_are_zarr_fill_value_strings(strict_store: Path) -> None:
    docs = strict_documents(strict_store)
    group = docs["acquisition/TwoPhotonSeries/zarr.json"]["attributes"]
    data = docs["acquisition/TwoPhotonSeries/data/zarr.json"]["attributes"]
    assert (group["pmt_gain"], group["scan_line_rate"]) == ("NaN", "Infinity")
    assert (data["resolution"], data["offset"]) == ("-Infinity", "NaN")
    assert group["_ATTRIBUTE_DTYPES"]["pmt_gain"] in ("float32", "float64")  # says the strings are numbers
    root = docs["zarr.json"]["consolidated_metadata"]["metadata"]
    assert root["acquisition/TwoPhotonSeries"]["attributes"]["pmt_gain"] == "NaN"
    # a float scalar keeps its value as the fill value, which Zarr v3 itself writes as "NaN"
    assert docs["general/optophysiology/ImagingPlane/imaging_rate/zarr.json"]["fill_value"] == "NaN"


@pytest.mark.parametrize("which", ["strict_store", "bare_store"])
def test_nwbzarr_reads_nonfinite_back(which: str, request: pytest.FixtureRequest) -> None:
    with NWBZarrIO(request.getfixturevalue(which), "r") as io:
        series = io.read().acquisition["TwoPhotonSeries"]
        for name, value in NONFINITE.items():
            assert _same(getattr(series, name), value), name
        assert math.isnan(io.read().imaging_planes["ImagingPlane"].imaging_rate)  # type: ignore[arg-type]


def test_text_that_reads_nan_stays_text(tmp_path: Path) -> None:
    nwbfile = demo_file()
    object.__setattr__(nwbfile.acquisition["TwoPhotonSeries"], "description", "NaN")
    with NWBZarrIO(tmp_path / "text.nwb.zarr", "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(tmp_path / "text.nwb.zarr", "r") as io:
        assert io.read().acquisition["TwoPhotonSeries"].description == "NaN"


def test_bare_is_hdmf_zarrs_encoding_and_not_json(bare_store: Path) -> None:
    text = (bare_store / "acquisition" / "TwoPhotonSeries" / "zarr.json").read_text()
    assert "NaN" in text and "Infinity" in text
    with pytest.raises(ValueError, match="not JSON"):
        json.loads(text, parse_constant=_reject)


def _pynwb_read(path: Path) -> tuple[Any, Any]:
    hdmf_zarr = pytest.importorskip("hdmf_zarr")
    io = hdmf_zarr.NWBZarrIO(str(path), mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return io, io.read()


def test_pynwb_reads_bare_nonfinite_value_for_value(bare_store: Path) -> None:
    io, nwbfile = _pynwb_read(bare_store)
    try:
        series = nwbfile.acquisition["TwoPhotonSeries"]
        for name, value in NONFINITE.items():
            assert _same(getattr(series, name), value), name
        assert math.isnan(nwbfile.imaging_planes["ImagingPlane"].imaging_rate)
        assert np.array_equal(series.data[5], np.asarray(demo_file().acquisition["TwoPhotonSeries"].data)[5])  # type: ignore[attr-defined]
    finally:
        io.close()


def test_pynwb_rejects_the_strict_encoding(strict_store: Path) -> None:
    """Why ``nonfinite="bare"`` exists: hdmf-zarr 0.14 passes "NaN" on as text where the schema wants a float."""
    with pytest.raises(Exception, match=r"pmt_gain|resolution|offset|scan_line_rate"):  # hdmf's ConstructError
        io, _ = _pynwb_read(strict_store)
        io.close()


def test_we_read_hdmf_zarrs_bare_nan(tmp_path: Path) -> None:
    """A store hdmf-zarr writes with NaN attributes (bare tokens) reads with nwbzarr."""
    hdmf_zarr = pytest.importorskip("hdmf_zarr")
    from nwbzarr.testing.tutorial import build_tutorial_file

    path = tmp_path / "hdmf.nwb.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nwbfile = build_tutorial_file("pynwb", frames=10, size=8)
        series = nwbfile.acquisition["TwoPhotonSeries1"]
        series.fields["pmt_gain"] = math.nan
        series.fields["scan_line_rate"] = math.inf
        with hdmf_zarr.NWBZarrIO(str(path), mode="w") as io:
            io.write(nwbfile)
    assert "NaN" in (path / "acquisition" / "TwoPhotonSeries1" / "zarr.json").read_text()
    with NWBZarrIO(path, "r") as io:
        ours = io.read().acquisition["TwoPhotonSeries1"]
        assert math.isnan(ours.pmt_gain) and ours.scan_line_rate == math.inf  # type: ignore[attr-defined]


def test_strict_readers_open_strict_stores_only(strict_store: Path, bare_store: Path) -> None:
    ts = pytest.importorskip("tensorstore")
    spec = {
        "driver": "zarr3",
        "kvstore": {"driver": "file", "path": str(strict_store / "acquisition/TwoPhotonSeries/data")},
    }
    assert ts.open(spec).result().shape[0] > 0
    spec["kvstore"]["path"] = str(bare_store / "acquisition/TwoPhotonSeries/data")  # type: ignore[index]
    with pytest.raises(ValueError, match=r"(?i)json"):  # tensorstore refuses the document
        ts.open(spec).result()


def test_nonfinite_option_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="nonfinite='json'"):
        NWBZarrIO(tmp_path / "x.nwb.zarr", "w", nonfinite="json")  # type: ignore[arg-type]


#: candidate strict encodings of NaN for a float attribute
CANDIDATES: dict[str, Any] = {
    "fill-value string": "NaN",
    "typed wrapper": {"_NUMBER": "NaN"},
    "null": None,
    "string list": ["NaN"],
}


@pytest.mark.parametrize("candidate", list(CANDIDATES))
def test_hdmf_zarr_reads_no_strict_encoding_of_nan(bare_store: Path, tmp_path: Path, candidate: str) -> None:
    """Why the encoding is a choice: PyNWB + hdmf-zarr 0.14 get NaN back from no strict encoding."""
    import shutil

    store = tmp_path / "candidate.nwb.zarr"
    shutil.copytree(bare_store, store)
    group_doc = store / "acquisition" / "TwoPhotonSeries" / "zarr.json"
    meta = json.loads(group_doc.read_text())
    meta["attributes"]["pmt_gain"] = CANDIDATES[candidate]
    group_doc.write_text(json.dumps(meta))
    root = json.loads((store / "zarr.json").read_text())
    root["consolidated_metadata"]["metadata"]["acquisition/TwoPhotonSeries"]["attributes"]["pmt_gain"] = CANDIDATES[
        candidate
    ]
    (store / "zarr.json").write_text(json.dumps(root))
    construct_error = pytest.importorskip("hdmf.build.errors").ConstructError
    try:
        io, nwbfile = _pynwb_read(store)
    except (construct_error, TypeError, ValueError):  # the file does not open at all
        return
    try:
        value = nwbfile.acquisition["TwoPhotonSeries"].pmt_gain
        assert not (isinstance(value, float) and math.isnan(value)), f"{candidate} reads back as NaN"
    finally:
        io.close()
