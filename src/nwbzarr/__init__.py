"""nwbzarr: NWB optical physiology in Zarr v3, read lazily, locally or in the cloud.

``from nwbzarr import NWBFile, TimeSeries, NWBZarrIO`` works like the PyNWB imports it replaces.
"""

from nwbzarr.backends.open import read_nwb
from nwbzarr.convert import convert
from nwbzarr.dataio import DataIO
from nwbzarr.errors import NWBZarrError
from nwbzarr.io import NWBHDF5IO, NWBZarrIO
from nwbzarr.model import (
    Device,
    DynamicTable,
    DynamicTableRegion,
    NWBFile,
    ProcessingModule,
    Subject,
    TimeSeries,
)
from nwbzarr.model.generic import get_class
from nwbzarr.model.namespaces import load_namespaces
from nwbzarr.streams import FrameStream
from nwbzarr.tree.layout import Compression, Layout
from nwbzarr.verify import verify

__version__ = "0.1.0.dev0"

__all__ = [
    "Compression",
    "DataIO",
    "Device",
    "DynamicTable",
    "DynamicTableRegion",
    "FrameStream",
    "Layout",
    "NWBFile",
    "NWBHDF5IO",
    "NWBZarrError",
    "NWBZarrIO",
    "ProcessingModule",
    "Subject",
    "TimeSeries",
    "__version__",
    "convert",
    "get_class",
    "load_namespaces",
    "read_nwb",
    "verify",
]
