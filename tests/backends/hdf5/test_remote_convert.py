"""``convert`` from an HDF5 file on S3 to a Zarr store on S3 (no local copy), read back by PyNWB + hdmf-zarr;
and remote HDF5 arrays computed by a Dask cluster of worker processes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.interop.pynwb_files import assert_pynwb_files_equal

from nwbzarr import convert, read_nwb
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.remote_hdf5 import movie, upload_to_s3, write_layouts_file
from nwbzarr.testing.s3server import S3TestServer

hdmf_zarr = pytest.importorskip("hdmf_zarr")
pynwb = pytest.importorskip("pynwb")


@pytest.fixture(scope="module")
def local_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_layouts_file(tmp_path_factory.mktemp("source") / "session.nwb")


@pytest.fixture(scope="module")
def s3(local_file: Path) -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        server.create_bucket("lab")
        upload_to_s3(server.storage_options(), local_file, "s3://lab/session.nwb")
        yield server


@pytest.mark.slow  # the Zarr writer's requests to moto (a few hundred groups and arrays), not the reads
def test_convert_s3_hdf5_to_s3_zarr_reads_back_in_pynwb(s3: S3TestServer, local_file: Path, tmp_path: Path) -> None:
    import s3fs

    with CountingProxy(s3.host, s3.port) as proxy:
        options = s3.storage_options(proxy.url)
        report = convert(
            "s3://lab/session.nwb", "s3://lab/session.nwb.zarr", storage_options=options, dst_storage_options=options
        )
        assert report is not None and report.ok  # verified at the end
    fetched = s3fs.S3FileSystem(**s3.storage_options())
    fetched.get("lab/session.nwb.zarr", str(tmp_path / "copy.nwb.zarr"), recursive=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = hdmf_zarr.NWBZarrIO(str(tmp_path / "copy.nwb.zarr"), mode="r")
        original = pynwb.NWBHDF5IO(str(local_file), "r")
        try:
            compared = assert_pynwb_files_equal(original.read(), theirs.read())
        finally:
            theirs.close()
            original.close()
    assert compared > 100


@pytest.mark.slow  # starting worker processes that import botocore
def test_a_cluster_of_processes_reads_a_remote_hdf5_movie(s3: S3TestServer) -> None:
    distributed = pytest.importorskip("distributed")
    nwbfile = read_nwb("s3://lab/session.nwb", storage_options=s3.storage_options())
    frames = movie()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        for layout in ("tiles", "contiguous"):
            lazy = nwbfile.acquisition[layout].data.to_dask(chunks=(8, 64, 128))
            assert float(lazy.mean().compute()) == pytest.approx(float(frames.mean()))
            assert np.array_equal(lazy[3:20, 60:70].compute(), frames[3:20, 60:70])
