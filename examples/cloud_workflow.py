"""The cloud workflow: archive an HDF5 session to an S3 bucket, open it lazily, compute with Dask.

A real S3-compatible server started on this machine (moto, as in the tests) stands in for the bucket;
with a real bucket, drop the server and pass your own storage_options (or none, for your AWS profile).

    python examples/cloud_workflow.py
"""

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np

from nwbzarr import NWBHDF5IO, NWBZarrIO, convert
from nwbzarr.testing import SyntheticSession, make_session
from nwbzarr.testing.s3server import S3TestServer

work = Path(tempfile.mkdtemp(prefix="cloud-"))
atexit.register(shutil.rmtree, work, ignore_errors=True)  # the local HDF5 file goes when the example ends
session = SyntheticSession(n_frames=300, height=128, width=128, n_cells=40)

# 1. the lab's session, as an NWB HDF5 file from the rig
with NWBHDF5IO(work / "session.nwb", "w") as io:
    io.write(make_session(session))

with S3TestServer() as s3:
    s3.create_bucket("lab-archive")
    options = s3.storage_options()
    url = "s3://lab-archive/mouse17/day3.nwb.zarr"

    # 2. archive it: upload, then verify every object's checksum
    report = convert(work / "session.nwb", url, dst_storage_options=options)
    print(f"archived to {url}: {report.objects_checked} objects verified")

    # 3. a notebook opens it lazily (two small requests) and reads one frame
    with NWBZarrIO(url, "r", storage_options=options) as io:
        nwbfile = io.read()
        movie = nwbfile.acquisition["TwoPhotonSeries"].data
        print(f"{nwbfile.session_id}: movie {movie.shape} {movie.dtype}, chunks {movie.chunks}")
        print(f"frame 150 mean: {movie[150].mean():.1f} photons")

        # 4. Dask computes a mean image and a ROI's trace chunk by chunk
        lazy = movie.to_dask()
        mean_image = lazy.mean(axis=0).compute()
        top, left, patch = session.patches[0]
        h, w = patch.shape
        trace = ((lazy[:, top : top + h, left : left + w] * patch).sum(axis=(1, 2)) / patch.sum()).compute()
        print(
            f"mean image {mean_image.shape}, brightest pixel {mean_image.max():.1f}; "
            f"ROI 0 trace peak {np.max(trace):.1f}"
        )
