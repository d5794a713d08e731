"""Parallel writes on Dask distributed: worker processes write whole shards to the S3 test server."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nwbzarr import DataIO, NWBZarrIO, verify
from nwbzarr.model import NWBFile, TimeSeries
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.synthetic import SyntheticSession
from nwbzarr.testing.tutorial import build_tutorial_file

distributed = pytest.importorskip("distributed")
dask_array = pytest.importorskip("dask.array")


def test_a_cluster_of_processes_writes_a_movie_to_s3(s3_server: S3TestServer, s3_url: str) -> None:
    movie = SyntheticSession(n_frames=200, height=128, width=128, n_cells=30).frames(0, 200)
    source = dask_array.from_array(movie, chunks=(50, 64, 128))  # blocks that do not match the shards
    nwbfile = build_tutorial_file(frames=4, size=8)
    assert isinstance(nwbfile, NWBFile)
    data = DataIO(source, chunks=(8, 32, 32), shards=(32, 128, 128))
    nwbfile.add_acquisition(TimeSeries(name="movie", data=data, unit="n", rate=30.0))  # type: ignore[arg-type]
    options = s3_server.storage_options()

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
    ):
        with NWBZarrIO(s3_url, "w", storage_options=options) as io:
            io.write(nwbfile)
        workers = set(client.scheduler_info()["workers"])
    shard_tasks: list[dict[str, Any]] = [t for t in stream.data if "nwbzarr-write-shard" in str(t["key"])]
    assert len(shard_tasks) == 7  # ceil(200 / 32) shards, each written by one task
    assert {t["worker"] for t in shard_tasks} <= workers  # by the worker processes, not this one

    with NWBZarrIO(s3_url, "r", storage_options=options) as io:
        stored = io.read().acquisition["movie"].data  # type: ignore[attr-defined]
        assert stored.shape == movie.shape
        for i in range(len(movie)):  # every frame
            assert np.array_equal(stored[i], movie[i]), f"frame {i}"
    report = verify(s3_url, storage_options=options)
    assert report.ok, report.problems
