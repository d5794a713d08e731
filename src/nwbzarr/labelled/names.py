"""Dimension names of a container's datasets from the schema (the names the Zarr writer stores)."""

from __future__ import annotations

from nwbzarr.model.base import Container
from nwbzarr.model.spec import members

__all__ = ["schema_dims", "unique"]


def unique(dims: list[str]) -> tuple[str, ...]:
    """A repeated name gets ``_{axis}`` (as the Zarr writer's ``dimension_names`` do)."""
    return tuple(d if dims.count(d) == 1 else f"{d}_{i}" for i, d in enumerate(dims))


def schema_dims(obj: Container, field: str, ndim: int) -> tuple[str, ...]:
    """The schema's dimension names of ``obj.field`` for an array of ``ndim`` dimensions.

    The schema lists one name tuple per allowed rank; a rank it does not list gets ``{field}_dim_{axis}``.
    """
    for name, member in members(obj):
        if name == field:
            for option in member.dims:
                if len(option) == ndim:
                    return unique(list(option))
    return tuple(f"{field}_dim_{i}" for i in range(ndim))
