"""Base classes of the container model, the type registry, and value handling shared by all types."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar, dataclass_transform

import numpy as np

from nwbzarr.abc.array import LazyArray
from nwbzarr.errors import ContainerNotFoundError, DuplicateNameError, InvalidNameError, ValidationError
from nwbzarr.model.checks import array_problem, as_array, integer_problem, name_problem, text_problem
from nwbzarr.model.spec import Kind, Member, attribute, child, children, dataset, link, members
from nwbzarr.tree.paths import check_name

__all__ = [
    "REGISTRY",
    "Children",
    "Container",
    "Data",
    "Deferred",
    "NWBContainer",
    "NWBDataInterface",
    "neurodata_type",
    "values_equal",
]

C = TypeVar("C", bound="Container")
T = TypeVar("T", bound="Container")

#: (namespace, neurodata_type) -> model class
REGISTRY: dict[tuple[str, str], type[Container]] = {}


@dataclass_transform(
    kw_only_default=True,
    eq_default=False,
    field_specifiers=(attribute, dataset, link, child, children, dataclasses.field),
)
def neurodata_type(namespace: str = "core") -> Callable[[type[C]], type[C]]:
    """Make a class an NWB type: a keyword-only dataclass registered under its class name."""

    def wrap(cls: type[C]) -> type[C]:
        cls = dataclasses.dataclass(kw_only=True, eq=False, repr=False)(cls)
        cls.namespace = namespace
        cls.neurodata_type = cls.__name__
        REGISTRY[(namespace, cls.__name__)] = cls
        return cls

    return wrap


class Deferred:
    """A value still in the store; resolved (and cached) the first time the attribute is read.

    Lets ``read()`` cost only the metadata requests: scalars and small arrays are fetched when used.
    """

    __slots__ = ("_load", "source")

    def __init__(self, load: Callable[[], Any], source: Any = None) -> None:
        self._load = load
        self.source = source  # the stored array it comes from: views show its dtype (and a free value)

    def resolve(self) -> Any:
        return self._load()


class Children(Mapping[str, T]):
    """Named children of one kind, in insertion order: ``fl['RoiResponseSeries']``."""

    def __init__(self, owner: str = "", items: Iterable[T] = ()) -> None:
        self._owner = owner
        self._items: dict[str, T] = {}
        for item in items:
            self.add(item)

    def add(self, item: T) -> T:
        """Add ``item`` under its name; a second object with that name is an error."""
        if not isinstance(item, Container):
            raise ValidationError(f"{self._owner}: expected an NWB container, got {type(item).__name__}")
        if item.name in self._items:
            raise DuplicateNameError(
                f"{self._owner}: an object named {item.name!r} is already there; names in one group must be unique"
            )
        self._items[item.name] = item
        return item

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            have = ", ".join(repr(k) for k in self._items) or "nothing"
            raise ContainerNotFoundError(f"{self._owner}: no object named {name!r} (it holds {have})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        # stores list members by name, not by insertion: order is not part of a file's content
        return set(self) == set(other) and all(values_equal(self[k], other[k]) for k in self)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {type(v).__name__}" for k, v in self._items.items()) + "}"


def _check_name(name: object, what: str) -> str:
    """A node name that every store can hold: check_name's rules, no control characters, at most 255 bytes."""
    check_name(name, what)
    assert isinstance(name, str)
    problem = name_problem(name)
    if problem is not None:
        raise InvalidNameError(f"{what}: name {name[:40]!r}{'...' if len(name) > 40 else ''} {problem}")
    return name


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class Container:
    """Any NWB object. Subclasses are declared with :func:`neurodata_type` and field specifiers.

    A type whose schema gives a default name declares it as the default of ``name``.
    """

    namespace: ClassVar[str] = "hdmf-common"
    neurodata_type: ClassVar[str] = "Container"

    name: str
    parent: Container | None = dataclasses.field(default=None, init=False, repr=False, kw_only=True)
    object_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()), init=False, kw_only=True)

    def __getattribute__(self, key: str) -> Any:
        value = object.__getattribute__(self, key)
        if value.__class__ is Deferred:
            value = value.resolve()
            object.__setattr__(self, key, value)
        return value

    def __post_init__(self) -> None:
        _check_name(self.name, type(self).__name__)
        for field_name, member in members(self):
            setattr(self, field_name, self._normalize(field_name, member, getattr(self, field_name)))
        self._validate()

    def validate(self) -> None:
        """Check again what the constructor checked (the object may have been changed since)."""
        problems = self.problems()
        if problems:
            raise problems[0]

    def problems(self) -> list[ValidationError]:
        """Every rule this object breaks (each field on its own, then the rules across fields)."""
        found: list[ValidationError] = []
        try:
            _check_name(self.name, type(self).__name__)
        except ValidationError as exc:
            found.append(exc)
        for field_name, member in members(self):
            try:
                value = getattr(self, field_name)
                if member.kind in (Kind.DATASET, Kind.ATTRIBUTE) and value is not None and member.dtype != "ref":
                    normalize_value(self, field_name, member, value)
                elif value is None and member.required:
                    raise self._fail(field_name, "is required")
            except ValidationError as exc:
                found.append(exc)
        try:
            self._validate()
        except ValidationError as exc:
            found.append(exc)
        except (TypeError, AttributeError):  # a cross-field rule tripped over a field reported above
            if not found:
                raise
        return found

    # --- construction helpers ---------------------------------------------------------------
    @property
    def _label(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def _fail(self, field_name: str, message: str) -> ValidationError:
        return ValidationError(f"{self._label}, field {field_name!r}: {message}")

    def _normalize(self, field_name: str, member: Member, value: Any) -> Any:
        if value is None:
            if member.required:
                raise self._fail(field_name, "is required")
            if not _none_allowed(type(self), field_name):  # e.g. unit=None where the schema has a default
                raise self._fail(field_name, "cannot be None (leave it out to get its default)")
            return None
        if member.kind is Kind.CHILDREN:
            return self._adopt_children(field_name, value)
        if member.kind is Kind.CHILD:
            self._check_container(field_name, value)
            fixed = member.storage_name(field_name).rpartition("/")[2]
            if value.name != fixed:
                raise self._fail(field_name, f"must be named {fixed!r}, got {value.name!r}")
            self._adopt(value)
            return value
        if member.kind is Kind.LINK:
            self._check_container(field_name, value)
            return value
        if member.kind is Kind.ATTRIBUTE and member.dtype == "ref":
            self._check_container(field_name, value)
            return value
        return normalize_value(self, field_name, member, value)

    def _check_container(self, field_name: str, value: Any) -> None:
        expected = _field_type(type(self), field_name)
        if not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise self._fail(field_name, f"expected {names}, got {type(value).__name__}")

    def _adopt(self, item: Container) -> None:
        if item.parent is None:
            item.parent = self

    def _adopt_children(self, field_name: str, value: Any) -> Children[Any]:
        if isinstance(value, Container):
            value = [value]
        elif isinstance(value, Mapping):
            value = list(value.values())
        elif isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise self._fail(field_name, f"expected containers (one, a list or a dict), got {type(value).__name__}")
        owner = f"{self._label}.{field_name}"
        items = Children[Any](owner)
        expected = _field_type(type(self), field_name, inner=True)
        for item in value:
            if not isinstance(item, expected):
                names = " or ".join(t.__name__ for t in expected)
                raise self._fail(field_name, f"expected {names}, got {type(item).__name__}")
            items.add(item)
            self._adopt(item)  # type: ignore[arg-type]  # checked just above
        return items

    def _add_child(self, field_name: str, item: T) -> T:
        """Add to a CHILDREN field after construction (``add_acquisition``, ``module.add``...)."""
        container: Children[T] = getattr(self, field_name)
        expected = _field_type(type(self), field_name, inner=True)
        if not isinstance(item, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise self._fail(field_name, f"expected {names}, got {type(item).__name__}")
        container.add(item)
        self._adopt(item)
        return item

    def _validate(self) -> None:
        """Rules beyond one field's own (subclasses extend)."""

    # --- value semantics ------------------------------------------------------------------------
    def fields(self) -> dict[str, Any]:
        """Every stored field's value, by field name (resolving deferred values)."""
        return {name: getattr(self, name) for name, _ in members(self)}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Container)
        if self.name != other.name or self.object_id != other.object_id:
            return False
        for field_name, member in members(self):
            a, b = getattr(self, field_name), getattr(other, field_name)
            if member.kind is Kind.LINK or (member.kind is Kind.ATTRIBUTE and member.dtype == "ref"):
                if (a is None) != (b is None) or (a is not None and not _same_identity(a, b)):
                    return False
            elif not values_equal(a, b):
                return False
        return True

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        lines = [f"{self.name} {type(self).__module__.split('.')[0]}.{type(self).__name__} at 0x{id(self):x}"]
        state = self.__dict__
        for field_name, member in members(self):
            raw = state.get(field_name)
            if raw is None or (isinstance(raw, Mapping) and not raw):
                continue
            shown = "<not read yet>" if raw.__class__ is Deferred else _short(raw, member)
            lines.append(f"  {field_name}: {shown}")
        return "\n".join(lines)

    def children(self) -> Iterator[Container]:
        """Direct children owned by this object (not links)."""
        for field_name, member in members(self):
            value = getattr(self, field_name)
            if member.kind is Kind.CHILD and value is not None and value.parent is self:
                yield value
            elif member.kind is Kind.CHILDREN:
                yield from (v for v in value.values() if v.parent is self)


def _same_identity(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a.name == b.name and a.object_id == b.object_id


def _short(value: Any, member: Member) -> str:
    if isinstance(value, Container):
        kind = "link to " if member.kind is Kind.LINK else ""
        return f"{kind}{type(value).__name__} {value.name!r}"
    if isinstance(value, (np.ndarray, LazyArray)):
        return f"<{type(value).__name__} shape={value.shape} dtype={value.dtype}>"
    if isinstance(value, Children):
        return repr(value)
    text = repr(value)
    return text if len(text) < 100 else text[:97] + "..."


_TYPE_CACHE: dict[tuple[type, str, bool], tuple[type, ...]] = {}
_NONE_CACHE: dict[tuple[type, str], bool] = {}


def _none_allowed(cls: type, field_name: str) -> bool:
    """Whether ``None`` is a value of the field: only when its default is ``None`` (an optional member)."""
    key = (cls, field_name)
    if key not in _NONE_CACHE:
        found = next((f for f in dataclasses.fields(cls) if f.name == field_name), None)
        _NONE_CACHE[key] = found is not None and found.default is None
    return _NONE_CACHE[key]


def _field_type(cls: type, field_name: str, *, inner: bool = False) -> tuple[type, ...]:
    """The container classes a link/child field accepts, read from its annotation."""
    key = (cls, field_name, inner)
    if key not in _TYPE_CACHE:
        import typing

        hints = typing.get_type_hints(cls)
        hint = hints[field_name]
        if inner:  # Children[X]
            hint = typing.get_args(hint)[0]
        args = (
            typing.get_args(hint)
            if typing.get_origin(hint) in (typing.Union, __import__("types").UnionType)
            else (hint,)
        )
        _TYPE_CACHE[key] = tuple(a for a in args if isinstance(a, type) and a is not type(None))
    return _TYPE_CACHE[key]


# --- values ---------------------------------------------------------------------------------
_NUMERIC = {"float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def normalize_value(owner: Container, field_name: str, member: Member, value: Any) -> Any:
    """Check a dataset or attribute value against its schema dtype and dims; return the stored form."""
    if value.__class__ is Deferred:
        return value
    if member.dtype == "ref":  # references: the owning type checks its targets, here only that there are many
        many = isinstance(value, Iterable) or hasattr(value, "shape")
        if member.dims and (isinstance(value, (str, bytes, Mapping)) or not many):
            raise owner._fail(field_name, f"must be a list of objects, got {type(value).__name__}")
        return value
    dtype, dims = member.dtype, member.dims
    if dtype in ("text", "isodatetime") and dims:  # 1-D text: accept one string or many
        if isinstance(value, (bytes, Mapping)) or not isinstance(value, (str, datetime, Iterable)):
            raise owner._fail(field_name, f"must be {dtype} (one value or a list), got {type(value).__name__}")
        items = (value,) if isinstance(value, (str, datetime)) else tuple(value)
        return tuple(_scalar(owner, field_name, dtype, v) for v in items)
    if not dims and dtype is not None and dtype != "numeric":
        return _scalar(owner, field_name, dtype, value)
    if dims:  # an array of the schema's rank and dtype kind, checked before any cast
        value, problem = as_array(value)
        problem = problem or array_problem(value, numeric=dtype in _NUMERIC | {"numeric"})
        if problem is not None:
            raise owner._fail(field_name, problem)
    elif isinstance(value, (list, tuple)):
        with contextlib.suppress(ValueError, TypeError):  # ragged cells of a column stay a list
            value = np.asarray(value)
    if dtype in _NUMERIC and isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        value = _at_least(value, np.dtype(dtype))
    if dims and hasattr(value, "shape"):
        ranks = sorted({len(d) for d in dims})
        if len(value.shape) not in ranks:
            allowed = " or ".join(f"({', '.join(d)})" for d in dims)
            raise owner._fail(
                field_name,
                f"must be {' or '.join(map(str, ranks))}-D {allowed}, got shape {tuple(value.shape)}",
            )
    if dtype in _NUMERIC | {"numeric"} and hasattr(value, "dtype"):
        kind = getattr(value.dtype, "kind", "?")
        if kind not in "biuf":
            raise owner._fail(field_name, f"must be numeric, got dtype {value.dtype}")
    return value


def _at_least(value: np.ndarray, minimum: np.dtype) -> np.ndarray:
    """Keep the user's dtype when it is at least as wide as the schema's (hdmf's rule), else cast."""
    if value.dtype.kind in "biuf" and np.can_cast(minimum, value.dtype, "safe"):
        return value
    if value.dtype.kind == minimum.kind and value.dtype.itemsize >= minimum.itemsize:
        return value
    return value.astype(minimum)


def _scalar(owner: Container, field_name: str, dtype: str, value: Any) -> Any:
    if dtype == "text":
        if isinstance(value, np.str_):
            value = str(value)
        if not isinstance(value, str):
            raise owner._fail(field_name, f"must be text, got {type(value).__name__}")
        problem = text_problem(value)
        if problem is not None:
            raise owner._fail(field_name, f"{value[:40]!r} {problem}")
        return value
    if dtype == "isodatetime":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError as exc:
                raise owner._fail(field_name, f"not an ISO 8601 date-time: {value!r}") from exc
        if not isinstance(value, datetime):
            raise owner._fail(field_name, f"must be a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise owner._fail(
                field_name,
                f"{value.isoformat()} has no time zone; pass an aware datetime (e.g. tzinfo=tzlocal())",
            )
        return value
    if dtype == "bool":
        if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
            return bool(value)
        raise owner._fail(field_name, f"must be True or False, got {value!r}")
    if dtype in _NUMERIC:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise owner._fail(field_name, f"must be a number, got {value!r}")
        kind = np.dtype(dtype).kind
        if kind in "iu":
            if isinstance(value, (float, np.floating)) and not float(value).is_integer():
                raise owner._fail(field_name, f"must be an integer, got {value!r}")
            problem = integer_problem(int(value), np.dtype(dtype))
            if problem is not None:
                raise owner._fail(field_name, problem)
            if isinstance(value, (float, np.floating)):
                return int(value)
        if isinstance(value, np.generic):
            return value
        if kind == "f":
            return float(value)
        return value
    return value


def values_equal(a: Any, b: Any) -> bool:
    """Equality that understands numpy, lazy arrays, containers and NaN (for round-trip checks)."""
    if a is b:
        return True
    if isinstance(a, Container) or isinstance(b, Container):
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(values_equal(a[k], b[k]) for k in a)
    array_like = (np.ndarray, LazyArray, np.generic)
    if isinstance(a, array_like) or isinstance(b, array_like):
        return _arrays_equal(a, b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _arrays_equal(a: Any, b: Any) -> bool:
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        return False
    if x.dtype.names or y.dtype.names:
        return x.dtype.names == y.dtype.names and all(_arrays_equal(x[n], y[n]) for n in x.dtype.names or ())
    if x.dtype.kind in "fc" and y.dtype.kind in "fc":
        return bool(np.array_equal(x, y, equal_nan=True))
    return bool(np.array_equal(x, y))


# --- the abstract NWB bases -----------------------------------------------------------------
@neurodata_type("core")
class NWBContainer(Container):
    """Any NWB group type."""


@neurodata_type("core")
class NWBDataInterface(NWBContainer):
    """A group of data that can live in acquisition or a processing module."""


@neurodata_type("hdmf-common")
class Data(Container):
    """A typed dataset (VectorData, ElementIdentifiers...): its value is ``data``."""

    def __len__(self) -> int:
        data = getattr(self, "data", None)
        return (0 if data is None else len(data)) + len(self.__dict__.get("_pending", ()))
