"""Write the legacy Zarr v2 fixtures (tests/data/v2) with hdmf-zarr 0.13, as DANDI's stores were written.

Run through scripts/make_v2_fixtures.sh, which makes the environment hdmf-zarr 0.13 needs (zarr < 3).
Each store gets a JSON sidecar with what PyNWB + hdmf-zarr 0.13 read from it, for the tests to compare.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

os.environ["NUMCODECS_ALLOW_UNSAFE_PICKLE_DECODE"] = "1"  # 0.13 cannot read back its own pickled refs otherwise

import numpy as np
from hdmf_zarr import NWBZarrIO

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "v2"

spec = importlib.util.spec_from_file_location("tutorial", ROOT / "src" / "nwbzarr" / "testing" / "tutorial.py")
tutorial = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(tutorial)  # type: ignore[union-attr]


def ecephys_file():  # type: ignore[no-untyped-def]
    from pynwb.ecephys import ElectricalSeries
    from pynwb.file import Subject

    nwbfile = tutorial.build_tutorial_file("pynwb", frames=8, size=8, with_dff=False)
    nwbfile.subject = Subject(subject_id="m1", species="Mus musculus", age="P90D", sex="M")
    device = nwbfile.create_device(name="probe", description="silicon probe")
    group = nwbfile.create_electrode_group(name="shank0", description="shank", location="CA1", device=device)
    for i in range(4):
        nwbfile.add_electrode(group=group, location="CA1", x=float(i), y=0.0, z=0.0)
    region = nwbfile.create_electrode_table_region([0, 1, 2, 3], "all electrodes")
    nwbfile.add_acquisition(
        ElectricalSeries(
            name="ephys", data=np.arange(40, dtype=np.int16).reshape(10, 4), electrodes=region, rate=30000.0
        )
    )
    for i in range(3):
        nwbfile.add_unit(spike_times=[0.1 * i, 0.2 * i + 0.05])
    nwbfile.add_trial(start_time=0.0, stop_time=1.0)
    nwbfile.add_trial(start_time=2.0, stop_time=3.0)
    return nwbfile


def _plain(value):  # type: ignore[no-untyped-def]
    if hasattr(value, "object_id") and hasattr(value, "name"):
        return {"object": value.object_id}
    if hasattr(value, "shape") and hasattr(value, "__getitem__"):
        value = np.asarray(value[()])
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            return [[_plain(v) for v in row] for row in value.tolist()]
        return [_plain(v) for v in value.tolist()] if value.ndim else _plain(value.item())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def sidecar(path: Path) -> dict:  # type: ignore[type-arg]
    with NWBZarrIO(str(path), "r") as io:
        nwbfile = io.read()
        objects = {}
        for obj in nwbfile.objects.values():
            fields = {}
            for key, value in obj.fields.items():
                if key in ("data", "timestamps", "electrodes", "rois", "id") or not hasattr(value, "fields"):
                    try:
                        fields[key] = _plain(value)
                    except Exception as exc:  # noqa: BLE001 - record what could not be read
                        fields[key] = f"<unreadable: {type(exc).__name__}>"
            objects[obj.object_id] = {"type": type(obj).__name__, "name": obj.name, "fields": fields}
        return {"hdmf_zarr": "0.13.0", "objects": objects}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in (
        ("ophys", lambda: tutorial.build_tutorial_file("pynwb", frames=12, size=10)),
        ("ecephys", ecephys_file),
    ):
        path = OUT / f"{name}.nwb.zarr"
        shutil.rmtree(path, ignore_errors=True)
        with NWBZarrIO(str(path), "w") as io:
            io.write(build())
        (OUT / f"{name}.expected.json").write_text(json.dumps(sidecar(path), indent=1, sort_keys=True))
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        print(f"{path}: {size / 1024:.0f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
