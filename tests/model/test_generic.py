"""Types the model does not declare: built from the file's cached schema, changed, written back, read by PyNWB."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interop.compare import assert_cell_equal
from tests.interop.every_object_files import check_both_ways, new_file

import nwbzarr
from nwbzarr import NWBHDF5IO, NWBZarrIO
from nwbzarr.errors import ValidationError
from nwbzarr.model import Device, DynamicTable, LabMetaData, NWBContainer, NWBDataInterface
from nwbzarr.model.generic import SpecCatalog, generic_class, is_generic

pynwb = pytest.importorskip("pynwb")
hdmf_zarr = pytest.importorskip("hdmf_zarr")

NAMESPACE = "ndx-rig-test"


@pytest.fixture(scope="module")
def extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A namespace made with PyNWB's spec API: a LabMetaData type, a data interface and a DynamicTable type."""
    from pynwb.spec import NWBAttributeSpec, NWBDatasetSpec, NWBGroupSpec, NWBLinkSpec, NWBNamespaceBuilder

    folder = tmp_path_factory.mktemp("ndx")
    builder = NWBNamespaceBuilder("a test rig extension", NAMESPACE, version="0.1.0", author="t", contact="t@x")
    builder.include_type("LabMetaData", namespace="core")
    builder.include_type("NWBDataInterface", namespace="core")
    builder.include_type("Device", namespace="core")
    builder.include_type("DynamicTable", namespace="hdmf-common")
    builder.include_type("VectorData", namespace="hdmf-common")
    rig = NWBGroupSpec(
        neurodata_type_def="RigInfo",
        neurodata_type_inc="LabMetaData",
        doc="the rig of the session",
        attributes=[NWBAttributeSpec(name="rig_name", doc="which rig", dtype="text")],
        datasets=[
            NWBDatasetSpec(name="temperatures", doc="room temperature", dtype="float64", dims=["n"], shape=[None])
        ],
        links=[NWBLinkSpec(name="camera", target_type="Device", doc="the camera", quantity="?")],
    )
    tracker = NWBGroupSpec(
        neurodata_type_def="Tracker",
        neurodata_type_inc="NWBDataInterface",
        doc="a tracked object",
        attributes=[NWBAttributeSpec(name="gain", doc="gain", dtype="float32", required=False)],
        datasets=[NWBDatasetSpec(name="points", doc="points", dtype="float32", dims=["t", "xy"], shape=[None, 2])],
        links=[NWBLinkSpec(name="device", target_type="Device", doc="the tracker", quantity="?")],
    )
    table = NWBGroupSpec(
        neurodata_type_def="StimulusTable",
        neurodata_type_inc="DynamicTable",
        doc="one row per stimulus",
        datasets=[NWBDatasetSpec(name="contrast", neurodata_type_inc="VectorData", doc="contrast", dtype="float64")],
    )
    builder.add_spec(f"{NAMESPACE}.extensions.yaml", rig)
    builder.add_spec(f"{NAMESPACE}.extensions.yaml", tracker)
    builder.add_spec(f"{NAMESPACE}.extensions.yaml", table)
    builder.export(f"{NAMESPACE}.namespace.yaml", outdir=str(folder))
    pynwb.load_namespaces(str(folder / f"{NAMESPACE}.namespace.yaml"))
    return folder


def _pynwb_file(path: Path) -> None:
    RigInfo = pynwb.get_class("RigInfo", NAMESPACE)
    Tracker = pynwb.get_class("Tracker", NAMESPACE)
    StimulusTable = pynwb.get_class("StimulusTable", NAMESPACE)
    from nwbzarr.testing.tutorial import SESSION_START

    nwbfile = pynwb.NWBFile("ext", "EXT", SESSION_START)
    camera = nwbfile.create_device(name="camera", description="a camera")
    nwbfile.add_lab_meta_data(RigInfo(name="rig", rig_name="A", temperatures=[20.5, 21.0], camera=camera))
    nwbfile.add_acquisition(Tracker(name="tracker", points=np.arange(8, dtype=np.float32).reshape(4, 2), gain=2.0))
    table = StimulusTable(name="stimuli", description="shown")
    table.add_column("label", "stimulus label")
    table.add_row(contrast=0.5, label="grating")
    table.add_row(contrast=1.0, label="noise")
    nwbfile.add_acquisition(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwbfile)


def test_extension_read_generically_changed_written_read_by_pynwb(extension: Path, tmp_path: Path) -> None:
    source = tmp_path / "ext.nwb"
    _pynwb_file(source)
    out = tmp_path / "changed.nwb.zarr"
    with NWBHDF5IO(source) as io:
        nwbfile = io.read()
        rig = nwbfile.lab_meta_data["rig"]
        assert isinstance(rig, LabMetaData) and is_generic(rig) and rig.neurodata_type == "RigInfo"
        assert rig.namespace == NAMESPACE and rig.rig_name == "A"  # type: ignore[attr-defined]
        assert rig.temperatures[:].tolist() == [20.5, 21.0]  # type: ignore[attr-defined]
        assert rig.camera is nwbfile.devices["camera"]  # type: ignore[attr-defined]
        assert "RigInfo" in repr(rig) and "rig_name: 'A'" in repr(rig) and "RigInfo" in rig._repr_html_()
        tracker = nwbfile.acquisition["tracker"]
        assert isinstance(tracker, NWBDataInterface) and tracker.points.shape == (4, 2)  # type: ignore[attr-defined]
        stimuli = nwbfile.acquisition["stimuli"]
        assert isinstance(stimuli, DynamicTable) and stimuli.colnames == ("contrast", "label")
        with pynwb.NWBHDF5IO(str(source), "r") as theirs_io:
            theirs = theirs_io.read().acquisition["stimuli"].to_dataframe()
            ours = stimuli.to_dataframe()
            assert list(ours.columns) == list(theirs.columns) and list(ours.index) == list(theirs.index)
            for column in ours.columns:
                for x, y in zip(ours[column], theirs[column], strict=True):
                    assert_cell_equal(x, y, column)
        # changed, and a new object of an extension type from the file's own schema
        rig.rig_name = "B"  # type: ignore[attr-defined]
        tracker.gain = 4.0  # type: ignore[attr-defined]
        Tracker = nwbzarr.get_class("Tracker", NAMESPACE, source=nwbfile)
        nwbfile.add_acquisition(
            Tracker(name="second", points=np.ones((2, 2), dtype=np.float32), device=nwbfile.devices["camera"])
        )
        with NWBZarrIO(out, "w") as io_out:
            io_out.write(nwbfile)
    with hdmf_zarr.NWBZarrIO(str(out), mode="r") as zio:
        back = zio.read()
        assert back.lab_meta_data["rig"].rig_name == "B"
        assert list(back.lab_meta_data["rig"].temperatures[:]) == [20.5, 21.0]
        assert back.lab_meta_data["rig"].camera.object_id == back.devices["camera"].object_id
        assert back.acquisition["tracker"].gain == 4.0
        assert back.acquisition["second"].points[:].tolist() == [[1.0, 1.0], [1.0, 1.0]]
        assert back.acquisition["second"].device.name == "camera"
        assert back.acquisition["stimuli"].to_dataframe()["label"].tolist() == ["grating", "noise"]
        assert type(back.acquisition["stimuli"]).__name__ == "StimulusTable"


def test_get_class_from_pynwb_namespaces_and_mode_a(extension: Path, tmp_path: Path) -> None:
    source = tmp_path / "ext.nwb"
    _pynwb_file(source)
    store = tmp_path / "ext.nwb.zarr"
    nwbzarr.convert(source, store)
    RigInfo = nwbzarr.get_class("RigInfo", NAMESPACE)  # from PyNWB's loaded namespaces
    assert issubclass(RigInfo, LabMetaData) and RigInfo.__name__ == "RigInfo"
    with NWBZarrIO(store, "a") as io:
        nwbfile = io.read()
        nwbfile.add_lab_meta_data(RigInfo(name="rig2", rig_name="C", temperatures=np.array([19.0])))  # type: ignore[call-arg]
        io.write(nwbfile)
    with hdmf_zarr.NWBZarrIO(str(store), mode="r") as zio:
        back = zio.read()
        assert back.lab_meta_data["rig2"].rig_name == "C"
        assert back.lab_meta_data["rig"].rig_name == "A"


def test_unknown_type_name_is_a_clear_error(extension: Path) -> None:
    with pytest.raises(nwbzarr.errors.ContainerNotFoundError, match="no type 'Nope'"):
        nwbzarr.get_class("Nope", NAMESPACE)


def _features(library: str) -> Any:
    nwbfile = new_file(library)
    if library == "pynwb":
        from pynwb.misc import AbstractFeatureSeries
    else:
        AbstractFeatureSeries = nwbzarr.get_class("AbstractFeatureSeries", "core")
    nwbfile.add_acquisition(
        AbstractFeatureSeries(
            name="features",
            data=np.arange(12.0).reshape(4, 3),
            features=["speed", "lick", "pupil"],
            feature_units=["cm/s", "n", "mm"],
            timestamps=[0.0, 0.5, 1.0, 1.5],
        )
    )
    return nwbfile


def test_a_core_type_the_model_leaves_generic_both_ways(tmp_path: Path) -> None:
    """AbstractFeatureSeries (no model class): PyNWB's file reads generically, nwbzarr's reads in PyNWB."""

    def same(ours: Any, theirs: Any) -> None:
        series = ours.acquisition["features"]
        assert is_generic(series) and isinstance(series, nwbzarr.TimeSeries)
        assert list(series.features[:]) == list(theirs.acquisition["features"].features[:])
        assert series.get_timestamps().tolist() == [0.0, 0.5, 1.0, 1.5]

    assert check_both_ways(_features, tmp_path, same) > 20


def test_the_shipped_schema_builds_classes_without_pynwb() -> None:
    catalog = SpecCatalog.shipped()
    ElectrodeGroup = generic_class(catalog, "ElectrodeGroup", "core")
    assert issubclass(ElectrodeGroup, NWBContainer) and is_generic(ElectrodeGroup)
    probe = Device(name="probe")
    group = ElectrodeGroup(name="shank0", description="a shank", location="CA1", device=probe)  # type: ignore[call-arg]
    assert group.device is probe and "location: 'CA1'" in repr(group)  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match=r"ElectrodeGroup 'shank0', field 'device': expected Device"):
        ElectrodeGroup(name="shank0", description="a shank", location="CA1", device="probe")  # type: ignore[call-arg]
    assert generic_class(catalog, "TimeSeries", "core") is nwbzarr.TimeSeries
