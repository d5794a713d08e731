"""A temporary file that zarr's LocalStore left when its writer was killed is no object of the store.

zarr writes a value to ``<name>.<uuid hex>.partial`` and renames it into place; SIGKILL between the two
leaves the temporary file. Listed, it was read as a journal entry by the next writer's rollback (not valid
JSON: the resume failed). The store's listings hide it; every real key stays listed.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from nwbzarr.storage.local import SafeLocalStore, is_unfinished_write


def _listed(store: SafeLocalStore) -> tuple[set[str], set[str], set[str]]:
    async def lists() -> tuple[set[str], set[str], set[str]]:
        every = {key async for key in store.list()}
        under = {key async for key in store.list_prefix("nwbzarr.journal/")}
        names = {name async for name in store.list_dir("nwbzarr.journal")}
        return every, under, names

    return sync(lists())


def test_a_killed_writers_temporary_file_is_not_listed(tmp_path: Path) -> None:
    store = SafeLocalStore(tmp_path)
    entry = "nwbzarr.journal/46b61ad5.json"
    sync(store.set(entry, default_buffer_prototype().buffer.from_bytes(b'{"key": "zarr.json", "old": null}')))
    unfinished = tmp_path / "nwbzarr.journal" / f"46b61ad6.{uuid.uuid4().hex}.partial"
    unfinished.write_bytes(b"")  # killed before a byte was written
    every, under, names = _listed(store)
    assert every == {entry} and under == {entry} and names == {"46b61ad5.json"}


def test_only_zarrs_temporary_names_are_hidden() -> None:
    assert is_unfinished_write(f"c/0/0.{uuid.uuid4().hex}.partial")
    assert is_unfinished_write(f"zarr.{uuid.uuid4().hex}.partial")
    for key in ["c/0/0", "zarr.json", "notes.partial", "a.partial/zarr.json", f"x.{uuid.uuid4().hex}.partial.json"]:
        assert not is_unfinished_write(key), key
