"""Files PyNWB writes, with content beyond ophys, and a comparison of two PyNWB reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbzarr.testing.tutorial import SESSION_START, build_tutorial_file


def write_ecephys_file(path: Path) -> None:
    """An NWB HDF5 file (PyNWB) with electrodes (object-reference column), units, trials, a Subject and ophys."""
    from pynwb import NWBHDF5IO
    from pynwb.ecephys import ElectricalSeries
    from pynwb.file import Subject

    nwbfile = build_tutorial_file("pynwb", frames=20, size=16)
    nwbfile.subject = Subject(subject_id="m1", species="Mus musculus", age="P90D", sex="M")
    device = nwbfile.create_device(name="probe", description="silicon probe")
    groups = [
        nwbfile.create_electrode_group(name=f"shank{i}", description="shank", location="CA1", device=device)
        for i in range(2)
    ]
    for i in range(6):
        nwbfile.add_electrode(group=groups[i % 2], location="CA1", x=float(i), y=0.0, z=0.0)
    region = nwbfile.create_electrode_table_region(list(range(6)), "all electrodes")
    nwbfile.add_acquisition(
        ElectricalSeries(
            name="ephys",
            data=np.random.default_rng(0).integers(-500, 500, (100, 6), dtype=np.int16),
            electrodes=region,
            rate=30000.0,
            conversion=1e-6,
        )
    )
    nwbfile.add_unit_column("quality", "sorting quality")
    for i in range(3):
        nwbfile.add_unit(spike_times=np.sort(np.random.default_rng(i).random(5 + i)), quality="good")
    nwbfile.add_trial_column("stimulus", "what was shown")
    for i in range(4):
        nwbfile.add_trial(start_time=float(i), stop_time=i + 0.5, stimulus=f"grating {i * 45}")
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def assert_pynwb_files_equal(a: Any, b: Any) -> int:
    """Every object of PyNWB file ``a`` is in ``b`` (same id, type, name) with equal fields."""
    theirs = {obj.object_id: obj for obj in b.objects.values()}
    compared = 0
    for obj in a.objects.values():
        other = theirs.get(obj.object_id)
        assert other is not None, f"{type(obj).__name__} {obj.name!r} missing"
        assert type(other) is type(obj) and other.name == obj.name
        for key, value in obj.fields.items():
            _assert_equal(value, other.fields.get(key), f"{type(obj).__name__} {obj.name!r}.{key}")
            compared += 1
    assert len(theirs) == len(a.objects)
    return compared


def _assert_equal(x: Any, y: Any, where: str) -> None:
    from hdmf.container import AbstractContainer, Data

    if isinstance(x, AbstractContainer) and not isinstance(x, Data):
        assert isinstance(y, AbstractContainer) and y.object_id == x.object_id, where
    elif isinstance(x, Data):
        _assert_equal(x.data, y.data, where)
    elif isinstance(x, (list, tuple)) and x and isinstance(x[0], AbstractContainer):
        assert [v.object_id for v in x] == [v.object_id for v in y], where
    elif isinstance(x, dict):
        assert set(x) == set(y), where
    elif hasattr(x, "shape") or isinstance(x, (list, tuple)):
        ax, ay = np.asarray(x[()] if hasattr(x, "shape") else x), np.asarray(y[()] if hasattr(y, "shape") else y)
        assert ax.shape == ay.shape, f"{where}: {ax.shape} != {ay.shape}"
        if ax.dtype.names:
            for n in ax.dtype.names:
                _assert_equal(list(ax[n]), list(ay[n]), f"{where}.{n}")
        elif ax.dtype.kind in "OSU" or ay.dtype.kind in "OSU":
            assert [_plain(v) for v in ax.ravel()] == [_plain(v) for v in ay.ravel()], where
        else:
            assert np.array_equal(ax, ay, equal_nan=ax.dtype.kind == "f"), where
    else:
        assert _plain(x) == _plain(y), f"{where}: {x!r} != {y!r}"


def _plain(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode()
    object_id = getattr(v, "object_id", None)
    if object_id is not None:
        return object_id
    return v


__all__ = ["SESSION_START", "assert_pynwb_files_equal", "write_ecephys_file"]
