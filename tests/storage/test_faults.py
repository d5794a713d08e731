"""Transient faults between client and S3 are survived; a persistent fault is a clear error, not a hang."""

from __future__ import annotations

import time

import numpy as np
import pytest

from nwbzarr import NWBZarrIO, verify
from nwbzarr.errors import NWBZarrError
from nwbzarr.model import NWBFile
from nwbzarr.testing.faults import FaultyProxy
from nwbzarr.testing.s3server import S3TestServer


def test_writes_and_reads_survive_transient_faults(
    s3_server: S3TestServer, tutorial_file: NWBFile, capsys: pytest.CaptureFixture[str]
) -> None:
    with FaultyProxy(s3_server.host, s3_server.port, rate=0.1, kinds=("500", "503", "reset"), seed=7) as proxy:
        options = s3_server.storage_options(proxy.url)
        url = "s3://lab/faulty.nwb.zarr"
        with NWBZarrIO(url, "w", storage_options=options) as io:
            io.write(tutorial_file)
        with NWBZarrIO(url, "r", storage_options=options) as io:
            back = io.read()
            assert back == tutorial_file
            movie = np.asarray(tutorial_file.acquisition["TwoPhotonSeries1"].data)  # type: ignore[attr-defined]
            assert np.array_equal(back.acquisition["TwoPhotonSeries1"].data[:], movie)  # type: ignore[attr-defined]
        report = verify(url, storage_options=options)
        assert report.ok
        faulted = sum(proxy.faults.values())
        assert faulted > 10, proxy.faults  # the faults happened, and every byte still came out right
    with capsys.disabled():
        print(
            f"\n  faults injected: {dict(proxy.faults)} of {proxy.total} requests; "
            f"{report.objects_checked} objects ({report.bytes_checked} bytes) verified"
        )


def test_a_dead_endpoint_is_a_clear_error_not_a_hang(s3_server: S3TestServer, tutorial_file: NWBFile) -> None:
    with FaultyProxy(s3_server.host, s3_server.port, rate=1.0, kinds=("503",)) as proxy:
        options = s3_server.storage_options(proxy.url)
        options["config_kwargs"] = {"retries": {"max_attempts": 2, "mode": "standard"}}
        start = time.monotonic()
        with pytest.raises(NWBZarrError), NWBZarrIO("s3://lab/dead.nwb.zarr", "w", storage_options=options) as io:
            io.write(tutorial_file)
        assert time.monotonic() - start < 120
