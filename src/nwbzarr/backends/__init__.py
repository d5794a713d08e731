"""Storage formats: the only code that knows Zarr v3, legacy Zarr v2 or HDF5."""
