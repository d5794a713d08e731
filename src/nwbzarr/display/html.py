"""Notebook views: any container as a collapsible HTML tree (``<details>``), built from metadata only.

A view must be free to show: it reads no array data and resolves no :class:`~nwbzarr.model.base.Deferred`
value, so rendering a file freshly opened from the cloud costs no request. Scalars whose value is in the
metadata already read are shown; values that would cost a read show as "not read yet" with their stored
dtype (unless ``read_values=True``). Every piece of text from the file is escaped.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from nwbzarr.display.arrays import NOT_FREE, ArrayInfo, array_info, free_value, stored_dtype
from nwbzarr.display.style import CSS
from nwbzarr.display.walk import owned
from nwbzarr.model.base import Children, Container, Data, Deferred
from nwbzarr.model.spec import Kind, Member, members
from nwbzarr.model.table import DynamicTable, VectorData
from nwbzarr.model.timeseries import TimeSeries
from nwbzarr.operations.summary import format_bytes
from nwbzarr.tree.nodes import Dataset, Group
from nwbzarr.writing.streams import FrameStream

__all__ = ["storage_path", "to_html"]

#: units the schema implies for fields that carry no unit attribute
FIELD_UNITS = {
    "rate": "Hz",
    "imaging_rate": "Hz",
    "starting_time": "s",
    "excitation_lambda": "nm",
    "emission_lambda": "nm",
    "scan_line_rate": "lines/s",
}
_MAX_TEXT = 600  # characters of one text value shown
_MAX_INLINE = 12  # numbers of a small array shown inline
_TOKENS = itertools.count()
_TIMES = "\u00d7"  # the multiplication sign of shapes and ratios


def to_html(obj: Container, *, read_values: bool = False, open_depth: int = 1) -> str:
    """A collapsible HTML tree of ``obj`` and everything it owns; links show as links to their target.

    Values that cost no read are shown (scalars kept in the metadata, attributes, values in memory);
    ``read_values=True`` also reads the small values still in the store, by default nothing is read.
    ``open_depth`` levels start expanded: by default the top object with its groups listed and their
    objects folded, as xarray's repr opens its sections and folds their items.
    """
    return _Renderer(obj, read_values=read_values, open_depth=open_depth).render()


def storage_path(obj: Container) -> str:
    """Where ``obj`` lives: ``/acquisition/TwoPhotonSeries`` in a file, or relative to its top object."""
    parts: list[str] = []
    current = obj
    while current.parent is not None:
        parts.append(_location_in(current.parent, current))
        current = current.parent
    if current.neurodata_type == "NWBFile":
        return "/" + "/".join(reversed(parts))
    return "/".join([current.name, *reversed(parts)])


def _location_in(parent: Container, child: Container) -> str:
    for field_name, member in members(parent):
        value = parent.__dict__.get(field_name)
        if member.kind is Kind.CHILD and value is child:
            return member.storage_name(field_name)
        if member.kind is Kind.CHILDREN and isinstance(value, Children) and value.get(child.name) is child:
            return f"{member.path}/{child.name}" if member.path else child.name
    return child.name  # a column's index and other members the table stores by name


def _columns(table: DynamicTable) -> Mapping[str, VectorData]:
    columns = table.__dict__.get("columns")
    return columns if isinstance(columns, Children) else {}


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _length(data: Any) -> int | None:
    if isinstance(data, (list, tuple)):
        return len(data)
    shape = getattr(data, "shape", None)
    if isinstance(shape, tuple) and shape:
        return int(shape[0])
    return None


class _Renderer:
    def __init__(self, root: Container, *, read_values: bool, open_depth: int) -> None:
        self.root = root
        self.read_values = read_values
        self.open_depth = open_depth
        self.token = f"nz{next(_TOKENS)}x{id(root) & 0xFFFFFF:x}"  # ids stay unique across notebook cells
        self.inside: set[int] = set()
        self.objects = self.arrays = self.raw = self.stored = self.deferred = 0
        self._survey(root)

    def _survey(self, obj: Container) -> None:
        self.inside.add(id(obj))
        self.objects += 1
        for field_name, member in members(obj):
            if member.kind in (Kind.DATASET, Kind.ATTRIBUTE):
                value = obj.__dict__.get(field_name)
                self.deferred += value.__class__ is Deferred and free_value(value.source) is NOT_FREE
                info = _array(obj.__dict__.get(field_name))
                if info is not None and info.lazy:
                    self.arrays += 1
                    self.raw += info.raw_nbytes or 0
                    self.stored += info.stored_nbytes or 0
        for child in owned(obj):
            self._survey(child)

    def anchor(self, obj: Container) -> str:
        return f"{self.token}-{id(obj):x}"

    # --- the page ---------------------------------------------------------------------------------
    def render(self) -> str:
        head = (
            f'<div class="nz-head"><b>{_esc(type(self.root).__name__)}</b> <code>{_esc(self.root.name)}</code>'
            f'<span class="nz-hint">{self.objects} object{"s" if self.objects != 1 else ""}'
        )
        if self.arrays:
            head += f" · {self.arrays} stored array{'s' if self.arrays != 1 else ''}"
            if self.raw:
                head += f", {format_bytes(self.raw)} of data"
            if self.stored:
                head += f" ({format_bytes(self.stored)} stored)"
            head += " · nothing read"
        if self.deferred and not self.read_values:
            head += (
                " · values marked <i>not read yet</i> load on first access"
                " (or <code>to_html(obj, read_values=True)</code>)"
            )
        head += "</span></div>"
        body = self.container(self.root, depth=0)
        return f'<div class="nz-root"><style>{CSS}</style>{head}{body}</div>'

    def container(self, obj: Container, *, depth: int, label: str = "") -> str:
        is_open = " open" if depth < self.open_depth else ""
        title = _esc(f"{storage_path(obj)}  (object_id {obj.object_id})")
        field = f'<span class="nz-field">{_esc(label)}</span> ' if label and label != obj.name else ""
        summary = (
            f'<summary title="{title}">{field}<span class="nz-type">{_esc(type(obj).__name__)}</span>'
            f'<span class="nz-name">{_esc(obj.name)}</span>{self.hint(obj)}</summary>'
        )
        rows: list[str] = []
        nested: list[str] = []
        attached = _attached(obj)
        shown_as_chips = {name for pairs in attached.values() for name, _ in pairs}
        for field_name, member in members(obj):
            if isinstance(obj, DynamicTable) and field_name in ("columns", "id"):
                continue
            if field_name in shown_as_chips:
                continue
            raw = obj.__dict__.get(field_name)
            if raw is None or (isinstance(raw, Mapping) and not raw) or _is_default(obj, field_name, member, raw):
                continue
            if member.kind is Kind.CHILD and isinstance(raw, Container) and raw.parent is obj:
                nested.append(self.container(raw, depth=depth + 1, label=field_name))
            elif member.kind is Kind.CHILDREN and isinstance(raw, Children) and not member.path:
                nested.extend(self.items(obj, raw, depth=depth + 1))  # stored right in this group
            elif member.kind is Kind.CHILDREN and isinstance(raw, Children):
                nested.append(self.children(obj, field_name, member, raw, depth=depth + 1))
            else:
                value = self.value(obj, field_name, member, raw)
                chips = "".join(self.chip(obj, n, m) for n, m in attached.get(field_name, ()))
                rows.append(f"<tr><th>{_esc(field_name)}</th><td>{value}{chips}</td></tr>")
        rows.extend(self.extra_rows(obj, depth))
        table = f'<table class="nz-fields">{"".join(rows)}</table>' if rows else ""
        columns = self.columns(obj) if isinstance(obj, DynamicTable) else ""
        body = f'<div class="nz-body">{table}{columns}{"".join(nested)}</div>'
        return f'<details class="nz-obj" id="{self.anchor(obj)}"{is_open}>{summary}{body}</details>'

    def items(self, obj: Container, items: Children[Any], *, depth: int) -> Iterator[str]:
        for item in items.values():
            if item.parent is obj:
                yield self.container(item, depth=depth)
            else:
                yield f"<div>{self.link(item)}</div>"

    def children(self, obj: Container, field_name: str, member: Member, items: Children[Any], *, depth: int) -> str:
        parts = list(self.items(obj, items, depth=depth))
        count = f"{len(items)} object{'s' if len(items) != 1 else ''}"
        is_open = " open" if depth <= self.open_depth else ""  # a group opens with the object that holds it
        label = member.path or field_name
        return (
            f'<details class="nz-group"{is_open}><summary><span class="nz-field">{_esc(label)}</span>'
            f'<span class="nz-hint">{count}</span></summary><div class="nz-body">{"".join(parts)}</div></details>'
        )

    # --- one-line summaries ----------------------------------------------------------------------
    def hint(self, obj: Container) -> str:
        bits: list[str] = []
        state = obj.__dict__
        if isinstance(obj, DynamicTable):
            rows = _length(state["id"].__dict__.get("data")) if isinstance(state.get("id"), Container) else 0
            ncols = len(_columns(obj))
            bits.append(f"{rows if rows is not None else '?'} rows {_TIMES} {ncols} column{'s' if ncols != 1 else ''}")
        elif isinstance(obj, (TimeSeries, Data)):
            info = _array(state.get("data"))
            if info is not None and info.shape != (0, 0, 0):
                bits.append(f"{info.shape} {info.dtype}")
            elif isinstance(state.get("data"), FrameStream):
                bits.append("frame stream")
            unit = state.get("unit")
            if isinstance(unit, str) and isinstance(obj, TimeSeries):
                bits.append(unit)
            rate = state.get("rate")
            if isinstance(rate, (int, float)) and not isinstance(rate, bool):
                bits.append(f"{_number(rate)} Hz")
            elif state.get("timestamps") is not None:
                bits.append("timestamps")
            if isinstance(obj, TimeSeries) and state.get("external_file") is not None:
                bits.append("external file")
        description = state.get("description")
        if not bits and isinstance(description, str) and description:
            bits.append(description if len(description) < 80 else description[:77] + "…")
        return f'<span class="nz-hint">{_esc(" · ".join(bits))}</span>' if bits else ""

    # --- values ------------------------------------------------------------------------------------
    def value(self, obj: Container, field_name: str, member: Member, raw: Any) -> str:
        if raw.__class__ is Deferred:
            free = free_value(raw.source)
            if free is not NOT_FREE:  # its value is in the metadata already read: show it, like PyNWB does
                return _plain(free, FIELD_UNITS.get(field_name))
            if not self.read_values:
                what = stored_dtype(raw.source) or member.dtype or "value"
                shape = getattr(raw.source, "shape", None)
                size = f" {_TIMES.join(str(n) for n in shape)}" if isinstance(shape, tuple) and shape else ""
                return (
                    f'<span class="nz-lazy" title="one read: access .{_esc(field_name)} to load it, or '
                    f'to_html(obj, read_values=True)">not read yet</span>' + _chip(f"{what}{size}")
                )
            raw = getattr(obj, field_name)
        if isinstance(raw, Container):
            return self.link(raw)
        unit = FIELD_UNITS.get(field_name)
        return _plain(raw, unit)

    def chip(self, obj: Container, field_name: str, member: Member) -> str:
        raw = obj.__dict__.get(field_name)
        if raw is None or raw.__class__ is Deferred or _is_default(obj, field_name, member, raw):
            return ""
        name = member.storage_name(field_name)
        if isinstance(raw, Container):
            return f'<span class="nz-chip">{_esc(name)} {self.link(raw)}</span>'
        css = "nz-chip nz-unit" if name == "unit" else "nz-chip"
        text = _esc(raw) if isinstance(raw, str) else _plain(raw, FIELD_UNITS.get(field_name))
        return f'<span class="{css}">{_esc(name)} {text}</span>'

    def link(self, target: Container) -> str:
        path = storage_path(target)
        label = f"→ {_esc(type(target).__name__)} {_esc(target.name)}"
        if id(target) in self.inside:
            label = f'<a class="nz-link" href="#{self.anchor(target)}">{label}</a>'
        else:
            label = f'<span class="nz-link">{label}</span>'
        return f'{label}<code class="nz-path">{_esc(path)}</code>'

    def columns(self, table: DynamicTable) -> str:
        rows = []
        ids = table.__dict__.get("id")
        entries: list[tuple[str, Container]] = [("id", ids)] if isinstance(ids, Container) else []
        entries.extend(_columns(table).items())
        for name, column in entries:
            data = column.__dict__.get("data")
            info = _array(data)
            index = column.__dict__.get("index")
            if isinstance(index, Container):
                n_rows, n_values = _length(index.__dict__.get("data")), _length(data)
                shape = f"ragged: {n_values} values in {n_rows} rows"
            elif info is not None and len(info.shape) > 1:
                shape = f"{info.shape[1:]} per row"
            else:
                shape = "scalar per row" if info is not None else f"{_length(data) or 0} values in memory"
            dtype = info.dtype if info is not None else "list"
            storage = _storage_chips(info) if info is not None else ""
            description = column.__dict__.get("description")
            description = description if isinstance(description, str) else ""
            kind = type(column).__name__
            target = column.__dict__.get("table")
            linked = f" {self.link(target)}" if isinstance(target, Container) else ""
            rows.append(
                f'<tr><td><code>{_esc(name)}</code></td><td class="nz-dim">{_esc(kind)}</td><td>{_esc(dtype)}</td>'
                f"<td>{_esc(shape)}</td><td>{_esc(description)}{linked}</td><td>{storage}</td></tr>"
            )
        head = "<tr><th>column</th><th>type</th><th>dtype</th><th>shape</th><th>description</th><th>storage</th></tr>"
        return f'<table class="nz-cols">{head}{"".join(rows)}</table>'

    def extra_rows(self, obj: Container, depth: int) -> Iterator[str]:
        extra = obj.__dict__.get("_extra")
        if not isinstance(extra, (Group, Dataset)):
            return
        known = _known_names(obj) | ({"specifications"} if depth == 0 else set())
        names = [n for n in extra.members if n not in known] if isinstance(extra, Group) else []
        attrs = list(extra.attrs)
        if names or attrs:
            shown = ", ".join([*names, *(f"@{a}" for a in attrs)])
            yield (
                f'<tr><th>other stored</th><td class="nz-dim" title="kept unchanged; not part of the model">'
                f"{_esc(shown)}</td></tr>"
            )


def _known_names(obj: Container) -> set[str]:
    """Names in the object's group that the model shows already (its members, children, columns)."""
    names: set[str] = set()
    for field_name, member in members(obj):
        if member.kind is Kind.ATTRIBUTE:
            continue
        names.add(member.storage_name(field_name).partition("/")[0])
        value = obj.__dict__.get(field_name)
        if member.kind is Kind.CHILDREN and not member.path and isinstance(value, Children):
            names.update(value)
    if isinstance(obj, DynamicTable):
        names.add("id")
        for name, column in _columns(obj).items():
            names.add(name)
            index = column.__dict__.get("index")
            if isinstance(index, Container):
                names.add(index.name)
    return names


def _attached(obj: Container) -> dict[str, list[tuple[str, Member]]]:
    """Attributes stored on one of the object's datasets (``data@unit``), by that dataset's field name."""
    by_storage = {m.storage_name(n): n for n, m in members(obj) if m.kind is Kind.DATASET}
    out: dict[str, list[tuple[str, Member]]] = {}
    for field_name, member in members(obj):
        if member.kind is Kind.ATTRIBUTE and member.on in by_storage:
            out.setdefault(by_storage[member.on], []).append((field_name, member))
    return out


def _is_default(obj: Container, field_name: str, member: Member, raw: Any) -> bool:
    """Hide optional values left at their schema default (``conversion 1.0``, ``comments 'no comments'``)."""
    if member.kind is not Kind.ATTRIBUTE or field_name == "unit" or member.storage_name(field_name) == "unit":
        return False
    if not isinstance(raw, (str, int, float)):
        return False
    for f in dataclasses.fields(obj):
        if f.name == field_name:
            default = f.default
            return default is not dataclasses.MISSING and type(default) is type(raw) and default == raw
    return False


def _array(value: Any) -> ArrayInfo | None:
    if value is None or value.__class__ is Deferred or isinstance(value, (str, bytes, datetime, FrameStream)):
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return None
    return array_info(value)


def _number(value: float | int) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _plain(raw: Any, unit: str | None) -> str:
    """A value that is not a container: text, number, date, list or array (escaped HTML)."""
    suffix = f" {unit}" if unit else ""
    if isinstance(raw, np.generic):
        raw = raw.item()
    if isinstance(raw, bool):
        return _esc(raw)
    if isinstance(raw, (int, float)):
        return _esc(_number(raw) + suffix)
    if isinstance(raw, str):
        text = raw if len(raw) <= _MAX_TEXT else raw[:_MAX_TEXT] + f"… ({len(raw)} characters)"
        return f'<span class="nz-text">{_esc(text)}</span>'
    if isinstance(raw, datetime):
        return _esc(raw.isoformat(sep=" "))
    if isinstance(raw, tuple) and all(isinstance(v, (str, datetime)) for v in raw):
        items = [v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in raw]
        text = "; ".join(items)
        return f'<span class="nz-text">{_esc(text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…")}</span>'
    if isinstance(raw, list):
        return f'<span class="nz-dim">{len(raw)} values in memory</span>'
    if isinstance(raw, FrameStream):
        count = raw.n_frames if raw.n_frames is not None else "?"
        shape = _TIMES.join(str(n) for n in raw.frame_shape)
        return (
            f'<span class="nz-mono"><b>{count} frames of {_esc(shape)}</b> {_esc(raw.dtype)}</span>'
            ' <span class="nz-lazy">streamed when written</span>'
        )
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "biuf" and raw.ndim <= 1 and raw.size <= _MAX_INLINE:
        return _esc("[" + ", ".join(_number(v) for v in raw.tolist()) + "]" + suffix)
    info = _array(raw)
    if info is not None:
        return _array_html(info)
    text = repr(raw)
    return _esc(text if len(text) <= 200 else text[:200] + "…")


def _array_html(info: ArrayInfo) -> str:
    shape = _TIMES.join(str(n) for n in info.shape) if info.shape else "scalar"
    out = f'<span class="nz-mono"><b>{_esc(shape)}</b> {_esc(info.dtype)}</span>'
    if 0 in info.shape:
        return out + ' <span class="nz-dim">empty</span>'
    out += _storage_chips(info)
    if info.lazy:
        out += ' <span class="nz-lazy">in store, not read</span>'
    return out


def _storage_chips(info: ArrayInfo) -> str:
    chips = []
    if info.chunks and info.chunks != info.shape:
        chips.append(f"chunks {info.chunks}")
    if info.shards:
        chips.append(f"shards {info.shards}")
    chips.extend(info.codecs)
    if info.raw_nbytes is not None:
        chips.append(format_bytes(info.raw_nbytes))
    if info.stored_nbytes is not None:
        ratio = (
            f", {info.raw_nbytes / info.stored_nbytes:.1f}{_TIMES}" if info.raw_nbytes and info.stored_nbytes else ""
        )
        chips.append(f"{format_bytes(info.stored_nbytes)} stored{ratio}")
    return "".join(_chip(c) for c in chips)


def _chip(text: str) -> str:
    return f'<span class="nz-chip">{_esc(text)}</span>'
