"""A one-page summary figure of an imaging session, drawn from lazy reads within a byte budget.

``plot_summary("session.nwb.zarr", "summary.png")`` draws the mean (or max) projection of the movie with
the outline of every ROI (image, pixel or voxel masks), a few fluorescence and dF/F traces, a raster of
all ROIs' dF/F and a card of the session's metadata. Every array read is priced before it is made, in
the decoded bytes of the chunks it touches (:class:`~nwbzarr.display.budget.ReadBudget`): the movie is
sampled in whole chunks spread over the session, traces are read from the start for as long as the
budget allows, so the figure of a 100 GB session costs what ``max_bytes`` says.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore

from nwbzarr.core.optional import require
from nwbzarr.display.budget import ReadBudget
from nwbzarr.display.masks import RoiMasks, outline
from nwbzarr.display.reads import Projection, ProjectionKind, SessionParts, Traces, read_all_masks, trace_share
from nwbzarr.errors import NWBZarrError
from nwbzarr.model import NWBFile
from nwbzarr.operations.summary import format_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DEFAULT_MAX_BYTES", "SummaryReport", "plot_summary", "summary_figure"]

#: decoded bytes of array chunks a summary figure may read, unless told otherwise
DEFAULT_MAX_BYTES = 64 * 2**20
# readable on white (traces) and on a grey image (outlines); no yellow, which vanishes on white
_TRACE_COLOURS = ("#e6194b", "#f58231", "#3cb44b", "#4363d8", "#f032e6", "#911eb4", "#9a6324", "#469990")
_TABLE_COLOURS = ("#00e5ff", "#ffd54f", "#ff80ab", "#b2ff59")


@dataclass(kw_only=True)
class SummaryReport:
    """What the figure shows and what it cost to read."""

    budget: int
    decoded_bytes: int = 0  # decoded size of the array chunks read
    array_fetched_bytes: int | None = None  # bytes fetched from storage by those reads, when measured
    fetched_bytes: int | None = None  # everything fetched from storage, metadata included (plot_summary)
    requests: int | None = None
    output: str | None = None
    size_px: tuple[int, int] | None = None
    series: str | None = None
    frames_used: int = 0
    frames_total: int = 0
    rois_total: int = 0
    rois_outlined: int = 0
    trace_seconds: float = 0.0
    trials_shaded: int = 0  # trials drawn as bands behind the traces
    reads: list[tuple[str, int, int | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A few lines for people: what was drawn and how many bytes it read."""
        lines = []
        if self.output:
            size = f" ({self.size_px[0]}x{self.size_px[1]} px)" if self.size_px else ""
            lines.append(f"wrote {self.output}{size}")
        lines.append(
            f"read {format_bytes(self.decoded_bytes)} of array chunks (budget {format_bytes(self.budget)}):"
            f" {self.frames_used} of {self.frames_total} frames, outlines of {self.rois_outlined} of"
            f" {self.rois_total} ROIs, {self.trace_seconds:.1f} s of traces"
        )
        if self.fetched_bytes is not None:
            arrays = (
                f", {format_bytes(self.array_fetched_bytes)} of it for array data"
                if self.array_fetched_bytes is not None
                else ""
            )
            lines.append(
                f"fetched {format_bytes(self.fetched_bytes)} from storage in {self.requests} requests{arrays}"
                " (the rest: metadata)"
            )
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON text."""
        return {
            "output": self.output,
            "size_px": list(self.size_px) if self.size_px else None,
            "budget_bytes": self.budget,
            "decoded_bytes": self.decoded_bytes,
            "array_fetched_bytes": self.array_fetched_bytes,
            "fetched_bytes": self.fetched_bytes,
            "requests": self.requests,
            "series": self.series,
            "frames_used": self.frames_used,
            "frames_total": self.frames_total,
            "rois_total": self.rois_total,
            "rois_outlined": self.rois_outlined,
            "trace_seconds": self.trace_seconds,
            "trials_shaded": self.trials_shaded,
            "reads": [{"what": w, "decoded_bytes": n, "fetched_bytes": f} for w, n, f in self.reads],
            "notes": self.notes,
        }


# --- public API ---------------------------------------------------------------------------------------
def summary_figure(
    nwbfile: NWBFile,
    *,
    series: str | None = None,
    projection: ProjectionKind = "mean",
    max_bytes: int = DEFAULT_MAX_BYTES,
    n_traces: int = 5,
    dpi: int = 150,
    meter: Callable[[], int] | None = None,
) -> tuple[Figure, SummaryReport]:
    """The summary figure of ``nwbfile`` and a report of what it read.

    Array reads spend at most ``max_bytes``, counted as decoded chunk bytes and, when ``meter`` (bytes
    fetched from storage so far) is given, as fetched bytes too. ``series`` names the imaging series to
    project (default: the first two- or one-photon series with frames). Traces and masks may take a
    quarter of the budget each; the movie gets the rest.
    """
    require("matplotlib", "the summary figure")
    if projection not in ("mean", "max"):
        raise NWBZarrError(f"projection must be 'mean' or 'max', got {projection!r}")
    if max_bytes <= 0:
        raise NWBZarrError(f"max_bytes must be positive, got {max_bytes}")
    if not 1 <= n_traces <= 20:
        raise NWBZarrError(f"n_traces must be between 1 and 20 (a readable stack of traces), got {n_traces}")
    parts = SessionParts.find(nwbfile, series)
    budget = ReadBudget(limit=max_bytes, meter=meter)
    report = SummaryReport(budget=max_bytes)
    with budget.capped(trace_share(parts, budget)):
        traces = Traces.read(parts, budget, n_traces=n_traces, notes=report.notes)
    with budget.capped(max_bytes // 4):
        masks = read_all_masks(parts, budget, notes=report.notes)
    image = Projection.read(parts.movie, budget, projection, report.notes) if parts.movie is not None else None
    if parts.movie is not None:
        report.series, report.frames_total = parts.movie.name, int(parts.movie.__dict__["data"].shape[0])
    report.frames_used = image.frames if image is not None else 0
    report.rois_total = sum(m.total for m in masks)
    report.rois_outlined = sum(len(m.footprints) for m in masks)
    if traces is not None and len(traces.times) > 1:
        report.trace_seconds = float(traces.times[-1] - traces.times[0])
    report.decoded_bytes = budget.decoded
    report.array_fetched_bytes = budget.fetched
    report.reads = list(budget.reads)
    figure = _draw(nwbfile, parts, traces, masks, image, report, dpi=dpi)
    return figure, report


def plot_summary(
    path: Any,
    output: str | os.PathLike[str],
    *,
    storage_options: dict[str, Any] | None = None,
    **options: Any,
) -> SummaryReport:
    """Open the store at ``path`` read-only, draw :func:`summary_figure` into ``output`` (PNG, PDF, SVG).

    The report also counts the bytes actually fetched from storage (compressed, metadata included).
    """
    from nwbzarr.backends.open import detect_format, open_backend
    from nwbzarr.io import NWBZarrIO
    from nwbzarr.storage import make_store

    store: _ByteCounter | None = None
    if not isinstance(path, Store) and detect_format(path, sniff=True, storage_options=storage_options) == "hdf5":
        from nwbzarr.codec import decode

        backend = open_backend(path, mode="r", storage_options=storage_options)  # local or remote HDF5 (issue 12)
        try:
            figure, report = summary_figure(decode(backend.read_tree()), **options)
        finally:
            backend.close()
    else:
        store = _ByteCounter(make_store(path, read_only=True, storage_options=storage_options))
        with NWBZarrIO(store, "r") as io:
            nwbfile = io.read()
            figure, report = summary_figure(nwbfile, meter=lambda: store.nbytes, **options)
    try:
        figure.savefig(os.fspath(output))
    except (OSError, ValueError) as exc:  # no such folder, unknown format...
        raise NWBZarrError(f"{os.fspath(output)}: cannot write the figure: {exc}") from exc
    width, height = figure.get_size_inches() * figure.dpi
    report.output = os.fspath(output)
    report.size_px = (round(width), round(height))
    if store is not None:
        report.fetched_bytes, report.requests = store.nbytes, store.requests
    return report


class _ByteCounter(WrapperStore[Store]):
    """Counts the bytes and requests of every read, on every read path zarr takes.

    zarr's ``WrapperStore`` forwards ``get_ranges`` (partial shard reads), ``get_sync`` and ``_get_many``
    straight to the wrapped store; here they run through this class, so nothing escapes the count.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.nbytes = 0
        self.requests = 0

    def _with_store(self, store: Store) -> _ByteCounter:
        return type(self)(store)

    def _count(self, value: Buffer | None) -> None:
        self.requests += 1
        self.nbytes += len(value) if value is not None else 0

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        value = await self._store.get(key, prototype, byte_range)
        self._count(value)
        return value

    def get_sync(
        self, key: str, *, prototype: BufferPrototype | None = None, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        value = super().get_sync(key, prototype=prototype, byte_range=byte_range)
        self._count(value)
        return value

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        values = await self._store.get_partial_values(prototype, list(key_ranges))
        for value in values:
            self._count(value)
        return values

    async def get_ranges(
        self, key: str, byte_ranges: Sequence[ByteRequest | None], *, prototype: BufferPrototype, **options: Any
    ) -> AsyncIterator[Sequence[tuple[int, Buffer | None]]]:
        async for group in Store.get_ranges(self, key, byte_ranges, prototype=prototype, **options):  # via get
            yield group

    async def _get_many(
        self, requests: Iterable[tuple[str, BufferPrototype, ByteRequest | None]]
    ) -> AsyncGenerator[tuple[str, Buffer | None], None]:
        for key, prototype, byte_range in requests:
            yield key, await self.get(key, prototype, byte_range)


# --- drawing ------------------------------------------------------------------------------------------
def _draw(
    nwbfile: NWBFile,
    parts: SessionParts,
    traces: Traces | None,
    masks: list[RoiMasks],
    image: Projection | None,
    report: SummaryReport,
    *,
    dpi: int,
) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(16, 9), dpi=dpi, layout="constrained")
    grid = figure.add_gridspec(3, 2, width_ratios=[1, 1.6], height_ratios=[1, 1, 0.95])
    ax_image = figure.add_subplot(grid[0:2, 0])
    ax_card = figure.add_subplot(grid[2, 0])
    ax_f = figure.add_subplot(grid[0, 1])
    ax_dff = figure.add_subplot(grid[1, 1], sharex=ax_f)
    ax_raster = figure.add_subplot(grid[2, 1], sharex=ax_f)
    colours = {c: _TRACE_COLOURS[i % len(_TRACE_COLOURS)] for i, c in enumerate(traces.chosen)} if traces else {}
    highlighted = {int(traces.rows[c]): colours[c] for c in traces.chosen} if traces else {}
    _draw_image(figure, ax_image, parts, image, masks, highlighted, traces)
    _draw_traces(ax_f, ax_dff, traces, colours)
    _draw_raster(figure, ax_raster, traces, colours)
    report.trials_shaded = _shade_trials(nwbfile, (ax_f, ax_dff, ax_raster), traces)
    _draw_card(ax_card, nwbfile, parts, masks, traces, report)
    figure.suptitle(_title(nwbfile), fontsize=15, fontweight="bold", x=0.01, ha="left")
    return figure


def _draw_image(
    figure: Figure,
    ax: Axes,
    parts: SessionParts,
    image: Projection | None,
    masks: list[RoiMasks],
    highlighted: dict[int, str],
    traces: Traces | None,
) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    if image is not None:
        low, high = np.percentile(image.image, [0.5, 99.7])
        shown = ax.imshow(image.image, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
        bar = figure.colorbar(shown, cax=ax.inset_axes((1.03, 0.0, 0.035, 1.0)))  # hugs the image
        bar.set_label(f"{image.how} {image.unit}".strip())
        what = "Mean" if image.how == "mean" else "Max"
        ax.set_title(f"{what} of {image.frames} of {image.total} frames · {parts.movie.name if parts.movie else ''}")
        rows, cols = image.image.shape
    else:
        rows, cols = max((m.extent() for m in masks), default=(0, 0))
        if not (rows and cols):
            _empty(ax, "no movie frames or ROI masks read")
            return
        ax.imshow(np.zeros((rows, cols)), cmap="gray", vmin=0, vmax=1)
        ax.set_title("ROI outlines (no movie read)")
    handles = []
    main_rows = masks[0].table if masks else None
    for i, roi_masks in enumerate(masks):
        colour = _TABLE_COLOURS[i % len(_TABLE_COLOURS)]
        segments = []
        for footprint in roi_masks.footprints:
            lines = outline(footprint)
            if roi_masks.table == main_rows and footprint.row in highlighted:
                for line in lines:
                    ax.plot(line[:, 0], line[:, 1], color=highlighted[footprint.row], lw=1.8)
            else:
                segments.extend(lines)
        ax.add_collection(LineCollection(segments, colors=colour, linewidths=0.7, alpha=0.75))
        kind = roi_masks.kind.replace("_", " ") + "s"
        count = f"{len(roi_masks.footprints)}" + (
            f" of {roi_masks.total}" if len(roi_masks.footprints) < roi_masks.total else ""
        )
        handles.append(Line2D([], [], color=colour, lw=1.2, label=f"{roi_masks.table}: {count} ROIs ({kind})"))
    if traces is not None and masks:
        for column, label in zip(traces.chosen, traces.labels, strict=True):
            row = int(traces.rows[column])
            found = next((f for f in masks[0].footprints if f.row == row), None)
            if found is not None:
                ax.annotate(
                    label.removeprefix("ROI "),
                    (found.left + found.weights.shape[1], found.top),
                    color=highlighted.get(row, "white"),
                    fontsize=9,
                    fontweight="bold",
                )
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.6, bbox_to_anchor=(0, -0.01), ncol=1)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    pixel_um = _pixel_size_um(parts, cols)
    if pixel_um is not None:
        _scale_bar(ax, pixel_um, cols)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlabel("column (pixels)")
        ax.set_ylabel("row (pixels)")


def _scale_bar(ax: Axes, pixel_um: float, cols: int) -> None:
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar  # type: ignore[import-untyped]

    length_um = _nice(cols * pixel_um / 5)
    label = f"{length_um:g} µm" if length_um < 1000 else f"{length_um / 1000:g} mm"
    bar = AnchoredSizeBar(
        ax.transData,
        length_um / pixel_um,
        label,
        "lower right",
        pad=0.6,
        color="white",
        frameon=False,
        size_vertical=max(1.0, cols / 150),
        fontproperties={"size": 10, "weight": "bold"},
    )
    ax.add_artist(bar)


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is at most ``value``."""
    if not value > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return float(max(m * power for m in (1, 2, 5) if m * power <= value))


def _pixel_size_um(parts: SessionParts, cols: int) -> float | None:
    """Micrometres per pixel from the imaging plane's grid spacing, or the series' field of view."""
    movie = parts.movie
    if movie is None:
        return None
    factors = {"meters": 1e6, "meter": 1e6, "m": 1e6, "millimeters": 1e3, "mm": 1e3, "micrometers": 1.0, "um": 1.0}
    plane = movie.__dict__.get("imaging_plane")
    spacing = getattr(plane, "grid_spacing", None) if plane is not None else None
    if spacing is not None and len(spacing) >= 2:
        factor = factors.get(str(plane.grid_spacing_unit).lower())  # type: ignore[union-attr]
        if factor is not None and float(spacing[0]) > 0:
            return float(spacing[0]) * factor
    fov = getattr(movie, "field_of_view", None)
    if fov is not None and len(fov) >= 2 and float(fov[0]) > 0 and cols:
        return float(fov[0]) * 1e6 / cols  # NWB gives the field of view in meters
    return None


def _shade_trials(nwbfile: NWBFile, axes: tuple[Axes, ...], traces: Traces | None) -> int:
    """Trials as grey bands behind the traces, so responses line up with them; returns how many were drawn."""
    trials = nwbfile.trials
    if trials is None or traces is None or not len(trials) or len(traces.times) < 2:
        return 0
    first, last = float(traces.times[0]), float(traces.times[-1])
    shown = 0
    for start, stop in trials.intervals():
        if stop < first or start > last:
            continue
        for ax in axes:
            ax.axvspan(start, stop, color="#bdbdbd", alpha=0.35, lw=0, zorder=0, gid="trial")
        shown += 1
    return shown


def _draw_traces(ax_f: Axes, ax_dff: Axes, traces: Traces | None, colours: dict[int, str]) -> None:
    if traces is None:
        for ax in (ax_f, ax_dff):
            _empty(ax, "no ROI traces in this file")
        return
    chosen_dff = traces.dff[:, traces.chosen]
    if traces.fluorescence is not None and traces.fluorescence.shape[1] == len(traces.chosen):
        _stacked(ax_f, traces.times, traces.fluorescence, traces, colours, traces.fluorescence_unit)
        which = "most active " if len(traces.chosen) < traces.dff.shape[1] else ""
        ax_f.set_title(f"Fluorescence of the {len(traces.chosen)} {which}ROIs", loc="left")
    elif traces.has_fluorescence:
        _empty(ax_f, "Fluorescence not read: more than the read budget allows")
    else:
        _empty(ax_f, "no Fluorescence series in this file")
    _stacked(ax_dff, traces.times, chosen_dff, traces, colours, "dF/F")
    ax_dff.set_title(f"{traces.dff_label} of the same ROIs", loc="left")
    for ax in (ax_f, ax_dff):
        ax.tick_params(labelbottom=False)


def _stacked(
    ax: Axes, times: np.ndarray, values: np.ndarray, traces: Traces, colours: dict[int, str], unit: str
) -> None:
    """Traces one above the other (first on top), with a vertical scale bar instead of a y axis."""
    from matplotlib.transforms import blended_transform_factory

    low = np.nanpercentile(values, 0.5, axis=0)
    span = float(np.nanmax(np.nanpercentile(values, 99.8, axis=0) - low)) or 1.0
    spacing = span * 1.05
    n = values.shape[1]
    labels = blended_transform_factory(ax.transAxes, ax.transData)
    for i, column in enumerate(traces.chosen):
        offset = (n - 1 - i) * spacing
        ax.plot(times, values[:, i] - low[i] + offset, color=colours[column], lw=0.9)
        ax.text(-0.01, offset + spacing * 0.2, traces.labels[i], color=colours[column], fontsize=9,
                fontweight="bold", va="bottom", ha="right", transform=labels)  # fmt: skip
    bar = _nice(span * 0.6)
    blend = blended_transform_factory(ax.transAxes, ax.transData)
    ax.plot([1.008, 1.008], [0, bar], transform=blend, color="black", lw=2.5, clip_on=False)
    ax.text(1.016, bar / 2, f"{bar:g} {unit}".strip(), transform=blend, va="center", ha="left", fontsize=9, rotation=90)
    ax.set_yticks([])
    ax.set_ylim(-spacing * 0.1, n * spacing)
    ax.set_xlim(times[0], times[-1])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)


def _draw_raster(figure: Figure, ax: Axes, traces: Traces | None, colours: dict[int, str]) -> None:
    from matplotlib.ticker import MaxNLocator

    if traces is None:
        _empty(ax, "no ROI traces in this file")
        return
    dff = traces.dff
    times = traces.times
    step = float(times[1] - times[0]) if len(times) > 1 else 1.0
    high = float(np.nanpercentile(dff, 99.5)) or 1.0
    shown = ax.imshow(
        dff.T,
        aspect="auto",
        interpolation="antialiased",  # long sessions have more samples than pixels
        cmap="magma",
        vmin=0,
        vmax=high,
        extent=(times[0] - step / 2, times[-1] + step / 2, dff.shape[1] - 0.5, -0.5),
    )
    bar = figure.colorbar(shown, ax=ax, fraction=0.03, pad=0.01)
    bar.set_label(traces.dff_label.split(" ")[0])
    ax.set_title(f"{traces.dff_label} of all {dff.shape[1]} ROIs", loc="left")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("ROI (row in table)")
    ax.tick_params(axis="y", pad=9)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for column in traces.chosen:
        ax.plot(times[0] - step / 2, column, marker=">", color=colours[column], markersize=7, clip_on=False)


def _draw_card(
    ax: Axes,
    nwbfile: NWBFile,
    parts: SessionParts,
    masks: list[RoiMasks],
    traces: Traces | None,
    report: SummaryReport,
) -> None:
    """The session's facts as a two-column card (label, value)."""
    rows: list[tuple[str, str]] = []
    when = nwbfile.session_start_time
    rows.append(("Session", " · ".join(v for v in (f"{when:%Y-%m-%d %H:%M %Z}".strip(), nwbfile.lab) if v)))
    if nwbfile.experimenter:
        rows.append(("Experimenter", "; ".join(nwbfile.experimenter)))  # names may be "Last, First"
    subject = nwbfile.subject
    if subject is not None:
        facts = (subject.subject_id, subject.species, subject.sex, subject.age, subject.genotype)
        rows.append(("Subject", " · ".join(str(f) for f in facts if f)))
    movie = parts.movie
    plane = movie.__dict__.get("imaging_plane") if movie is not None else None
    if plane is not None:
        imaging = (plane.indicator, plane.location, f"{plane.excitation_lambda:g} nm excitation")
        rows.append(("Imaging", " · ".join(str(f) for f in imaging if f)))
    if movie is not None:
        shape = movie.__dict__["data"].shape
        rate = f" at {movie.rate:g} Hz ({shape[0] / movie.rate:.1f} s)" if movie.rate else ""
        rows.append(("Movie", f"{movie.name}: {shape[0]} frames of {shape[-2]} x {shape[-1]} px{rate}"))
    if masks:
        kinds = ", ".join(sorted({m.kind.replace("_", " ") + "s" for m in masks}))
        tables = f"{len(masks)} table{'s' if len(masks) > 1 else ''}"
        rows.append(("ROIs", f"{report.rois_total} in {tables} ({kinds})"))
    if traces is not None:
        rows.append(("Traces", f"{traces.dff.shape[1]} ROIs, {report.trace_seconds:.1f} s shown"))
    fetched = f", {format_bytes(report.array_fetched_bytes)} fetched" if report.array_fetched_bytes else ""
    rows.append(
        ("Read", f"{format_bytes(report.decoded_bytes)} of chunks{fetched} (budget {format_bytes(report.budget)})")
    )
    ax.axis("off")
    step = min(0.13, 1.0 / max(1, len(rows)))
    for i, (label, value) in enumerate(rows):
        y = 1 - i * step
        ax.text(0, y, label, va="top", ha="left", fontsize=10, fontweight="bold", transform=ax.transAxes)
        shown = value if len(value) <= 70 else value[:69] + "…"
        ax.text(0.26, y, shown, va="top", ha="left", fontsize=10, transform=ax.transAxes)


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.tick_params(left=False, bottom=False, labelleft=False, labelbottom=False)  # ticks may be shared: keep them


def _title(nwbfile: NWBFile) -> str:
    name = nwbfile.session_id or nwbfile.identifier
    description = nwbfile.session_description
    return f"{name} — {description}" if description else str(name)
