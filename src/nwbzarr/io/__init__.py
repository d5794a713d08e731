"""The PyNWB-shaped faces: ``NWBZarrIO`` (and ``NWBHDF5IO``) context managers, and ``read_nwb``."""

from nwbzarr.io.base import Mode
from nwbzarr.io.hdf5_io import NWBHDF5IO
from nwbzarr.io.read import read_nwb
from nwbzarr.io.zarr_io import NWBZarrIO

__all__ = ["Mode", "NWBHDF5IO", "NWBZarrIO", "read_nwb"]
