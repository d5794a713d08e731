"""Units' ecephys columns: ``electrodes``, ``electrode_group``, ``waveform_mean``/``waveform_sd``, ``waveforms``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interop.every_object_files import new_file

from nwbzarr import NWBHDF5IO, NWBZarrIO
from nwbzarr.errors import ValidationError
from nwbzarr.model import NWBFile, Units

pynwb = pytest.importorskip("pynwb")
hdmf_zarr = pytest.importorskip("hdmf_zarr")

COLUMNS = ("spike_times", "electrodes", "electrode_group", "waveform_mean", "waveform_sd", "waveforms")


def _units(nwbfile: Any, groups: list[Any]) -> None:
    """Two units on the file's electrodes, the same calls in PyNWB and nwbzarr."""
    nwbfile.add_unit(
        spike_times=[0.1, 0.2, 0.3],
        electrodes=[0, 1],
        electrode_group=groups[0],
        waveform_mean=np.ones((5, 2)),
        waveform_sd=np.zeros((5, 2)),
        waveforms=np.arange(30.0).reshape(3, 2, 5),
    )
    nwbfile.add_unit(
        spike_times=[0.5],
        electrodes=[2],
        electrode_group=groups[1],
        waveform_mean=np.full((5, 2), 2.0),
        waveform_sd=np.ones((5, 2)),
        waveforms=np.arange(5.0).reshape(1, 1, 5),
    )


def _pynwb_file(path: Path, with_units: bool) -> None:
    nwbfile = new_file("pynwb")
    probe = nwbfile.create_device(name="probe")
    groups = [
        nwbfile.create_electrode_group(name=f"shank{i}", description=f"s{i}", location="CA1", device=probe)
        for i in range(2)
    ]
    for i in range(4):
        nwbfile.add_electrode(group=groups[i // 2], location="CA1")
    if with_units:
        _units(nwbfile, groups)
    writer = hdmf_zarr.NWBZarrIO if path.name.endswith(".zarr") else pynwb.NWBHDF5IO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with writer(str(path), mode="w") as io:
            io.write(nwbfile)


def _same_units(ours: Units, theirs: Any) -> None:
    assert ours.colnames == theirs.colnames == COLUMNS
    a, b = ours.to_dataframe(), theirs.to_dataframe(index=True)  # PyNWB: region cells as row positions
    assert list(a.index) == list(b.index)
    for i in range(len(a)):
        assert a["spike_times"].iloc[i].tolist() == list(b["spike_times"].iloc[i])
        assert list(a["electrodes"].iloc[i]) == list(b["electrodes"].iloc[i])
        assert a["electrode_group"].iloc[i].object_id == b["electrode_group"].iloc[i].object_id
        for column in ("waveform_mean", "waveform_sd"):
            assert np.array_equal(a[column].iloc[i], b[column].iloc[i]), column
        mine, their = a["waveforms"].iloc[i], b["waveforms"].iloc[i]
        assert len(mine) == len(their) and all(np.array_equal(x, y) for x, y in zip(mine, their, strict=True))


@pytest.mark.parametrize("name", ["p.nwb", "p.nwb.zarr"])
def test_pynwb_units_read_with_pynwb_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _pynwb_file(path, with_units=True)
    reader = (NWBZarrIO if name.endswith(".zarr") else NWBHDF5IO)(path)
    theirs_io = (hdmf_zarr.NWBZarrIO if name.endswith(".zarr") else pynwb.NWBHDF5IO)(str(path), mode="r")
    with reader as io, theirs_io as tio:
        ours, theirs = io.read(), tio.read()
        assert ours.electrodes is not None and len(ours.electrodes) == 4
        assert set(ours.electrode_groups) == {"shank0", "shank1"}
        units = ours.units
        assert units is not None
        assert units.to_dataframe()["electrode_group"].iloc[1] is ours.electrode_groups["shank1"]
        assert units.cell("waveforms", 0)[2].tolist() == np.arange(20.0, 30.0).reshape(2, 5).tolist()
        assert units["electrodes"].table is ours.electrodes  # type: ignore[attr-defined]
        _same_units(units, theirs.units)


@pytest.mark.parametrize("name", ["o.nwb", "o.nwb.zarr"])
def test_units_added_by_nwbzarr_read_in_pynwb(tmp_path: Path, name: str) -> None:
    source, expected = tmp_path / "electrodes.nwb", tmp_path / "expected.nwb"
    _pynwb_file(source, with_units=False)
    _pynwb_file(expected, with_units=True)
    out = tmp_path / name
    writer = NWBZarrIO if name.endswith(".zarr") else NWBHDF5IO
    with NWBHDF5IO(source) as io:
        nwbfile = io.read()
        _units(nwbfile, [nwbfile.electrode_groups["shank0"], nwbfile.electrode_groups["shank1"]])
        with writer(out, "w") as io_out:
            io_out.write(nwbfile)
    reader = hdmf_zarr.NWBZarrIO if name.endswith(".zarr") else pynwb.NWBHDF5IO
    with warnings.catch_warnings(), reader(str(out), mode="r") as tio, pynwb.NWBHDF5IO(str(expected), "r") as eio:
        warnings.simplefilter("ignore")
        back, want = tio.read(), eio.read()
        a, b = back.units.to_dataframe(index=True), want.units.to_dataframe(index=True)
        assert list(a.columns) == list(b.columns) == list(COLUMNS)
        for column in COLUMNS:
            for x, y in zip(a[column], b[column], strict=True):
                if column == "electrode_group":
                    assert x.name == y.name
                elif column == "waveforms":
                    assert all(np.array_equal(p, q) for p, q in zip(x, y, strict=True))
                else:
                    assert np.array_equal(np.asarray(x), np.asarray(y)), column
        assert back.units["electrodes"].target.table.object_id == back.electrodes.object_id
        # PyNWB caches every namespace it has loaded (other tests' extensions) and then validates against them
        if reader is pynwb.NWBHDF5IO and set(tio._file["specifications"]) <= {
            "core",
            "hdmf-common",
            "hdmf-experimental",
        }:
            assert pynwb.validate(io=tio) == []


def test_bad_unit_input_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "e.nwb"
    _pynwb_file(path, with_units=False)
    with NWBHDF5IO(path) as io:
        nwbfile = io.read()
        group = nwbfile.electrode_groups["shank0"]
        with pytest.raises(ValidationError, match=r"field 'electrodes': rows \[7\] are outside the electrodes table"):
            nwbfile.add_unit(spike_times=[0.1], electrodes=[0, 7])
        with pytest.raises(ValidationError, match=r"field 'electrode_group': expected an ElectrodeGroup, got str"):
            nwbfile.add_unit(spike_times=[0.1], electrode_group="shank0")
        with pytest.raises(ValidationError, match=r"field 'waveforms': must be \(spikes, electrodes, samples\)"):
            nwbfile.add_unit(spike_times=[0.1], waveforms=np.ones(5))
        assert nwbfile.units is None or len(nwbfile.units) == 0
        nwbfile.add_unit(spike_times=[0.1], electrodes=[1], electrode_group=group)
    lonely: NWBFile = new_file("nwbzarr")
    with pytest.raises(ValidationError, match=r"field 'electrodes': needs an electrodes table"):
        lonely.add_unit(spike_times=[0.1], electrodes=[0])
