"""One group of any file nwbzarr reads as a labelled Dataset (what the xarray engine ``nwbzarr`` returns)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.backends.open import open_backend
from nwbzarr.backends.zarr_v3.writer import dimension_names
from nwbzarr.codec import decode
from nwbzarr.core.dtypes import Compound, ObjectRef
from nwbzarr.core.optional import require
from nwbzarr.errors import ContainerNotFoundError, NWBZarrError
from nwbzarr.labelled.lazy import Wrap, dask_wrap, preferred_chunks
from nwbzarr.labelled.series import label_series
from nwbzarr.labelled.table import label_table
from nwbzarr.model.base import Container
from nwbzarr.model.table import DynamicTable
from nwbzarr.model.timeseries import TimeSeries
from nwbzarr.tree.nodes import Dataset, Group, Link, Reference
from nwbzarr.tree.paths import split

if TYPE_CHECKING:
    import xarray

    from nwbzarr.storage import StoreLike

__all__ = ["group_to_xarray", "label_group", "open_labelled"]

_FEATURE = "the xarray engine 'nwbzarr'"


def open_labelled(
    target: StoreLike,
    group: str | None = None,
    *,
    storage_options: dict[str, Any] | None = None,
    scaled: bool = False,
    allow_pickle: bool = False,
    drop_variables: Iterable[str] = (),
) -> xarray.Dataset:
    """The group at ``group`` (``"acquisition/TwoPhotonSeries"``; None: the root) of any NWB file nwbzarr reads.

    A TimeSeries is its :func:`series_to_xarray` as the variable ``data``, a DynamicTable its
    :func:`table_to_xarray`, any other group its datasets under the names the Zarr writer gives them.
    Arrays are lazily indexed (a slice reads what it touches); each variable's ``preferred_chunks`` is its
    shard, so ``xr.open_dataset(..., engine="nwbzarr", chunks={})`` gives one Dask chunk per shard.
    ``scaled=True`` applies a series' conversion and offset lazily (as CF ``scale_factor``/``add_offset``).
    The file stays open until the Dataset is closed.
    """
    xr = require("xarray", _FEATURE)
    from nwbzarr.labelled.backend_array import backend_wrap  # subclasses xarray's BackendArray

    backend = open_backend(target, mode="r", storage_options=storage_options, allow_pickle=allow_pickle)
    try:
        tree = backend.read_tree()
        node = _node_at(tree, group or "/")
        out = _labelled(tree, node, backend_wrap)
        if scaled and "data" in out and "conversion" in out["data"].attrs:
            data = out["data"]
            data.attrs["scale_factor"] = np.float64(data.attrs.pop("conversion"))
            data.attrs["add_offset"] = np.float64(data.attrs.pop("offset"))
            out = xr.decode_cf(out, decode_times=False, decode_coords=False, decode_timedelta=False)
        out = out.drop_vars([v for v in drop_variables if v in out.variables])
    except BaseException:
        backend.close()
        raise
    out.set_close(backend.close)
    return out


def _node_at(tree: Group, path: str) -> Group:
    node: Group | Dataset | Link = tree
    for part in split(path):
        if isinstance(node, Link):
            node = _node_at(tree, node.path)
        if not isinstance(node, Group) or part not in node.members:
            raise ContainerNotFoundError(f"{path}: no such group in the file")
        node = node.members[part]
    if isinstance(node, Link):
        node = _node_at(tree, node.path)
    if not isinstance(node, Group):
        raise ContainerNotFoundError(f"{path}: is a dataset; open the group that holds it")
    return node


def _labelled(tree: Group, node: Group, wrap: Wrap) -> xarray.Dataset:
    obj = _container(tree, node)
    if isinstance(obj, TimeSeries) and obj.data is not None and np.shape(obj.data):
        series = label_series(obj, wrap)
        out: xarray.Dataset = series.to_dataset(name="data")
        out["data"].encoding.update(series.encoding)
        return out
    if isinstance(obj, DynamicTable):
        return label_table(obj, wrap)
    return label_group(node, wrap)


def _container(tree: Group, node: Group) -> Container | None:
    """The model object of a typed group (found by its object_id), or None."""
    object_id = node.attrs.get("object_id")
    if not isinstance(object_id, str) or "neurodata_type" not in node.attrs:
        return None
    try:
        nwbfile = decode(tree)
    except NWBZarrError:  # a file the model cannot decode still opens group by group
        return None
    return next((c for c in _walk(nwbfile) if c.object_id == object_id), None)


def _walk(obj: Container) -> Iterator[Container]:
    yield obj
    for child in obj.children():
        yield from _walk(child)


def group_to_xarray(group: Group, *, chunks: Any = None) -> xarray.Dataset:
    """Every dataset of ``group`` as a variable named by dimension as the Zarr writer names them.

    Numbers stay lazy (Dask); text and references are read (references as their paths); compounds are skipped.
    """
    return label_group(group, dask_wrap(chunks, _FEATURE))


def label_group(group: Group, wrap: Wrap) -> xarray.Dataset:
    """:func:`group_to_xarray` with numeric arrays as ``wrap`` makes them."""
    xr = require("xarray", _FEATURE)
    dims = dimension_names(group)
    variables: dict[str, Any] = {}
    for name, member in group.members.items():
        if not isinstance(member, Dataset) or isinstance(member.dtype, Compound):
            continue
        data: Any = member.data
        numeric = isinstance(member.dtype, np.dtype) and member.dtype.kind in "biuf"
        if numeric and member.shape:
            data = wrap(data)
        else:
            data = np.asarray(data.read() if isinstance(data, LazyArray) else data)
            if isinstance(member.dtype, ObjectRef):
                data = np.vectorize(lambda r: r.path if isinstance(r, Reference) else str(r), otypes=[object])(data)
        names = dims.get(name, ())
        variables[name] = xr.Variable(names, data, _json_attrs(member.attrs))
        variables[name].encoding["preferred_chunks"] = preferred_chunks(member.data, names)
    out: xarray.Dataset = xr.Dataset(variables, attrs=_json_attrs(group.attrs))
    return out


def _json_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes netCDF-like tools keep: references become their paths."""
    return {k: v.path if isinstance(v, Reference) else v for k, v in attrs.items()}
