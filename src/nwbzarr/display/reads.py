"""What a summary figure of an imaging session shows, found in the file and read within a budget.

:class:`SessionParts` finds the movie, the ROI tables and the traces without reading anything;
:class:`Traces`, :func:`read_all_masks` and :class:`Projection` read them through a
:class:`~nwbzarr.display.budget.ReadBudget` and say in ``notes`` what the budget left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nwbzarr.display.budget import OverBudgetError, ReadBudget, read_unit
from nwbzarr.display.masks import RoiMasks, read_masks
from nwbzarr.display.walk import walk
from nwbzarr.errors import NWBZarrError
from nwbzarr.model import (
    DfOverF,
    Fluorescence,
    ImageSeries,
    NWBFile,
    OnePhotonSeries,
    PlaneSegmentation,
    RoiResponseSeries,
    TwoPhotonSeries,
)
from nwbzarr.operations.summary import format_bytes

__all__ = ["Projection", "ProjectionKind", "SessionParts", "Traces", "read_all_masks", "trace_share"]

ProjectionKind = Literal["mean", "max"]


@dataclass
class SessionParts:
    """The movie, ROI tables and traces a summary shows, found from instance state (nothing read)."""

    movie: ImageSeries | None
    tables: list[PlaneSegmentation]
    dff: RoiResponseSeries | None
    fluorescence: RoiResponseSeries | None

    @classmethod
    def find(cls, nwbfile: NWBFile, series: str | None) -> SessionParts:
        objects = list(walk(nwbfile))
        movies = [o for o in objects if isinstance(o, ImageSeries) and _has_frames(o)]
        if series is not None:
            named = [m for m in movies if m.name == series]
            if not named:
                have = ", ".join(repr(m.name) for m in movies) or "none"
                raise NWBZarrError(f"{series!r}: no imaging series with frames of that name (have {have})")
            movie: ImageSeries | None = named[0]
        else:
            ranked = sorted(movies, key=lambda m: not isinstance(m, (TwoPhotonSeries, OnePhotonSeries)))
            movie = ranked[0] if ranked else None
        dff = _first_series(objects, DfOverF)
        fluorescence = _first_series(objects, Fluorescence, like=dff)
        tables = [o for o in objects if isinstance(o, PlaneSegmentation)]
        main = _table_of(dff) or _table_of(fluorescence)
        if main is not None and main in tables:
            plane = main.__dict__.get("imaging_plane")
            others = [t for t in tables if t is not main and t.__dict__.get("imaging_plane") is plane]
            tables = [main, *others]
        return cls(movie=movie, tables=tables, dff=dff, fluorescence=fluorescence)


def _has_frames(series: ImageSeries) -> bool:
    shape = getattr(series.__dict__.get("data"), "shape", None)
    return isinstance(shape, tuple) and len(shape) >= 3 and all(n > 0 for n in shape)


def _first_series(
    objects: list[Any], kind: type[DfOverF | Fluorescence], like: RoiResponseSeries | None = None
) -> RoiResponseSeries | None:
    found: list[RoiResponseSeries] = [
        s
        for o in objects
        if isinstance(o, kind)
        for s in o.roi_response_series.values()
        if isinstance(s, RoiResponseSeries) and getattr(s.__dict__.get("data"), "shape", None)
    ]
    if like is not None:
        same = [s for s in found if _table_of(s) is _table_of(like)]
        found = same or found
    wide = [s for s in found if len(s.__dict__["data"].shape) == 2]
    ranked = wide or found
    return ranked[0] if ranked else None


def _table_of(series: RoiResponseSeries | None) -> PlaneSegmentation | None:
    if series is None:
        return None
    rois = series.__dict__.get("rois")
    table = rois.__dict__.get("table") if rois is not None else None
    return table if isinstance(table, PlaneSegmentation) else None


@dataclass
class Traces:
    """dF/F of every ROI over the window the budget allowed, and a few ROIs picked to show as traces."""

    times: np.ndarray  # (t,) seconds
    dff: np.ndarray  # (t, n) dF/F of every ROI of the series
    dff_label: str
    rows: np.ndarray  # table row of each column
    chosen: list[int]  # columns shown as traces
    fluorescence: np.ndarray | None  # (t, len(chosen))
    fluorescence_unit: str
    labels: list[str]
    has_fluorescence: bool

    @classmethod
    def read(cls, parts: SessionParts, budget: ReadBudget, *, n_traces: int, notes: list[str]) -> Traces | None:
        source = parts.dff or parts.fluorescence
        if source is None:
            notes.append("no DfOverF or Fluorescence traces in the file")
            return None
        data = source.__dict__["data"]
        total = int(data.shape[0])
        stop = _longest_prefix(budget, data, total)
        if stop == 0:
            notes.append(f"{source.name}: one chunk of traces is larger than the read budget")
            return None
        values = _as_2d(budget.read(f"{_parent_name(source)} traces", data, slice(0, stop)))
        times = _times(source, stop, budget)
        if parts.dff is not None:
            dff, label = values.astype(np.float64), "dF/F"
        else:
            f0 = np.percentile(values, 10, axis=0, keepdims=True)
            dff = (values - f0) / np.where(f0 == 0, 1, f0)
            label = "dF/F (from F, F0 = 10th percentile)"
        rows = _region_rows(source, dff.shape[1], budget)
        peak = np.nanpercentile(dff, 99, axis=0) - np.nanmedian(dff, axis=0)
        chosen = sorted(np.argsort(peak)[::-1][: max(0, n_traces)].tolist())
        fluorescence = None
        unit = ""
        if parts.fluorescence is not None:
            unit = str(parts.fluorescence.__dict__.get("unit") or "")
            if parts.fluorescence is source:
                fluorescence = values[:, chosen]
            else:
                fluorescence = _read_columns(parts.fluorescence, stop, chosen, budget)
        table = _table_of(source)
        ids = _row_ids(table, budget)
        labels = [f"ROI {ids[rows[c]] if ids is not None and rows[c] < len(ids) else rows[c]}" for c in chosen]
        if stop < total:
            notes.append(f"traces: the first {stop} of {total} samples fit the budget")
        return cls(times, dff, label, rows, chosen, fluorescence, unit, labels, parts.fluorescence is not None)


def _parent_name(series: RoiResponseSeries) -> str:
    return f"{series.parent.name}/{series.name}" if series.parent is not None else series.name


def _as_2d(values: np.ndarray) -> np.ndarray:
    return values.reshape(len(values), -1)


def _longest_prefix(budget: ReadBudget, data: Any, total: int) -> int:
    """The largest ``stop`` whose ``data[0:stop]`` fits the budget (the cost grows with ``stop``)."""
    low, high = 0, total
    while low < high:
        middle = (low + high + 1) // 2
        if budget.fits(data, slice(0, middle)):
            low = middle
        else:
            high = middle - 1
    return low


def _times(series: RoiResponseSeries, stop: int, budget: ReadBudget) -> np.ndarray:
    stamps = series.__dict__.get("timestamps")
    if stamps is not None:
        try:
            return np.asarray(budget.read(f"{series.name} timestamps", stamps, slice(0, stop)), dtype=np.float64)
        except OverBudgetError:
            pass
    rate = series.rate or 1.0
    start = series.starting_time or 0.0
    return float(start) + np.arange(stop) / float(rate)


def _region_rows(series: RoiResponseSeries, n: int, budget: ReadBudget) -> np.ndarray:
    rois = series.__dict__.get("rois")
    data = rois.__dict__.get("data") if rois is not None else None
    if data is not None:
        try:
            rows = np.asarray(budget.read("rois", data, slice(None)) if not isinstance(data, list) else data)
            if rows.shape == (n,):
                return rows.astype(np.int64)
        except OverBudgetError:
            pass
    return np.arange(n)


def _row_ids(table: PlaneSegmentation | None, budget: ReadBudget) -> np.ndarray | None:
    ids = table.__dict__.get("id") if table is not None else None
    data = ids.__dict__.get("data") if ids is not None else None
    if data is None:
        return None
    if isinstance(data, list):
        return np.asarray(data)
    try:
        return budget.read("ROI ids", data, slice(None))
    except OverBudgetError:
        return None


def _read_columns(series: RoiResponseSeries, stop: int, columns: list[int], budget: ReadBudget) -> np.ndarray | None:
    """Some columns of a (time, roi) series: one read of the block, or one per column if cheaper."""
    data = series.__dict__["data"]
    stop = min(stop, int(data.shape[0]))
    block_key: tuple[slice, ...] = (slice(0, stop), slice(None))
    if data.ndim == 1:
        columns, block_key = [0], (slice(0, stop),)
    one_by_one = sum(budget.cost(data, (slice(0, stop), c)) for c in columns) if data.ndim == 2 else math.inf
    try:
        if one_by_one < budget.cost(data, block_key):
            return np.stack([budget.read(f"{series.name} ROI {c}", data, (slice(0, stop), c)) for c in columns], 1)
        return _as_2d(budget.read(f"{_parent_name(series)} traces", data, block_key))[:, columns]
    except OverBudgetError:
        return None


def read_all_masks(parts: SessionParts, budget: ReadBudget, *, notes: list[str]) -> list[RoiMasks]:
    out = []
    for table in parts.tables:
        masks = read_masks(table, budget)
        if masks is None:
            continue
        out.append(masks)
        if len(masks.footprints) < masks.total:
            notes.append(f"{table.name}: outlines of {len(masks.footprints)} of {masks.total} ROIs fit the budget")
    if not parts.tables:
        notes.append("no PlaneSegmentation in the file: no ROI outlines")
    return out


@dataclass
class Projection:
    """A mean or max projection of whole time-chunks spread over the session."""

    image: np.ndarray
    how: ProjectionKind
    frames: int
    total: int
    unit: str

    @classmethod
    def read(cls, series: ImageSeries, budget: ReadBudget, how: ProjectionKind, notes: list[str]) -> Projection | None:
        """Project whole time-chunks spread evenly over the session, as many as the budget allows."""
        data = series.__dict__["data"]
        shape = tuple(int(n) for n in data.shape)
        total, step = shape[0], read_unit(data)[0]
        plane: tuple[int, ...] = (shape[3] // 2,) if len(shape) == 4 else ()  # a volume: its middle plane
        blocks_total = -(-total // step)

        def frames(block: int) -> slice:
            return slice(block * step, min(total, (block + 1) * step))

        def key(block: int) -> tuple[slice | int, ...]:
            return (frames(block), slice(None), slice(None), *plane)

        def what(block: int) -> str:
            return f"{series.name} frames {frames(block).start}-{frames(block).stop - 1}"

        if not budget.fits(data, key(0)):
            notes.append(
                f"{series.name}: one chunk of frames ({format_bytes(budget.cost(data, key(0)))}) is more than what is"
                " left of the budget; raise max_bytes to see the movie"
            )
            return None
        total_image = _Accumulator(how)
        total_image.add(budget.read(what(0), data, key(0)))
        per_block = max(1, budget.expected(data, key(0)))  # now priced with what the first read fetched
        more = min(blocks_total - 1, budget.left // per_block)
        picks = np.unique(np.linspace(1, blocks_total - 1, max(0, more)).round().astype(np.int64))
        for b in picks.tolist():
            if not budget.fits(data, key(b)):
                break
            total_image.add(budget.read(what(b), data, key(b)))
        if len(shape) == 4:
            notes.append(f"{series.name} is a volume: showing its middle plane (z = {plane[0]})")
        unit = str(series.__dict__.get("unit") or "")
        return cls(image=total_image.result(), how=how, frames=total_image.frames, total=total, unit=unit)


class _Accumulator:
    """A running mean or max over blocks of frames."""

    def __init__(self, how: ProjectionKind) -> None:
        self.how = how
        self.frames = 0
        self.value: np.ndarray | None = None

    def add(self, block: np.ndarray) -> None:
        block = block.astype(np.float64, copy=False)
        part = block.sum(axis=0) if self.how == "mean" else block.max(axis=0)
        if self.value is None:
            self.value = part
        elif self.how == "mean":
            self.value += part
        else:
            np.maximum(self.value, part, out=self.value)
        self.frames += len(block)

    def result(self) -> np.ndarray:
        assert self.value is not None
        return self.value / self.frames if self.how == "mean" else self.value


def trace_share(parts: SessionParts, budget: ReadBudget) -> int:
    """A quarter of the budget, or up to half when the traces' first chunks need it (dF/F and F)."""
    quarter = budget.limit // 4
    needed = 0
    for series in (parts.dff, parts.fluorescence):
        if series is not None:
            needed += budget.cost(series.__dict__["data"], slice(0, 1))
    return min(budget.limit // 2, max(quarter, needed))
