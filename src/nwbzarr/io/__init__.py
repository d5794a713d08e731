"""The PyNWB-shaped faces: ``NWBZarrIO`` (and ``NWBHDF5IO``) context managers."""

from nwbzarr.io.base import Mode
from nwbzarr.io.hdf5_io import NWBHDF5IO
from nwbzarr.io.zarr_io import NWBZarrIO

__all__ = ["Mode", "NWBHDF5IO", "NWBZarrIO"]
