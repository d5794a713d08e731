"""An extension type created by nwbzarr in a new file: its namespace is cached, so PyNWB resolves it on read."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nwbzarr
from nwbzarr import NWBHDF5IO, NWBZarrIO
from nwbzarr.errors import SchemaError
from nwbzarr.model import LabMetaData, NWBDataInterface
from nwbzarr.model.generic import is_generic

from .every_object_files import new_file

pynwb = pytest.importorskip("pynwb")
hdmf_zarr = pytest.importorskip("hdmf_zarr")
pytestmark = pytest.mark.interop

#: loaded with nwbzarr.load_namespaces only: PyNWB knows it from the files' cache alone
OURS = "ndx-nz-cached"
#: loaded with pynwb.load_namespaces: nwbzarr.get_class takes it from PyNWB
THEIRS = "ndx-nz-pynwb"


def _export(folder: Path, name: str) -> Path:
    """A namespace built with PyNWB's spec API: a LabMetaData type and a data interface with a link."""
    from pynwb.spec import NWBAttributeSpec, NWBDatasetSpec, NWBGroupSpec, NWBLinkSpec, NWBNamespaceBuilder

    builder = NWBNamespaceBuilder(f"{name} test extension", name, version="0.2.0", author="t", contact="t@x")
    for kind in ("LabMetaData", "NWBDataInterface", "Device"):
        builder.include_type(kind, namespace="core")
    setup = NWBGroupSpec(
        neurodata_type_def="SetupInfo",
        neurodata_type_inc="LabMetaData",
        doc="the setup",
        attributes=[NWBAttributeSpec(name="rig", doc="which rig", dtype="text")],
        datasets=[NWBDatasetSpec(name="offsets", doc="offsets", dtype="float64", dims=["n"], shape=[None])],
    )
    probe = NWBGroupSpec(
        neurodata_type_def="ProbeTrace",
        neurodata_type_inc="NWBDataInterface",
        doc="a probe trace",
        attributes=[NWBAttributeSpec(name="gain", doc="gain", dtype="float64")],
        datasets=[NWBDatasetSpec(name="trace", doc="trace", dtype="float32", dims=["t"], shape=[None])],
        links=[NWBLinkSpec(name="device", target_type="Device", doc="the probe", quantity="?")],
    )
    builder.add_spec(f"{name}.extensions.yaml", setup)
    builder.add_spec(f"{name}.extensions.yaml", probe)
    builder.export(f"{name}.namespace.yaml", outdir=str(folder))
    return folder / f"{name}.namespace.yaml"


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = _export(tmp_path_factory.mktemp("ndx"), OURS)
    assert nwbzarr.load_namespaces(path) == (OURS,)
    return path


def _new_file(namespace: str, source: Any = None, nwbfile: Any = None) -> Any:
    """A new NWBFile (or ``nwbfile``) with a SetupInfo and a ProbeTrace linked to a new Device."""
    SetupInfo = nwbzarr.get_class("SetupInfo", namespace, source=source)
    ProbeTrace = nwbzarr.get_class("ProbeTrace", namespace, source=source)
    assert issubclass(SetupInfo, LabMetaData) and issubclass(ProbeTrace, NWBDataInterface) and is_generic(SetupInfo)
    nwbfile = new_file("nwbzarr") if nwbfile is None else nwbfile
    probe = nwbfile.create_device(name="probe", description="a probe")
    nwbfile.add_lab_meta_data(SetupInfo(name="setup", rig="A", offsets=np.array([0.5, 1.5])))  # type: ignore[call-arg]
    trace = ProbeTrace(name="trace", gain=2.5, trace=np.arange(5, dtype=np.float32), device=probe)  # type: ignore[call-arg]
    nwbfile.add_acquisition(trace)
    return nwbfile


def _check_pynwb_reads(path: Path) -> None:
    reader = hdmf_zarr.NWBZarrIO if path.name.endswith(".zarr") else pynwb.NWBHDF5IO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with reader(str(path), mode="r") as io:
            back = io.read()
            setup = back.lab_meta_data["setup"]
            assert type(setup).__name__ == "SetupInfo" and setup.rig == "A"
            assert setup.offsets[:].tolist() == [0.5, 1.5]
            trace = back.acquisition["trace"]
            assert type(trace).__name__ == "ProbeTrace" and trace.gain == 2.5
            assert trace.trace[:].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
            assert trace.device.object_id == back.devices["probe"].object_id


def _cached(path: Path, namespace: str) -> dict[str, Any]:
    io: Any = NWBZarrIO(path) if path.name.endswith(".zarr") else NWBHDF5IO(path)
    with io:
        folder = io.read_tree().members["specifications"].members[namespace]
        (version,) = folder.members
        return {k: json.loads(str(v.read()[()])) for k, v in folder.members[version].members.items()}


@pytest.mark.parametrize("name", ["new.nwb", "new.nwb.zarr"])
def test_a_type_from_load_namespaces_in_a_new_file(ours: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    writer = NWBZarrIO if name.endswith(".zarr") else NWBHDF5IO
    with writer(path, "w") as io:
        io.write(_new_file(OURS))
    cached = _cached(path, OURS)
    assert set(cached) == {"namespace", f"{OURS}.extensions"}
    (entry,) = cached["namespace"]["namespaces"]
    assert entry["name"] == OURS and entry["version"] == "0.2.0"
    assert {"source": f"{OURS}.extensions"} in entry["schema"]
    _check_pynwb_reads(path)
    with writer(path) as io:  # and nwbzarr reads it back from the cache alone
        setup = io.read().lab_meta_data["setup"]
        assert is_generic(setup) and setup.rig == "A"  # type: ignore[attr-defined]


def test_a_type_from_a_read_file_in_another_new_file(ours: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.nwb"
    with NWBHDF5IO(first, "w") as io:
        io.write(_new_file(OURS))
    second = tmp_path / "second.nwb.zarr"
    with NWBHDF5IO(first) as io:
        nwbfile = _new_file(OURS, source=io.read())  # the classes come from the first file's cache
        with NWBZarrIO(second, "w") as out:
            out.write(nwbfile)
    _check_pynwb_reads(second)


def test_mode_a_adds_an_extension_object_and_its_namespace(ours: Path, tmp_path: Path) -> None:
    store = tmp_path / "plain.nwb.zarr"
    with NWBZarrIO(store, "w") as io:
        io.write(new_file("nwbzarr"))
    assert OURS not in NWBZarrIO(store).read_tree().members["specifications"].members
    with NWBZarrIO(store, "a") as io:
        io.write(_new_file(OURS, nwbfile=io.read()))
    _check_pynwb_reads(store)


def test_a_type_pynwb_loaded_is_cached_as_pynwb_caches_it(tmp_path: Path) -> None:
    path = _export(tmp_path, THEIRS)
    pynwb.load_namespaces(str(path))
    ours_path = tmp_path / "ours.nwb"
    with NWBHDF5IO(ours_path, "w") as io:
        io.write(_new_file(THEIRS))
    theirs_path = tmp_path / "theirs.nwb"
    nwbfile = pynwb.NWBFile("s", "ID", new_file("nwbzarr").session_start_time)
    nwbfile.add_lab_meta_data(pynwb.get_class("SetupInfo", THEIRS)(name="setup", rig="A", offsets=[0.5]))
    with pynwb.NWBHDF5IO(str(theirs_path), "w") as io:
        io.write(nwbfile)
    assert _cached(ours_path, THEIRS) == _cached(theirs_path, THEIRS)
    _check_pynwb_reads(ours_path)


def test_load_namespaces_refuses_what_it_cannot_load(tmp_path: Path) -> None:
    path = _export(tmp_path, "ndx-nz-broken")
    (tmp_path / "ndx-nz-broken.extensions.yaml").unlink()
    with pytest.raises(SchemaError, match=r"ndx-nz-broken\.extensions\.yaml"):
        nwbzarr.load_namespaces(path)
    path.write_text(path.read_text().replace("namespace: core", "namespace: ndx-not-loaded"))
    with pytest.raises(SchemaError, match="includes 'ndx-not-loaded', which is not loaded"):
        nwbzarr.load_namespaces(path)
    (tmp_path / "bad.yaml").write_text("namespaces: [")
    with pytest.raises(SchemaError, match="not valid YAML"):
        nwbzarr.load_namespaces(tmp_path / "bad.yaml")
    assert not nwbzarr.model.namespaces.is_loaded("ndx-nz-broken")
