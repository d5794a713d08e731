"""``NWBZarrIO``: NWB files as Zarr v3 stores, local or remote."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from zarr.abc.store import Store
from zarr.storage import LocalStore

from nwbzarr.abc.backend import Backend
from nwbzarr.backends.zarr_v3 import ZarrBackend, ZarrLazyArray
from nwbzarr.backends.zarr_v3.attributes import NonFinite
from nwbzarr.core.progress import Callback
from nwbzarr.errors import (
    NWBZarrError,
    ReadOnlyError,
    StoreNotFoundError,
    ValidationError,
)
from nwbzarr.io.append_plan import frames_plan
from nwbzarr.io.base import NWBIO
from nwbzarr.io.grow import Growth
from nwbzarr.model import TimeSeries
from nwbzarr.storage import StoreLike, make_store, store_exists
from nwbzarr.storage.destination import check_destination
from nwbzarr.tree.nodes import Group
from nwbzarr.writing.streams import FrameStream

__all__ = ["NWBZarrIO"]


class NWBZarrIO(NWBIO):
    """Open an NWB Zarr store: ``with NWBZarrIO("session.nwb.zarr", "w") as io: io.write(nwbfile)``.

    ``path`` is a local path, a URL (``s3://``, ``memory://``...) or a zarr store; ``storage_options``
    go to the fsspec filesystem of a URL. Modes: ``r`` read, ``w`` create or overwrite, ``w-`` create
    (fails if it exists), ``a`` add objects to an existing file. Legacy Zarr v2 stores (hdmf-zarr <=
    0.13) open with mode ``r``; their pickle-coded arrays are decoded only with ``allow_pickle=True``.
    ``nonfinite="strict"`` (default) writes NaN/infinite attributes as strict JSON that every Zarr reader
    accepts; ``"bare"`` as the NaN tokens PyNWB + hdmf-zarr 0.14 read back (README, "What a store looks like").
    """

    def __init__(
        self,
        path: StoreLike,
        mode: str = "r",
        *,
        storage_options: dict[str, Any] | None = None,
        progress: Callback | None = None,
        allow_pickle: bool = False,
        nonfinite: NonFinite = "strict",
    ) -> None:
        super().__init__(mode, progress=progress)
        if nonfinite not in ("strict", "bare"):
            raise ValidationError(f"NWBZarrIO: nonfinite={nonfinite!r}: expected 'strict' or 'bare'")
        self.allow_pickle = allow_pickle
        self.nonfinite: NonFinite = nonfinite
        self.path = path
        self.where = str(path) if not isinstance(path, Store) else repr(path)
        self.store = make_store(path, read_only=self.mode == "r", storage_options=storage_options)
        # a remote store opened with mode 'r' learns whether it exists from its first read (no extra request)
        remote_read = self.mode == "r" and not isinstance(self.store, LocalStore)
        # a local folder is looked at read-only: a refused open (mode 'a' on nothing) creates no folder
        probe = self.store.with_read_only(True) if isinstance(self.store, LocalStore) else self.store
        exists = True if remote_read else store_exists(probe)
        if self.mode in ("r", "a") and not exists:
            raise StoreNotFoundError(f"{self.where}: no NWB Zarr store here (mode {self.mode!r} needs one)")
        if self.mode in ("w", "w-"):  # nothing but an NWB store of the same kind is replaced, and only with 'w'
            check_destination(
                path, format="zarr", overwrite=self.mode == "w", store=self.store, exists=exists, how="use mode 'w'"
            )
        self._created = not exists
        if self.mode == "a":  # an append that was killed is rolled back (or its commit finished) first
            backend = ZarrBackend(self.store, where=self.where, allow_pickle=allow_pickle, nonfinite=nonfinite)
            backend.recover()
            self._backend = backend

    def _open_backend(self, *, for_write: bool) -> Backend:
        return ZarrBackend(self.store, where=self.where, allow_pickle=self.allow_pickle, nonfinite=self.nonfinite)

    def _discard_partial(self) -> None:
        """Nothing: the Zarr backend undoes a failed attempt itself, under its lock (``ZarrBackend._undo``)."""

    def _write_tree(self, backend: Backend, tree: Group, *, append: bool, grow: list[Growth]) -> None:
        """Also grow the stored columns of tables that got rows (``add_trial`` in mode 'a'), in one commit."""
        if not grow:
            backend.write_tree(tree, append=append, progress=self.progress)
            return
        assert isinstance(backend, ZarrBackend)
        stored: list[tuple[Any, ZarrLazyArray, Any]] = []
        for part, data, rows in grow:
            if not isinstance(data, ZarrLazyArray):
                raise NWBZarrError(f"{part._label}: its rows are not stored in this store")
            stored.append((part, data, rows))
        backend.write_tree(tree, append=append, progress=self.progress, grow={d.path: r for _, d, r in stored})
        for part, data, _ in stored:  # the objects in memory see their new length; nothing is pending any more
            data.rebind(backend.grown[data.path])
            part.__dict__["_pending"] = []

    def append_frames(self, series: TimeSeries, frames: Any, *, timestamps: Any = None, resume: bool = False) -> None:
        """Add frames (array-like or :class:`~nwbzarr.writing.streams.FrameStream`) to a stored series, in mode 'a'.

        ``series`` comes from this IO's ``read()``. A series timed by ``timestamps`` needs one new
        timestamp per new frame. Readers see all the new frames or none (the metadata is replaced last).
        An append that was interrupted (killed, a dropped connection) continues with ``resume=True`` and
        the same frames: the shards it stored are not sent again; other frames or timestamps are refused
        (:class:`~nwbzarr.errors.ResumeRefusedError`), and an append that committed already is not repeated.
        """
        if self.mode != "a":
            raise ReadOnlyError(f"{self}: append_frames needs mode 'a'")
        data = series.__dict__.get("data")
        if not isinstance(data, ZarrLazyArray):
            raise NWBZarrError(f"{series._label}: append_frames takes a series read from this store")
        appends: dict[str, Any] = {data.path: frames}
        stamps = series.__dict__.get("timestamps")
        if stamps is not None:
            if timestamps is None:
                raise ValidationError(f"{series._label}: is timed by timestamps; pass timestamps= for the new frames")
            if not isinstance(stamps, ZarrLazyArray):
                raise NWBZarrError(f"{series._label}: its timestamps are not stored in this file")
            count = frames.n_frames if isinstance(frames, FrameStream) else len(frames)
            if count is None or len(timestamps) != count:
                raise ValidationError(f"{series._label}: {len(timestamps)} timestamps for {count} new frames")
            appends[stamps.path] = np.asarray(timestamps, dtype=np.float64)
        elif timestamps is not None:
            raise ValidationError(f"{series._label}: is timed by rate; timestamps= does not apply")
        backend = self._backend or self._open_backend(for_write=True)
        self._backend = backend
        assert isinstance(backend, ZarrBackend)
        plan = frames_plan(data.path, data.shape[0], frames, appends.get(stamps.path) if stamps is not None else None)
        grown = backend.append_rows(appends, progress=self.progress, plan=plan, resume=resume)
        data.rebind(grown[data.path])  # the series in memory sees its new length
        if isinstance(stamps, ZarrLazyArray):
            stamps.rebind(grown[stamps.path])

    def __repr__(self) -> str:
        return f"NWBZarrIO({self.where!r}, mode={self.mode!r})"

    __str__ = __repr__


del os
