"""nwbzarr: NWB optical physiology in Zarr v3, read lazily, locally or in the cloud.

``from nwbzarr import NWBFile, TimeSeries, NWBZarrIO`` works like the PyNWB imports it replaces.
"""

from nwbzarr.display.notebook import install_html_view
from nwbzarr.errors import NWBZarrError
from nwbzarr.io import NWBHDF5IO, NWBZarrIO, read_nwb
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
from nwbzarr.operations.convert import convert
from nwbzarr.operations.validate import validate
from nwbzarr.operations.verify import verify
from nwbzarr.tree.layout import Compression, Layout
from nwbzarr.writing.dataio import DataIO
from nwbzarr.writing.streams import FrameStream
from nwbzarr.writing.tiff import TiffStack

__version__ = "0.1.0.dev0"

install_html_view()  # the views attach themselves to the model; the model imports no view

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
    "TiffStack",
    "TimeSeries",
    "__version__",
    "convert",
    "get_class",
    "load_namespaces",
    "read_nwb",
    "validate",
    "verify",
]
