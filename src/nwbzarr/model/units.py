"""Units: spike times (and observation intervals, waveforms) of sorted units, one row per unit."""

from __future__ import annotations

from typing import Any

import numpy as np

from nwbzarr.model.base import neurodata_type
from nwbzarr.model.spec import attribute
from nwbzarr.model.table import DynamicTable, VectorData

__all__ = ["Units"]

#: predefined columns: name -> (description, ragged)
_COLUMNS = {
    "spike_times": ("the spike times for each unit in seconds", True),
    "obs_intervals": ("the observation intervals for each unit", True),
    "waveform_mean": ("the spike waveform mean for each spike unit", False),
    "waveform_sd": ("the spike waveform standard deviation for each spike unit", False),
}


@neurodata_type("core")
class Units(DynamicTable):
    """Sorted units; ragged ``spike_times`` and ``obs_intervals``. ``electrodes`` columns are kept generic."""

    name: str = "Units"
    description: str = attribute(default="data on spiking units")
    resolution: float | None = attribute(on="spike_times", dtype="float64", default=None)
    waveform_rate: float | None = attribute(on="waveform_mean", name="sampling_rate", dtype="float32", default=None)
    waveform_unit: str = attribute(on="waveform_mean", name="unit", default="volts")

    def add_column(
        self, name: str, description: str | None = None, *, index: bool = False, **kwargs: Any
    ) -> VectorData:
        """Add a column; the predefined ones get their schema description and raggedness."""
        known = _COLUMNS.get(name)
        if known is not None:
            description, index = description or known[0], known[1]
        return super().add_column(name, description or name, index=index, **kwargs)

    add_unit_column = add_column

    def add_unit(
        self,
        spike_times: Any = None,
        obs_intervals: Any = None,
        waveform_mean: Any = None,
        waveform_sd: Any = None,
        id: int | None = None,
        **columns: Any,
    ) -> None:
        """Add one unit (PyNWB's signature); a predefined column is created by the first unit that uses it."""
        given = {
            "spike_times": spike_times,
            "obs_intervals": obs_intervals,
            "waveform_mean": waveform_mean,
            "waveform_sd": waveform_sd,
        }
        for name, value in given.items():
            if value is None:
                continue
            cell = np.asarray(value, dtype=np.float64)
            if name == "spike_times" and cell.ndim != 1:
                raise self._fail(name, f"must be 1-D (one time per spike), got shape {cell.shape}")
            if name == "obs_intervals" and (cell.ndim != 2 or cell.shape[1] != 2):
                raise self._fail(name, f"must be (n, 2) [start, stop] pairs, got shape {cell.shape}")
            if name == "obs_intervals" and cell.size and bool(np.any(cell[:, 1] < cell[:, 0])):
                raise self._fail(name, "an interval stops before it starts")
            if name not in self.columns:
                if len(self):
                    raise self._fail(name, f"the table already has {len(self)} units without {name}")
                self.add_column(name)
            columns[name] = cell
        self.add_row(id=id, **columns)

    def get_unit_spike_times(self, index: int) -> np.ndarray:
        """The spike times of the unit in row ``index``."""
        return np.asarray(self.cell("spike_times", index), dtype=np.float64)
