"""S3 through s3fs against the moto server: request counts on the wire, archives, PyNWB, Dask."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from nwbzarr import NWBHDF5IO, DataIO, NWBZarrIO, convert, verify
from nwbzarr.errors import ReadOnlyError
from nwbzarr.model import NWBFile
from nwbzarr.testing import SyntheticSession, make_session
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.s3server import S3TestServer


def _movie_file(frames: int = 64) -> tuple[NWBFile, np.ndarray]:
    nwbfile = make_session(SyntheticSession(n_frames=frames, height=64, width=64, n_cells=8))
    return nwbfile, np.asarray(nwbfile.acquisition["TwoPhotonSeries"].data)  # type: ignore[attr-defined]


def test_open_costs_two_requests_whatever_the_file(s3_server: S3TestServer, counting_proxy: CountingProxy) -> None:
    options = s3_server.storage_options(counting_proxy.url)
    counts = []
    for extra in (0, 12):  # a file with 12 more series must not cost more to open
        nwbfile, _ = _movie_file()
        from nwbzarr.model import TimeSeries

        for i in range(extra):
            nwbfile.add_acquisition(TimeSeries(name=f"t{i}", data=np.arange(5.0), unit="m", rate=1.0))
        url = f"s3://lab/open-{extra}.nwb.zarr"
        with NWBZarrIO(url, "w", storage_options=s3_server.storage_options()) as io:  # writes skip the proxy
            io.write(nwbfile)
        counting_proxy.reset()
        with NWBZarrIO(url, "r", storage_options=options) as io:
            io.read()
        counts.append(counting_proxy.total)
        assert counting_proxy.requests["GET"] == counting_proxy.total, counting_proxy.paths  # no HEAD, no LIST
    assert counts == [2, 2], counts


def test_one_frame_costs_one_request_per_chunk(s3_server: S3TestServer, counting_proxy: CountingProxy) -> None:
    options = s3_server.storage_options(counting_proxy.url)
    nwbfile, movie = _movie_file()
    series = nwbfile.acquisition["TwoPhotonSeries"]
    series.data = DataIO(movie, chunks=(8, 32, 32))  # type: ignore[attr-defined]
    url = "s3://lab/frames.nwb.zarr"
    with NWBZarrIO(url, "w", storage_options=s3_server.storage_options()) as io:
        io.write(nwbfile)
    with NWBZarrIO(url, "r", storage_options=options) as io:
        data = io.read().acquisition["TwoPhotonSeries"].data  # type: ignore[attr-defined]
        counting_proxy.reset()
        assert np.array_equal(data[20], movie[20])
        assert counting_proxy.total == 4, counting_proxy.paths  # 2 x 2 chunks cover one 64 x 64 frame


def test_archive_hdf5_to_s3_and_back(s3_server: S3TestServer, tmp_path: Path) -> None:
    nwbfile, _ = _movie_file()
    with NWBHDF5IO(tmp_path / "session.nwb", "w") as io:
        io.write(nwbfile)
    url = "s3://lab/archive.nwb.zarr"
    options = s3_server.storage_options()
    report = convert(tmp_path / "session.nwb", url, dst_storage_options=options)  # ends with a verification
    assert report is not None and report.ok and report.objects_checked > 50
    assert verify(url, storage_options=options).ok  # and the user can rerun it
    with NWBZarrIO(url, "r", storage_options=options) as io:
        assert io.read() == nwbfile


def test_pynwb_reads_our_store_from_s3(s3_server: S3TestServer, tutorial_file: NWBFile) -> None:
    hdmf_zarr = pytest.importorskip("hdmf_zarr")
    url = "s3://lab/for-pynwb.nwb.zarr"
    options = s3_server.storage_options()
    with NWBZarrIO(url, "w", storage_options=options) as io:
        io.write(tutorial_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with hdmf_zarr.NWBZarrIO(url, mode="r", storage_options=options) as io:
            theirs = io.read()
            movie = np.asarray(tutorial_file.acquisition["TwoPhotonSeries1"].data)  # type: ignore[attr-defined]
            assert np.array_equal(theirs.acquisition["TwoPhotonSeries1"].data[3], movie[3])
            assert list(theirs.processing["ophys"]["Fluorescence"]["RoiResponseSeries"].rois.data[:]) == [0, 1]


def test_https_is_read_only(tmp_path: Path, tutorial_file: NWBFile) -> None:
    with NWBZarrIO(tmp_path / "web.nwb.zarr", "w") as io:
        io.write(tutorial_file)
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        port = int(line.split("port ")[1].split()[0])
        url = f"http://127.0.0.1:{port}/web.nwb.zarr"
        with NWBZarrIO(url, "r") as io:
            assert io.read() == tutorial_file
        with pytest.raises(ReadOnlyError, match=r"HTTP\(S\) stores are read-only"):
            NWBZarrIO(url, "w")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_dask_distributed_on_s3(s3_server: S3TestServer) -> None:
    distributed = pytest.importorskip("distributed")
    session = SyntheticSession(n_frames=96, height=64, width=64, n_cells=6)
    nwbfile = make_session(session)
    url = "s3://lab/dask.nwb.zarr"
    options = s3_server.storage_options()
    with NWBZarrIO(url, "w", storage_options=options) as io:
        io.write(nwbfile)
    movie = session.frames(0, 96).astype(np.float64)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
        NWBZarrIO(url, "r", storage_options=options) as io,
    ):
        data = io.read().acquisition["TwoPhotonSeries"].data  # type: ignore[attr-defined]
        lazy = data.to_dask()
        mean_image = client.compute(lazy.mean(axis=0)).result()
        assert np.allclose(mean_image, movie.mean(axis=0))
        top, left, patch = session.patches[0]
        h, w = patch.shape
        trace = client.compute((lazy[:, top : top + h, left : left + w] * patch).sum(axis=(1, 2))).result()
        assert np.allclose(trace, (movie[:, top : top + h, left : left + w] * patch).sum(axis=(1, 2)))
