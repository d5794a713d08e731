"""Import optional dependencies where they are used, with an install hint when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from nwbzarr.errors import MissingDependencyError

__all__ = ["require"]

_EXTRA_OF = {
    "h5py": "hdf5",
    "s3fs": "s3",
    "obstore": "obstore",
    "dask": "dask",
    "distributed": "dask",
    "pandas": "pandas",
    "tqdm": "progress",
    "tifffile": "tiff",
    "matplotlib": "plot",
    "xarray": "xarray",
    "yaml": "schema",
}


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".", maxsplit=1)[0]
        extra = _EXTRA_OF.get(top, "all")
        raise MissingDependencyError(
            f"{feature} needs the optional package {top!r}: pip install 'nwbzarr[{extra}]'"
        ) from exc
