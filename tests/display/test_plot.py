"""`nwbzarr plot`: the summary figure of a written session, and the bytes it reads."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import LocalStore

from nwbzarr import DataIO, NWBZarrIO
from nwbzarr.cli import plot as plot_cli
from nwbzarr.display.plot import plot_summary, summary_figure
from nwbzarr.errors import NWBZarrError, StoreNotFoundError
from nwbzarr.model import TwoPhotonSeries
from nwbzarr.testing import SyntheticSession, make_session
from nwbzarr.testing.counting import CountingStore
from nwbzarr.testing.tutorial import build_tutorial_file

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")
LineCollection = pytest.importorskip("matplotlib.collections").LineCollection

SESSION = SyntheticSession(n_frames=240, height=96, width=96, n_cells=30, seed=2, firing_hz=1.0)
MOVIE_BYTES = 240 * 96 * 96 * 2


class ByteCountingStore(CountingStore):
    """CountingStore that also adds up bytes, and sees the read paths zarr takes around ``get``."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.nbytes = 0
        self.metadata_bytes = 0

    def _tally(self, key: str, value: Buffer | None) -> None:
        size = len(value) if value is not None else 0
        self.nbytes += size
        if key.endswith(("zarr.json", "nwbzarr.json")):
            self.metadata_bytes += size

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        value = await super().get(key, prototype, byte_range)
        self._tally(key, value)
        return value

    def get_sync(
        self, key: str, *, prototype: BufferPrototype | None = None, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        self.gets[key] += 1
        value = super().get_sync(key, prototype=prototype, byte_range=byte_range)
        self._tally(key, value)
        return value

    async def get_ranges(
        self, key: str, byte_ranges: Sequence[ByteRequest | None], *, prototype: BufferPrototype, **options: Any
    ) -> AsyncIterator[Sequence[tuple[int, Buffer | None]]]:
        async for group in Store.get_ranges(self, key, byte_ranges, prototype=prototype, **options):
            yield group

    async def _get_many(
        self, requests: Iterable[tuple[str, BufferPrototype, ByteRequest | None]]
    ) -> AsyncGenerator[tuple[str, Buffer | None], None]:
        for key, prototype, byte_range in requests:
            yield key, await self.get(key, prototype, byte_range)


@pytest.fixture(scope="module")
def session_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plot") / "session.nwb.zarr"
    nwbfile = make_session(SESSION)
    series = nwbfile.acquisition["TwoPhotonSeries"]
    assert isinstance(series, TwoPhotonSeries)
    series.data = DataIO(series.data, chunks=(8, 48, 48), shards=(120, 96, 96))
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    return path


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_summary_png_of_a_written_session(session_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.png"
    report = plot_summary(session_store, out)
    pixels = _png(out)
    assert pixels.shape == (1350, 2400, 3)  # 16 x 9 inches at 150 dpi
    assert pixels.std() > 30 and len(np.unique(pixels.reshape(-1, 3)[::11], axis=0)) > 200  # a picture, not a blank
    assert report.size_px == (2400, 1350) and report.output == str(out)
    assert report.frames_used == report.frames_total == 240  # small: the whole movie fits the default budget
    assert report.rois_total == report.rois_outlined == 30
    assert report.trace_seconds == pytest.approx(239 / 30)
    assert "read " in report.describe() and "fetched " in report.describe()


def test_reads_stay_under_the_byte_budget(session_store: Path, tmp_path: Path) -> None:
    budget = 1 << 20  # a quarter of the movie
    store = ByteCountingStore(LocalStore(session_store, read_only=True))
    report = plot_summary(store, tmp_path / "small.png", max_bytes=budget)
    array_bytes = store.nbytes - store.metadata_bytes
    assert report.fetched_bytes == store.nbytes  # the report counts what the store served
    assert 0 < array_bytes <= budget * 1.05 and store.chunk_gets > 0
    assert report.decoded_bytes <= budget
    assert 0 < report.frames_used < report.frames_total  # the budget, not the movie, set how much was read
    frames = [int(w.split()[-1].split("-")[0]) for w, _, _ in report.reads if "frames" in w]
    assert max(frames) > 240 / 2  # frames come from across the session, not just its start


def test_more_budget_reads_more_frames(session_store: Path, tmp_path: Path) -> None:
    small = plot_summary(session_store, tmp_path / "a.png", max_bytes=1 << 20)
    large = plot_summary(session_store, tmp_path / "b.png", max_bytes=3 << 20)
    assert small.frames_used < large.frames_used and small.decoded_bytes < large.decoded_bytes


def test_every_mask_kind_is_outlined_in_memory() -> None:
    nwbfile = build_tutorial_file(frames=20, size=32)  # image, pixel and voxel masks, 30 ROIs each
    figure, report = summary_figure(nwbfile, projection="max")
    assert report.rois_total == report.rois_outlined == 90
    assert report.frames_used == 20 and report.trace_seconds > 0
    image_axes = figure.axes[0]
    assert len(image_axes.collections) == 3  # one set of outlines per table
    outlines = [c for c in image_axes.collections if isinstance(c, LineCollection)]
    assert sum(len(c.get_segments()) for c in outlines) >= 90 - 2  # traced ROIs are drawn apart
    legend = image_axes.get_legend()
    assert legend is not None and "pixel masks" in " ".join(t.get_text() for t in legend.get_texts())


def test_without_raw_frames_the_corrected_movie_or_the_masks_are_shown(tmp_path: Path) -> None:
    nwbfile = build_tutorial_file(frames=10, size=16)
    nwbfile.acquisition._items.clear()  # no raw movie: the motion-corrected one is projected
    figure, report = summary_figure(nwbfile)
    assert report.series == "corrected" and report.frames_used == 10
    nwbfile.processing["ophys"].data_interfaces._items.pop("MotionCorrection")  # no movie at all
    figure, report = summary_figure(nwbfile)
    assert report.series is None and report.frames_used == 0 and report.rois_outlined == 90
    assert figure.axes[0].get_title() == "ROI outlines (no movie read)"
    figure.savefig(tmp_path / "x.png")


def test_cli_prints_json(session_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="nwbzarr")
    plot_cli.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli.png"
    args = parser.parse_args(["plot", str(session_store), "-o", str(out), "--max-bytes", "2M", "--json"])
    assert args.run(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["budget_bytes"] == 2 * 2**20 and report["decoded_bytes"] <= 2 * 2**20
    assert report["fetched_bytes"] > 0 and out.is_file()
    with pytest.raises(StoreNotFoundError):
        args = parser.parse_args(["plot", str(tmp_path / "missing.nwb.zarr"), "-o", str(out)])
        args.run(args)
    with pytest.raises(NWBZarrError, match="n_traces"):
        plot_summary(session_store, out, n_traces=0)
    with pytest.raises(NWBZarrError, match="cannot write the figure"):
        plot_summary(session_store, tmp_path / "no" / "such" / "folder.png")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("64M", 64 * 2**20), ("1.5g", 3 * 2**29), ("500k", 500 * 1024), ("1000", 1000), ("2MiB", 2**21)],
)
def test_sizes(text: str, expected: int) -> None:
    assert plot_cli.parse_size(text) == expected


def test_bad_sizes() -> None:
    for text in ("", "lots", "-1M", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            plot_cli.parse_size(text)
