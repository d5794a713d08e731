"""A fresh conversion to S3 asks the server nothing it knows already (issue 18, upload speed).

zarr checks every parent and lists every node's prefix as it creates them; a fresh write holds the lock
over a store that held nothing else, so it answers those itself (``ManifestStore(fresh=True)``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwbzarr import NWBHDF5IO, verify
from nwbzarr.model import TimeSeries
from nwbzarr.operations.convert import convert
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file


def test_a_fresh_conversion_reads_almost_nothing_back(
    tmp_path: Path, s3_server: S3TestServer, counting_proxy: CountingProxy
) -> None:
    nwbfile = build_tutorial_file(frames=24, size=16, seed=9)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=np.arange(30 * 8 * 8).reshape(30, 8, 8), unit="n", rate=2.0))
    source = tmp_path / "session.nwb"
    with NWBHDF5IO(source, "w") as io:
        io.write(nwbfile)
    options = s3_server.storage_options(counting_proxy.url)
    counting_proxy.reset()
    convert(source, "s3://lab/fresh-requests.nwb.zarr", dst_storage_options=options, verify=False)
    puts = counting_proxy.requests["PUT"]
    assert puts > 40  # every node and chunk of the file was stored...
    # ...without asking for what it stored: no HEAD per parent, no listing per node (consolidation lists groups)
    assert counting_proxy.requests["HEAD"] <= 20, dict(counting_proxy.requests)
    assert counting_proxy.requests["GET"] <= 60, dict(counting_proxy.requests)
    assert verify("s3://lab/fresh-requests.nwb.zarr", storage_options=s3_server.storage_options()).ok
