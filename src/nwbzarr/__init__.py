"""nwbzarr: NWB optical physiology in Zarr v3."""

from nwbzarr.model import *  # noqa: F403
