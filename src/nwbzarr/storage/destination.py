"""One guard for every writer's destination, so nothing the user did not ask to replace is ever lost.

``convert``, ``NWBZarrIO`` and ``NWBHDF5IO`` call :func:`check_destination` before they touch anything.
It refuses a destination that is the source, lies inside it or contains it (local paths after resolving
symlinks and ``file://``; URLs by scheme and key), a non-empty folder or prefix that is not an NWB store,
an existing file of another kind, a name whose suffix gives no NWB format when the format comes from the
name, and an existing NWB file unless replacing it was asked for.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from zarr.abc.store import Store
from zarr.storage import FsspecStore, LocalStore, ObjectStore, WrapperStore

from nwbzarr.errors import DestinationError, StorageError, StoreExistsError
from nwbzarr.storage import conditional
from nwbzarr.storage.resolve import StoreLike, make_store

__all__ = [
    "ACCEPTED_SUFFIXES",
    "HDF5_SUFFIXES",
    "ZARR_SUFFIXES",
    "Existing",
    "Location",
    "check_destination",
    "locate",
]

ZARR_SUFFIXES = (".nwb.zarr", ".zarr")
HDF5_SUFFIXES = (".nwb", ".h5", ".hdf5", ".hdf")
ACCEPTED_SUFFIXES = ZARR_SUFFIXES + HDF5_SUFFIXES
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_STORE_MARKERS = ("zarr.json", ".zgroup", "nwbzarr.json", "nwbzarr.lock")

#: what a destination holds before the write: nothing (or an empty folder), an NWB store, an NWB HDF5 file
Existing = Literal["nothing", "store", "file"]


@dataclass(frozen=True)
class Location:
    """Where a target is, comparable across spellings: ``scheme`` ("file", "s3"...) and a normalized ``key``."""

    typed: str
    scheme: str
    key: str

    @property
    def local(self) -> Path | None:
        """The resolved local path, or None for a URL."""
        return Path(self.key) if self.scheme == "file" else None

    def relation(self, other: Location) -> str | None:
        """How ``self`` sits against ``other``: "is", "lies inside", "contains", or None (apart)."""
        if self.scheme != other.scheme:
            return None
        if self.key == other.key:
            return "is"
        if self.key.startswith(other.key.rstrip("/") + "/"):
            return "lies inside"
        if other.key.startswith(self.key.rstrip("/") + "/"):
            return "contains"
        return None


def locate(target: StoreLike) -> Location | None:
    """The location of a path, URL or store; None for a store whose place cannot be known."""
    if isinstance(target, Store):
        while isinstance(target, WrapperStore):
            target = target._store
        if isinstance(target, LocalStore):
            return Location(repr(target), "file", str(Path(target.root).resolve()))
        if isinstance(target, FsspecStore):
            protocol = target.fs.protocol
            scheme = protocol[0] if isinstance(protocol, (tuple, list)) else str(protocol)
            return Location(repr(target), _scheme(scheme), _normal_key(target.path))
        if isinstance(target, ObjectStore):  # obstore (storage/obstore_store.py): an S3 bucket and prefix, or a URL
            inner = target.store
            bucket = (getattr(inner, "config", None) or {}).get("bucket")
            if bucket:
                return Location(repr(target), _scheme("s3"), _normal_key(f"{bucket}/{inner.prefix or ''}"))
            url = str(getattr(inner, "url", "") or "")
            if "://" in url:
                scheme, _, rest = url.partition("://")
                return Location(repr(target), _scheme(scheme), _normal_key(rest))
            return None
        inner = getattr(target, "_store", None) or getattr(target, "store", None)  # wrappers of other kinds
        return locate(inner) if isinstance(inner, Store) and inner is not target else None
    text = os.fspath(target)
    if "://" not in text or text.startswith("file://"):
        return Location(text, "file", str(Path(text.removeprefix("file://")).expanduser().resolve()))
    scheme, _, rest = text.partition("://")
    return Location(text, _scheme(scheme), _normal_key(rest))


def _scheme(scheme: str) -> str:
    scheme = scheme.lower()
    return {"s3a": "s3", "local": "file", "gs": "gcs"}.get(scheme, scheme)


def _normal_key(path: str) -> str:
    return "/".join(part for part in path.split("/") if part not in ("", "."))


def check_destination(
    dst: StoreLike,
    *,
    format: Literal["zarr", "hdf5"],
    overwrite: bool,
    sources: Sequence[StoreLike] = (),
    named: bool = False,
    storage_options: dict[str, Any] | None = None,
    store: Store | None = None,
    exists: bool | None = None,
    how: str = "pass overwrite=True (nwbzarr convert --overwrite) or open with mode 'w'",
) -> Existing:
    """Refuse ``dst`` if writing ``format`` there could destroy what was not asked for; say what is there.

    ``named``: the format was taken from the name, so the name must end in an NWB suffix. ``how`` tells
    the user how to ask for a replacement. ``store``/``exists``: what the caller already resolved.
    """
    typed = os.fspath(dst) if not isinstance(dst, Store) else repr(dst)
    here = locate(store if store is not None else dst)
    for src in sources:
        there = locate(src)
        relation = here.relation(there) if here is not None and there is not None else None
        if relation is None and isinstance(src, Store) and src is dst:
            relation = "is"
        if relation is not None:
            src_text = os.fspath(src) if not isinstance(src, Store) else repr(src)
            what = "is the source" if relation == "is" else f"{relation} the source {src_text}"
            raise DestinationError(
                f"{typed}: the destination {what}; writing it would destroy the source. Choose another destination"
            )
    if here is not None and here.local is not None:
        existing = _check_local(here.local, typed, format=format, overwrite=overwrite, how=how)
    else:
        existing = _check_remote(
            dst,
            typed,
            format=format,
            overwrite=overwrite,
            how=how,
            store=store,
            storage_options=storage_options,
            exists=exists,
        )
    if existing == "nothing":  # a new file's name must say its format; an existing one's content says it
        _check_name(dst, typed, format=format, named=named)
    return existing


def _check_name(dst: StoreLike, typed: str, *, format: str, named: bool) -> None:
    if isinstance(dst, Store):
        return
    name = typed.rstrip("/").rsplit("/", 1)[-1].lower()
    accepted = (
        f"{', '.join(ZARR_SUFFIXES)} for a Zarr store, {', '.join(HDF5_SUFFIXES)} for an HDF5 file "
        "(or name the format: --to / dst_format=)"
    )
    if named and not name.endswith(ACCEPTED_SUFFIXES):
        raise DestinationError(f"{typed}: the name ends in no NWB format's suffix; use {accepted}")
    if format == "zarr" and name.endswith(HDF5_SUFFIXES) and not name.endswith(ZARR_SUFFIXES):
        raise DestinationError(f"{typed}: a Zarr store named like an HDF5 file; use {', '.join(ZARR_SUFFIXES)}")
    if format == "hdf5" and name.endswith(ZARR_SUFFIXES):
        raise DestinationError(f"{typed}: an HDF5 file named like a Zarr store; use {', '.join(HDF5_SUFFIXES)}")


def _check_local(path: Path, typed: str, *, format: str, overwrite: bool, how: str) -> Existing:
    if path.is_file():
        if not _is_hdf5(path):
            raise DestinationError(f"{typed}: an existing file that is not an NWB file; refusing to replace it")
        if format != "hdf5":
            raise DestinationError(
                f"{typed}: an existing HDF5 file; a Zarr store would replace it with a folder. Remove it first"
            )
        if not overwrite:
            raise StoreExistsError(f"{typed} already exists; {how} to replace it")
        return "file"
    if path.is_dir():
        if _is_nwb_store(path):
            if format != "zarr":
                raise DestinationError(
                    f"{typed}: an existing Zarr store; an HDF5 file cannot replace a folder. Remove it first"
                )
            if not overwrite:
                raise StoreExistsError(f"{typed} already exists; {how} to replace it")
            return "store"
        if any(path.iterdir()):
            raise DestinationError(
                f"{typed}: a non-empty folder that is not a Zarr store of an NWB file; refusing to write over it"
            )
        if format == "hdf5":
            raise DestinationError(f"{typed}: an existing folder; an HDF5 file needs a file name")
        return "nothing"
    if path.exists() or path.is_symlink():  # a dangling link, a device...
        raise DestinationError(f"{typed}: exists and is neither a folder nor a file; refusing to replace it")
    return "nothing"


def _is_hdf5(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(8) == _HDF5_MAGIC
    except OSError:
        return False


def _is_nwb_store(path: Path) -> bool:
    """A Zarr folder holding an NWB file, or an nwbzarr write that never finished (its manifest or lock)."""
    if (path / "nwbzarr.json").exists() or (path / "nwbzarr.lock").exists():
        return True
    for meta, attrs_file in (("zarr.json", None), (".zgroup", ".zattrs")):
        if not (path / meta).is_file():
            continue
        try:
            doc = json.loads((path / (attrs_file or meta)).read_text())
        except (OSError, ValueError):
            return False
        attrs = doc.get("attributes", {}) if attrs_file is None and isinstance(doc, dict) else doc
        return isinstance(attrs, dict) and ("nwb_version" in attrs or "neurodata_type" in attrs)
    return False


def _check_remote(
    dst: StoreLike,
    typed: str,
    *,
    format: str,
    overwrite: bool,
    how: str,
    store: Store | None,
    storage_options: dict[str, Any] | None,
    exists: bool | None,
) -> Existing:
    if format == "hdf5":
        return "nothing"  # HDF5 destinations are local files; the backend says so
    if store is None:
        store = make_store(dst, read_only=True, storage_options=storage_options)
    survey = _survey(store)
    if exists is None:
        exists = survey.exists
    if exists:
        if not _holds_nwb(store, survey):
            raise DestinationError(
                f"{typed}: holds a Zarr hierarchy that is not a Zarr store of an NWB file; refusing to write over it"
            )
        if not overwrite:
            raise StoreExistsError(f"{typed} already exists; {how} to replace it")
        return "store"
    if survey.any_key:
        raise DestinationError(f"{typed}: holds objects but no Zarr store of an NWB file; refusing to write over them")
    return "nothing"


@dataclass(frozen=True)
class _Survey:
    """What one concurrent round of requests found at a remote destination."""

    markers: frozenset[str]  # which of _STORE_MARKERS are there
    root: bytes | None  # the root zarr.json, if any
    any_key: bool  # anything at all under the prefix (nwbzarr's probe objects aside)

    @property
    def exists(self) -> bool:
        return bool(self.markers)


def _survey(store: Store) -> _Survey:
    """The markers of a store, the root document, whether anything is stored, and the probe of conditional
    writes (per bucket, cached; :mod:`.conditional`), all asked at once: one round trip instead of one per
    question (the destination is checked before every conversion; on S3 each costs a full latency)."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    async def marker(key: str) -> bool:
        try:
            return bool(await store.exists(key))
        except FileNotFoundError:
            return False

    async def root() -> bytes | None:
        try:
            value = await store.get("zarr.json", prototype=default_buffer_prototype())
        except FileNotFoundError:
            return None
        return value.to_bytes() if value is not None else None

    async def everything() -> tuple[list[bool], bytes | None, bool | None, None]:
        found, document, listed, probed = await asyncio.gather(  # _STORE_MARKERS[0] is the root, read whole
            asyncio.gather(*(marker(key) for key in _STORE_MARKERS[1:])),
            root(),
            _any_key(store),
            conditional.probe(store),
        )
        return [document is not None, *found], document, listed, probed

    try:
        found, document, listed, _ = sync(everything())
        if listed is None:  # the listing met a probe in progress: asked again, the probe done
            listed = bool(sync(_any_key(store, settled=True)))
    except OSError as exc:  # network, permissions: after the transport's own retries
        raise StorageError(f"{store}: cannot reach the destination: {exc}") from exc
    markers = frozenset(key for key, there in zip(_STORE_MARKERS, found, strict=True) if there)
    return _Survey(markers, document, listed)


def _holds_nwb(store: Store, survey: _Survey) -> bool:
    """The remote twin of :func:`_is_nwb_store`: an nwbzarr manifest or lock, or a root with NWB attributes."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    if survey.markers & {"nwbzarr.json", "nwbzarr.lock"}:
        return True
    if survey.root is not None:
        return _nwb_attrs(survey.root, v3=True)
    if ".zgroup" not in survey.markers:
        return False
    try:  # a legacy v2 root: its attributes are in .zattrs (one more request, for v2 stores only)
        value = sync(store.get(".zattrs", prototype=default_buffer_prototype()))
    except OSError as exc:
        raise StorageError(f"{store}: cannot read the destination: {exc}") from exc
    return _nwb_attrs(value.to_bytes() if value is not None else b"{}", v3=False)


def _nwb_attrs(document: bytes, *, v3: bool) -> bool:
    try:
        doc = json.loads(document)
    except ValueError:
        return False
    attrs = doc.get("attributes", {}) if v3 and isinstance(doc, dict) else doc
    return isinstance(attrs, dict) and ("nwb_version" in attrs or "neurodata_type" in attrs)


async def _any_key(store: Store, *, settled: bool = False) -> bool | None:
    """Whether anything is stored under ``store`` (one listing request on object storage); None: ask again.

    nwbzarr's probe objects of conditional writes (created and removed by a writer checking the bucket)
    are not the user's: they are skipped. A listing by s3fs that ran while this check's own probe had its
    object there can show the store's own path (s3fs lists an empty prefix as a "directory" then): that
    listing says nothing, and is asked again once the probe is done (``settled``: then that path counts).
    """
    ambiguous = False
    try:
        async for key in store.list():
            if key.startswith(conditional.PROBE_PREFIX):
                continue
            if isinstance(store, FsspecStore) and key == store.path and not settled:
                ambiguous = True
                continue
            return True
    except FileNotFoundError:
        return False
    return None if ambiguous else False
