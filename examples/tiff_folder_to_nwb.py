"""Convert a folder of multi-page TIFF files (as a microscope writes them) into an NWB Zarr store.

The frames are read page by page while they are written, so a session larger than memory converts
with bounded memory. Here the folder is made first from a synthetic session.

    python examples/tiff_folder_to_nwb.py [folder]
"""

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import tifffile

from nwbzarr import NWBZarrIO
from nwbzarr.model import TwoPhotonSeries
from nwbzarr.testing import SyntheticSession, mock_ImagingPlane, mock_NWBFile
from nwbzarr.writing.tiff import TiffStack

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="tiffs-"))
if len(sys.argv) == 1:  # a folder made for the example goes when it ends; one you name stays
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
if not any(folder.glob("*.tif")):
    movie = SyntheticSession(n_frames=300, height=128, width=128, n_cells=40).frames(0, 300)
    for i in range(0, 300, 100):
        tifffile.imwrite(folder / f"scan_{i // 100:03d}.tif", movie[i : i + 100])
    print(f"made {folder} with 3 TIFF files of 100 frames")

stack = TiffStack(sorted(folder.glob("*.tif")))
print(stack)
nwbfile = mock_NWBFile(session_description="two-photon scan converted from TIFF", identifier="tiff-demo")
plane = mock_ImagingPlane(nwbfile)
nwbfile.add_acquisition(
    TwoPhotonSeries(
        name="TwoPhotonSeries",
        data=stack,
        imaging_plane=plane,
        rate=30.0,
        unit="photons",
        description="frames from " + str(folder),
    )
)
out = folder / "scan.nwb.zarr"
with NWBZarrIO(out, "w") as io:
    io.write(nwbfile)
with NWBZarrIO(out) as io:
    data = io.read().acquisition["TwoPhotonSeries"].data
    print(f"wrote {out}: {data.shape} {data.dtype}, frame 150 mean {data[150].mean():.1f}")
