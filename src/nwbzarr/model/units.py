"""Units: spike times (and observation intervals, waveforms) of sorted units, one row per unit."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nwbzarr.model.base import Container, neurodata_type
from nwbzarr.model.spec import attribute
from nwbzarr.model.table import DynamicTable, DynamicTableRegion, VectorData

__all__ = ["Units"]

_WAVEFORMS = (
    "Individual waveforms for each spike. If the dataset is three-dimensional, the third dimension shows the "
    "response from different electrodes that all observe this unit simultaneously. In this case, the `electrodes` "
    "column of this Units table should be used to indicate which electrodes are associated with this unit, and the "
    "electrodes dimension here should be in the same order as the electrodes referenced in the `electrodes` column "
    "of this table."
)
#: predefined columns (PyNWB's descriptions): name -> (description, how many times ragged)
_COLUMNS = {
    "spike_times": ("the spike times for each unit in seconds", 1),
    "obs_intervals": ("the observation intervals for each unit", 1),
    "electrodes": ("the electrodes that each spike unit came from", 1),
    "electrode_group": ("the electrode group that each spike unit came from", 0),
    "waveform_mean": ("the spike waveform mean for each spike unit", 0),
    "waveform_sd": ("the spike waveform standard deviation for each spike unit", 0),
    "waveforms": (_WAVEFORMS, 2),
}
_NUMERIC = ("spike_times", "obs_intervals", "waveform_mean", "waveform_sd", "waveforms")


@neurodata_type("core")
class Units(DynamicTable):
    """Sorted units: ragged ``spike_times``, ``obs_intervals`` and ``electrodes``, doubly ragged ``waveforms``.

    ``electrodes`` are rows of the file's electrodes table (``nwbfile.electrodes``, or ``electrode_table``).
    """

    name: str = "Units"
    description: str = attribute(default="data on spiking units")
    resolution: float | None = attribute(on="spike_times", dtype="float64", default=None)
    waveform_rate: float | None = attribute(on="waveform_mean", name="sampling_rate", dtype="float32", default=None)
    waveform_unit: str = attribute(on="waveform_mean", name="unit", default="volts")
    #: the electrodes table the ``electrodes`` column selects rows of (PyNWB's argument; not stored itself)
    electrode_table: DynamicTable | None = dataclasses.field(default=None, repr=False, compare=False)

    def add_column(
        self, name: str, description: str | None = None, *, index: bool | int = False, **kwargs: Any
    ) -> VectorData:
        """Add a column; the predefined ones get their schema description, raggedness and kind."""
        known = _COLUMNS.get(name)
        if known is not None:
            description, index = description or known[0], known[1]
            if name == "electrodes":
                kwargs.setdefault("col_cls", DynamicTableRegion)
                kwargs.setdefault("table", self._electrodes_table())
        return super().add_column(name, description or name, index=index, **kwargs)

    add_unit_column = add_column

    def _electrodes_table(self) -> DynamicTable:
        table = self.electrode_table
        if table is None and self.parent is not None:
            table = getattr(self.parent, "electrodes", None)
        if not isinstance(table, DynamicTable):
            raise self._fail(
                "electrodes", "needs an electrodes table: the file's (nwbfile.electrodes) or electrode_table"
            )
        return table

    def add_unit(
        self,
        spike_times: Any = None,
        obs_intervals: Any = None,
        electrodes: Any = None,
        electrode_group: Container | None = None,
        waveform_mean: Any = None,
        waveform_sd: Any = None,
        waveforms: Any = None,
        id: int | None = None,
        **columns: Any,
    ) -> None:
        """Add one unit (PyNWB's signature); a predefined column is created by the first unit that uses it.

        ``electrodes``: row positions in the electrodes table; ``waveforms``: one unit's spikes, each
        ``(electrodes, samples)`` (or ``(samples,)`` for one electrode).
        """
        given = {
            "spike_times": spike_times,
            "obs_intervals": obs_intervals,
            "electrodes": electrodes,
            "electrode_group": electrode_group,
            "waveform_mean": waveform_mean,
            "waveform_sd": waveform_sd,
            "waveforms": waveforms,
        }
        for name, value in given.items():
            if value is None:
                continue
            cell = self._cell(name, value)
            if name not in self.columns:
                if len(self):
                    raise self._fail(name, f"the table already has {len(self)} units without {name}")
                self.add_column(name)
            columns[name] = cell
        if "electrodes" in columns:
            self._check_electrodes(columns["electrodes"])
        self.add_row(id=id, **columns)

    def _cell(self, name: str, value: Any) -> Any:
        if name == "electrode_group":
            if not isinstance(value, Container):
                raise self._fail(name, f"expected an ElectrodeGroup, got {type(value).__name__}")
            return value
        if name == "electrodes":
            rows = np.asarray(value)
            if rows.ndim != 1 or (rows.size and rows.dtype.kind not in "iu"):
                raise self._fail(name, f"expected row positions in the electrodes table (integers), got {value!r}")
            return rows.astype(np.int64)
        try:
            cell = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise self._fail(name, f"expected numbers, got {value!r}") from None
        if name == "spike_times" and cell.ndim != 1:
            raise self._fail(name, f"must be 1-D (one time per spike), got shape {cell.shape}")
        if name == "obs_intervals" and (cell.ndim != 2 or cell.shape[1] != 2):
            raise self._fail(name, f"must be (n, 2) [start, stop] pairs, got shape {cell.shape}")
        if name == "obs_intervals" and cell.size and bool(np.any(cell[:, 1] < cell[:, 0])):
            raise self._fail(name, "an interval stops before it starts")
        if name == "waveforms":
            if cell.ndim == 2:  # one electrode: (spikes, samples)
                cell = cell[:, np.newaxis, :]
            if cell.ndim != 3:
                raise self._fail(name, f"must be (spikes, electrodes, samples), got shape {cell.shape}")
            return list(cell)  # one ragged cell per spike, one row per electrode
        return cell

    def _check_electrodes(self, rows: np.ndarray) -> None:
        n = len(self._electrodes_table())
        bad = rows[(rows < 0) | (rows >= n)]
        if bad.size:
            raise self._fail("electrodes", f"rows {bad.tolist()} are outside the electrodes table with {n} rows")

    def get_unit_spike_times(self, index: int) -> np.ndarray:
        """The spike times of the unit in row ``index``."""
        return np.asarray(self.cell("spike_times", index), dtype=np.float64)
