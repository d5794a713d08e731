"""A wrong value for any field of any model type is refused when the object is built, naming the field.

Table-driven from the declarative field tables (:mod:`nwbzarr.model.spec`): for every registered type
a valid sample is found (in the tutorial file) or built from its members, and every field is given the
wrong values its schema dtype, dims and kind call for. A new type or field is covered without
changing this file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import numpy as np
import pytest

from nwbzarr.errors import NWBZarrError, ValidationError
from nwbzarr.model import REGISTRY, Container
from nwbzarr.model.base import _field_type
from nwbzarr.model.spec import Kind, Member, members
from nwbzarr.testing.tutorial import build_tutorial_file

_NUMERIC = {"float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_ABSTRACT = {"Container", "Data", "NWBContainer", "NWBDataInterface"}
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@cache
def _pool() -> dict[str, Container]:
    """One valid object of every type the tutorial file holds."""
    out: dict[str, Container] = {}
    for obj in build_tutorial_file(frames=6, size=8).all_children():
        out.setdefault(type(obj).__name__, obj)
    return out


def _valid_value(member: Member) -> Any:
    dtype, dims = member.dtype, member.dims
    rank = min((len(d) for d in dims), default=0)
    if dtype == "text":
        return ("a",) if dims else "a"
    if dtype == "isodatetime":
        return (WHEN,) if dims else WHEN
    if dtype == "bool":
        return True
    if dims:
        return np.ones((2,) * rank, dtype=dtype if dtype in _NUMERIC else "float64")
    if dtype in _NUMERIC:
        return 1
    return np.ones(2)


def _target(cls: type, field: str, inner: bool = False) -> Container | None:
    for kind in _field_type(cls, field, inner=inner):
        for obj in _pool().values():
            if isinstance(obj, kind):
                return obj
    return None


def _kwargs(obj: Container) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


def _build(cls: type[Container]) -> Container | None:
    """A valid object of ``cls`` from its members alone (required fields get schema-valid values)."""
    kwargs: dict[str, Any] = {"name": "sample"}
    for f in dataclasses.fields(cls):
        if (
            not f.init
            or f.name == "name"
            or not (f.default is dataclasses.MISSING) & (f.default_factory is dataclasses.MISSING)
        ):
            continue
        member = next((m for n, m in members(cls) if n == f.name), None)
        if member is None:
            continue
        if member.kind in (Kind.LINK, Kind.CHILD) or member.dtype == "ref":
            kwargs[f.name] = _target(cls, f.name)
        else:
            kwargs[f.name] = _valid_value(member)
    name_default = next(f.default for f in dataclasses.fields(cls) if f.name == "name")
    if isinstance(name_default, str):
        kwargs["name"] = name_default
    hints: list[dict[str, Any]] = [{}, {"rate": 1.0}, {"rate": 1.0, "data": np.ones((2, 2, 2))}]
    hints += [{"data": np.ones((2, 2, channels))} for channels in (3, 4)]  # colour images
    for extra in hints:
        try:
            return cls(**(kwargs | extra))
        except (NWBZarrError, TypeError):
            continue
    return None


@cache
def _samples() -> dict[str, Container]:
    out = dict(_pool())
    for (_, name), cls in REGISTRY.items():
        if name not in out and name not in _ABSTRACT:
            built = _build(cls)
            if built is not None:
                out[name] = built
    return out


def _none_allowed(cls: type, field: str) -> bool:
    return next(f for f in dataclasses.fields(cls) if f.name == field).default is None


def wrong_values(cls: type, field: str, member: Member) -> Iterator[tuple[str, Any]]:
    """The wrong values for one field, by what its member declares."""
    if not _none_allowed(cls, field) and member.kind is not Kind.CHILDREN:
        yield "None", None
    if member.kind in (Kind.LINK, Kind.CHILD) or member.dtype == "ref":
        yield "a str", "not a container"
        yield "a number", 5
        return
    if member.kind is Kind.CHILDREN:
        yield "a number", 5
        yield "a list of str", ["not a container"]
        return
    dtype, dims = member.dtype, member.dims
    if dtype == "text":
        yield "a number", 5
        yield "a lone surrogate", "bad \ud800 text"
        yield "a list of numbers", [5] if dims else ["a"]
        if not dims:
            yield "bytes", b"bytes"
        return
    if dtype == "isodatetime":
        yield "a number", 5
        yield "not a date", ["not a date"] if dims else "not a date"
        yield "a naive datetime", [datetime(2024, 1, 1)] if dims else datetime(2024, 1, 1)
        return
    if dtype == "bool":
        yield "a str", "yes"
        return
    if not dims and dtype in _NUMERIC:
        yield "a str", "1.0"
        yield "a list", [1, 2]
        yield "a bool", True
        if np.dtype(dtype).kind in "iu":
            yield "a fraction", 1.5
            yield "out of range", 2**70
        if np.dtype(dtype).kind == "u":
            yield "negative", -1
        return
    if dims:
        ranks = {len(d) for d in dims}
        yield "a str", "abc"
        yield "a dict", {"a": 1}
        yield "a set", {1, 2}
        yield "a scalar", 5
        yield "an object array", np.array([object(), object()], dtype=object)
        yield "a ragged list", [[1, 2], [3]]
        yield "wrong rank", np.ones((1,) * (max(ranks) + 1))
        if dtype in _NUMERIC | {"numeric"}:
            yield "strings", np.full((2,) * min(ranks), "a")


def _cases() -> Iterator[Any]:
    for type_name, obj in sorted(_samples().items()):
        cls = type(obj)
        for field, member in members(cls):
            if not next(f for f in dataclasses.fields(cls) if f.name == field).init:
                continue
            for label, value in wrong_values(cls, field, member):
                yield pytest.param(type_name, field, value, id=f"{type_name}.{field}-{label}")


CASES = list(_cases())


def test_every_registered_type_has_a_sample() -> None:
    missing = sorted(name for (_, name) in REGISTRY if name not in _ABSTRACT and name not in _samples())
    assert not missing, f"no valid sample of {missing}: give the builder a hint or add them to the tutorial file"


def test_the_table_is_large() -> None:
    assert len(CASES) > 300


@pytest.mark.parametrize("type_name", sorted(_samples()))
def test_a_copy_with_the_same_values_is_valid(type_name: str) -> None:
    obj = _samples()[type_name]
    type(obj)(**_kwargs(obj))


@pytest.mark.parametrize(("type_name", "field", "value"), CASES)
def test_a_wrong_value_is_refused_at_construction_naming_the_field(type_name: str, field: str, value: Any) -> None:
    obj = _samples()[type_name]
    with pytest.raises(ValidationError) as caught:
        type(obj)(**(_kwargs(obj) | {field: value}))
    error = caught.value
    assert isinstance(error, NWBZarrError) and isinstance(error, (ValueError, TypeError))
    assert field in str(error) and type_name in str(error), str(error)


@pytest.mark.parametrize(
    "name", ["a\x00b", "tab\there", "x" * 256, "é" * 128, "bad \ud800"], ids=["nul", "tab", "256", "utf8", "surrogate"]
)
def test_a_name_that_no_store_can_hold_is_refused(name: str) -> None:
    from nwbzarr.model import TimeSeries

    with pytest.raises(ValidationError, match="TimeSeries: name"):
        TimeSeries(name=name, data=np.ones(3), unit="V", rate=1.0)
    TimeSeries(name="x" * 255, data=np.ones(3), unit="V", rate=1.0)  # the longest allowed


def test_pixel_masks_must_be_uint32_coordinates_inside_the_image() -> None:
    from nwbzarr.model import ImageSeries, PlaneSegmentation

    table = _samples()["PlaneSegmentation"]
    assert isinstance(table, PlaneSegmentation)
    fresh = PlaneSegmentation(name="p", description="d", imaging_plane=table.imaging_plane)
    for bad in ([(-1, 0, 1.0)], [(2**32, 0, 1.0)], [(0.5, 0, 1.0)], [("0", 0, 1.0)], [(0, 0, "w")], 5):
        with pytest.raises(ValidationError, match="pixel_mask"):
            fresh.add_roi(pixel_mask=bad)  # type: ignore[arg-type]
    movie = _samples()["TwoPhotonSeries"]  # frames of 8 x 8 pixels
    assert isinstance(movie, ImageSeries) and np.shape(movie.data)[1:] == (8, 8)
    framed = PlaneSegmentation(name="q", description="d", imaging_plane=table.imaging_plane)
    framed.add_reference_image(movie)
    for outside in ([(8, 0, 1.0)], [(0, 8, 1.0)]):
        with pytest.raises(ValidationError, match="outside the 8x8 image"):
            framed.add_roi(pixel_mask=outside)
    framed.add_roi(pixel_mask=[(7, 7, 1.0)])
    fresh.add_roi(pixel_mask=[(0, 1, 0.5), (2**32 - 1, 3, 1.0)])
    with pytest.raises(ValidationError, match="region must be row positions"):
        fresh.create_roi_table_region(description="d", region=["a"])  # type: ignore[list-item]
