"""The notebook HTML view: content, escaping, no I/O, and what headless Chromium actually draws."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from zarr.storage import LocalStore

from nwbzarr import DataIO, NWBZarrIO
from nwbzarr.display import array_info, storage_path, to_html
from nwbzarr.model import NWBFile, TimeSeries, TwoPhotonSeries
from nwbzarr.testing.counting import CountingStore


def _write(nwbfile: NWBFile, path: Path) -> None:
    with NWBZarrIO(path, "w") as io:
        io.write(nwbfile)


def _read(store: object) -> NWBFile:
    return NWBZarrIO(store, "r").read()  # type: ignore[arg-type]


@pytest.fixture
def stored(tutorial_file: NWBFile, store_path: Path) -> Path:
    _write(tutorial_file, store_path)
    return store_path


# --- content -------------------------------------------------------------------------------------
def test_rendering_a_freshly_read_file_reads_nothing(stored: Path) -> None:
    store = CountingStore(LocalStore(stored, read_only=True))
    nwbfile = _read(store)
    store.reset()
    page = to_html(nwbfile)
    assert store.chunk_gets == 0 and sum(store.gets.values()) == 0 and store.lists == 0
    series = nwbfile.acquisition["TwoPhotonSeries1"]
    assert type(series.__dict__["starting_time"]).__name__ == "Deferred"  # still not resolved
    assert "not read yet" in page and "in store, not read" in page
    for kind in ("NWBFile", "TwoPhotonSeries", "PlaneSegmentation", "RoiResponseSeries", "ImagingPlane"):
        assert f'<span class="nz-type">{kind}</span>' in page
    assert "60\u00d732\u00d732" in page and "float64" in page and "blosc(zstd, level 3" in page
    assert "30 rows \u00d7 1 column" in page  # tables with their row counts
    assert "ragged: 360 values in 30 rows" in page  # pixel masks: 30 ROIs of 12 pixels
    assert "unit normalized amplitude" in page
    assert isinstance(series, TwoPhotonSeries)
    series.data[0]  # the counter does see this array's reads
    assert store.chunk_gets > 0


def test_values_in_the_metadata_show_at_once_and_cost_nothing(stored: Path) -> None:
    """Scalars keep their value as the 0-d array's fill value: the view shows it, as PyNWB's repr does."""
    store = CountingStore(LocalStore(stored, read_only=True))
    nwbfile = _read(store)
    store.reset()
    page = to_html(nwbfile)
    assert store.chunk_gets == 0 and sum(store.gets.values()) == 0
    assert "my first synthetic recording" in page and "EXAMPLE_ID" in page  # session_description, identifier
    assert "2024-01-02T03:04:05+00:00" in page  # session_start_time
    assert "University of Middle Earth" in page and "600 nm" in page and "500 nm" in page  # excitation, emission
    assert "30 Hz" in page  # imaging_rate
    assert type(nwbfile.__dict__["session_description"]).__name__ == "Deferred"  # shown, not resolved
    # what would cost a read keeps its hint, with the dtype and shape the store holds (not the schema's float32)
    hints = re.findall(r'<th>([a-z_]+)</th><td><span class="nz-lazy"[^>]*>not read yet</span><span[^>]*>([^<]*)', page)
    assert ("origin_coords", "float64 3") in hints and ("grid_spacing", "float64 2") in hints, hints
    assert "float32" not in page


def test_without_a_manifest_nothing_is_taken_for_free(stored: Path) -> None:
    """A store from another writer has no manifest: a scalar's chunk might exist, so its value is not guessed."""
    (stored / "nwbzarr.json").unlink()
    page = to_html(_read(stored))
    assert "my first synthetic recording" not in page
    assert re.search(r"<th>session_description</th><td><span class=\"nz-lazy\"", page)


def test_the_top_levels_open_and_the_rest_fold(stored: Path) -> None:
    page = to_html(_read(stored))
    opened = re.findall(r'<details class="nz-(obj|group)"[^>]*?( open)?><summary[^>]*>(.*?)</summary>', page)
    by_label = {re.sub("<[^>]+>", " ", label).split()[1 if kind == "obj" else 0]: bool(o) for kind, o, label in opened}
    assert by_label["root"] and by_label["acquisition"] and by_label["processing"]  # the file and its groups
    assert not by_label["TwoPhotonSeries1"] and not by_label["ophys"] and not by_label["ImagingPlane"]
    assert sum(by_label.values()) <= 6, by_label


def test_read_values_shows_the_small_values(stored: Path) -> None:
    page = to_html(_read(stored), read_values=True)
    assert "my first synthetic recording" in page and "Dr. Bilbo Baggins" in page
    assert "600 nm" in page and "30 Hz" in page  # units the schema implies
    assert "[0.01, 0.01]" in page and "unit meters" in page  # grid_spacing with its unit attribute


def test_links_point_at_their_target(stored: Path) -> None:
    nwbfile = _read(stored)
    page = to_html(nwbfile)
    plane = nwbfile.imaging_planes["ImagingPlane"]
    assert storage_path(plane) == "/general/optophysiology/ImagingPlane"
    anchor = re.search(
        r'<details class="nz-obj" id="([^"]+)"[^>]*><summary[^>]*><span class="nz-type">ImagingPlane', page
    )
    assert anchor is not None
    assert page.count(f'href="#{anchor.group(1)}"') >= 5  # two series and three tables link to the plane
    assert "/general/optophysiology/ImagingPlane</code>" in page
    # each object is shown in full once: the series the tables link to is not repeated under them
    assert page.count('<span class="nz-name">TwoPhotonSeries1</span>') == 1


def test_in_memory_files_and_single_containers(tutorial_file: NWBFile) -> None:
    page = to_html(tutorial_file)  # columns are still Python lists here
    assert "EXAMPLE_ID" in page and "values in memory" in page
    series = tutorial_file.acquisition["TwoPhotonSeries1"]
    one = to_html(series)
    assert one.startswith('<div class="nz-root">') and "ImagingPlane" in one
    assert "NWBFile" not in one.split("</style>", 1)[1]  # only the series and what it owns
    assert "ImagingPlane" in one and "href=" not in one  # the plane is outside: a link without an anchor


def test_text_is_escaped(tutorial_file: NWBFile) -> None:
    evil = '<script>alert("x")</script> & <b>'
    tutorial_file.add_acquisition(TimeSeries(name="evil", data=np.arange(3.0), unit=evil, rate=1.0, description=evil))
    page = to_html(tutorial_file, read_values=True)
    assert "<script>alert" not in page and "& <b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in page


def test_array_info_of_a_sharded_movie(store_path: Path, tutorial_file: NWBFile) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    movie = np.zeros((64, 128, 128), dtype=np.uint16)
    data = DataIO(movie, chunks=(8, 32, 32), shards=(32, 128, 128))
    tutorial_file.add_acquisition(TwoPhotonSeries(name="big", data=data, imaging_plane=plane, rate=30.0))
    _write(tutorial_file, store_path)
    info = array_info(_read(store_path).acquisition["big"].data)
    assert info is not None and info.lazy and info.shape == (64, 128, 128) and info.dtype == "uint16"
    assert info.chunks == (8, 32, 32) and info.shards == (32, 128, 128)
    assert info.raw_nbytes == movie.nbytes and info.codecs and info.codecs[0].startswith("blosc(")


# --- what a browser shows -------------------------------------------------------------------------
def _chromium() -> str:
    found = os.environ.get("NWBZARR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed (run scripts/install_chromium.sh as root)")
    return found


def _shoot(chromium: str, page: Path, png: Path, profile: Path) -> None:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        "--window-size=1200,1600",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert png.is_file()


def _ink(png: Path) -> tuple[np.ndarray, int]:
    """Rows that hold anything but the white page, and the number of distinct colours."""
    image = pytest.importorskip("PIL.Image")
    pixels = np.asarray(image.open(png).convert("RGB")).astype(np.int16)
    inked = (np.abs(pixels - 255).sum(axis=2) > 30).any(axis=1)
    colours = len(np.unique(pixels.reshape(-1, 3)[::7], axis=0))
    return inked, colours


def _page(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.html"
    path.write_text(f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>')
    return path


def test_chromium_draws_the_tree(stored: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    nwbfile = _read(stored)
    shots = {}
    for name, body in (
        ("blank", ""),
        ("collapsed", to_html(nwbfile)),  # the default: the file and its groups open, their objects folded
        ("expanded", to_html(nwbfile, open_depth=99)),
    ):
        shots[name] = tmp_path / f"{name}.png"
        _shoot(chromium, _page(tmp_path, name, body), shots[name], tmp_path / "profile")
    blank, _ = _ink(shots["blank"])
    collapsed, _ = _ink(shots["collapsed"])
    expanded, colours = _ink(shots["expanded"])
    assert not blank.any()
    assert expanded.sum() > 800  # text from the top of the window nearly to its bottom
    assert colours > 20  # type names, links, chips: not a single-colour block
    assert collapsed.sum() < expanded.sum() / 2  # <details> folds: closed levels take no room
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", _page(tmp_path, "dom", to_html(nwbfile)).as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    for kind in ("NWBFile", "TwoPhotonSeries", "PlaneSegmentation", "DfOverF"):
        assert kind in dom
    assert "my first synthetic recording" in dom and "EXAMPLE_ID" in dom  # values shown without a read
    if os.environ.get("NWBZARR_KEEP_SCREENSHOT_DEFAULT"):
        shutil.copy(shots["collapsed"], os.environ["NWBZARR_KEEP_SCREENSHOT_DEFAULT"])
    if os.environ.get("NWBZARR_KEEP_SCREENSHOT"):
        shutil.copy(shots["expanded"], os.environ["NWBZARR_KEEP_SCREENSHOT"])
