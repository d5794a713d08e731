"""Fixtures every HDF5 test shares: no garbage collection inside a test, and the index cache in tmp_path."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from nwbzarr.backends.hdf5 import index_cache


@pytest.fixture(autouse=True)
def no_collection_in_server_threads() -> Iterator[None]:
    """The test servers run in this process. A garbage collection in one of their threads that frees h5py
    objects waits for h5py's lock, which a read waiting on that server holds: collect only between tests."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()
    gc.collect()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path) -> Iterator[Path]:
    """Every test starts with an empty disk cache inside its tmp_path (never the user's cache folder)."""
    before = index_cache.settings()
    yield index_cache.configure(location=tmp_path / "cache", enabled=True).location
    index_cache.configure(location=before.location, enabled=before.enabled, max_bytes=before.max_bytes)
