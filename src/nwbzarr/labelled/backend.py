"""The xarray backend ``engine="nwbzarr"``: any file nwbzarr reads, one group as a labelled Dataset.

Registered in ``pyproject.toml`` under ``[project.entry-points."xarray.backends"]``; xarray imports
this module only when it lists its engines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, ClassVar

from xarray import Dataset
from xarray.backends import BackendEntrypoint

from nwbzarr.labelled.groups import open_labelled

__all__ = ["NWBZarrBackendEntrypoint"]

_SUFFIXES = (".nwb.zarr", ".nwb.zarr/", ".nwb")


class NWBZarrBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(path_or_url, engine="nwbzarr", group="acquisition/TwoPhotonSeries")``.

    Extra keywords: ``storage_options`` (for URLs), ``scaled`` (apply conversion and offset),
    ``allow_pickle`` (legacy v2 stores). ``chunks={}`` gives one Dask chunk per shard.
    """

    description: ClassVar[str] = "NWB files (Zarr v3/v2 stores, HDF5) through nwbzarr: series with a time axis"
    open_dataset_parameters: ClassVar[tuple[str, ...] | None] = (
        "filename_or_obj",
        "drop_variables",
        "group",
        "storage_options",
        "scaled",
        "allow_pickle",
    )

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        group: str | None = None,
        storage_options: dict[str, Any] | None = None,
        scaled: bool = False,
        allow_pickle: bool = False,
    ) -> Dataset:
        drop = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables or ())
        return open_labelled(
            filename_or_obj,
            group,
            storage_options=storage_options,
            scaled=scaled,
            allow_pickle=allow_pickle,
            drop_variables=drop,
        )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if isinstance(filename_or_obj, (str, os.PathLike)):
            return os.fspath(filename_or_obj).lower().endswith(_SUFFIXES)
        return False
