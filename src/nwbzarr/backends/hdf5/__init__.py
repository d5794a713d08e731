"""HDF5 backend (needs h5py: ``pip install 'nwbzarr[hdf5]'``)."""

from nwbzarr.backends.hdf5.backend import HDF5Backend
from nwbzarr.backends.hdf5.reader import H5LazyArray, read_tree

__all__ = ["H5LazyArray", "HDF5Backend", "read_tree"]
