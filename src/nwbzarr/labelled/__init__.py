"""Labelled, lazy views for analysis: series and tables as Dask-backed xarray objects.

``series_to_xarray`` gives a DataArray with the schema's dimension names and a ``time`` coordinate,
``table_to_xarray`` a Dataset indexed by row ``id``, ``open_labelled`` the same for one group of any file
nwbzarr reads (what ``xr.open_dataset(path, engine="nwbzarr", group=...)`` returns). Nothing here imports
xarray or Dask until it is called.
"""

from nwbzarr.labelled.groups import group_to_xarray, open_labelled
from nwbzarr.labelled.series import series_to_xarray
from nwbzarr.labelled.table import table_to_xarray

__all__ = ["group_to_xarray", "open_labelled", "series_to_xarray", "table_to_xarray"]
