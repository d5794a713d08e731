"""Keys planted in a store (journal, manifest, links, references, lock, node names) cannot reach outside it.

Each case plants a bad key in a valid store and checks that opening, reading, appending or verifying
ends in an NWBZarrError, that a sentinel folder beside the store is unchanged byte for byte, and, for
recovery, that the store itself is unchanged too (every entry is checked before anything is done).
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwbzarr import NWBZarrIO
from nwbzarr.errors import InvalidStoreError, NWBZarrError, StoreLockedError
from nwbzarr.model import TimeSeries
from nwbzarr.operations.verify import verify
from nwbzarr.storage.keys import check_node_path, check_store_key
from nwbzarr.testing.tutorial import build_tutorial_file

OUTSIDE = "written-by-recovery.txt"


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-keys") / "valid.nwb.zarr"
    with NWBZarrIO(path, "w") as io:
        io.write(build_tutorial_file(frames=6, size=8))
    return path


@pytest.fixture
def store(valid: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store.nwb.zarr"
    shutil.copytree(valid, copy)
    (tmp_path / "sentinel").mkdir()
    (tmp_path / "sentinel" / "keep.txt").write_bytes(b"outside the store\n")
    return copy


def _sentinel(store: Path) -> Path:
    return store.parent / "sentinel"


def _refused(store: Path, action: Callable[[Path], Any], error: type[NWBZarrError] = NWBZarrError) -> str:
    outside = snapshot(_sentinel(store))
    with pytest.raises(error) as caught:
        action(store)
    assert snapshot(_sentinel(store)) == outside
    assert not (store.parent / OUTSIDE).exists()
    return str(caught.value)


def _append(path: Path) -> None:
    with NWBZarrIO(path, "a") as io:
        nwbfile = io.read()
        nwbfile.add_acquisition(TimeSeries(name="extra", data=np.arange(3.0), unit="V", rate=1.0))
        io.write(nwbfile)


def _read(path: Path) -> None:
    with NWBZarrIO(path, "r") as io:
        io.read()


def _interrupted(store: Path, entries: list[dict[str, Any]]) -> None:
    """Make the store look like an append that was killed, with these journal entries."""
    manifest = json.loads((store / "nwbzarr.json").read_text())
    manifest["state"] = "appending"
    (store / "nwbzarr.json").write_text(json.dumps(manifest))
    journal = store / "nwbzarr.journal"
    journal.mkdir()
    for i, entry in enumerate(entries):
        (journal / f"{i:040x}").write_text(json.dumps(entry))


def _bad_keys(store: Path) -> list[str]:
    return [
        str(_sentinel(store).parent / OUTSIDE),  # absolute
        f"../{OUTSIDE}",  # climbing
        f"acquisition/../../{OUTSIDE}",
        "acquisition/a\x00b/zarr.json",  # NUL
        "acquisition//zarr.json",  # empty part
        "nwbzarr.json",  # bookkeeping: the journal never restores the manifest or the lock
    ]


@pytest.mark.parametrize("which", range(6))
@pytest.mark.parametrize("action", [_append, _read], ids=["append", "read-then-recover"])
def test_a_bad_journal_key_stops_recovery_before_it_changes_anything(
    store: Path, which: int, action: Callable[[Path], None]
) -> None:
    key = _bad_keys(store)[which]
    good = {"key": "zarr.json", "old": (store / "zarr.json").read_text()}  # a valid entry beside it
    _interrupted(store, [good, {"key": key, "old": "written by recovery\n"}, good | {"key": "general/zarr.json"}])
    before = snapshot(store)

    def open_and_act(path: Path) -> None:
        action(path)
        _append(path)  # reading alone does not recover: the next writer does

    message = _refused(store, open_and_act, InvalidStoreError)
    assert "journal entry" in message
    assert snapshot(store) == before


def test_a_journal_entry_with_odd_content_is_refused(store: Path) -> None:
    _interrupted(store, [{"key": "zarr.json", "old": 5}])
    before = snapshot(store)
    _refused(store, _append, InvalidStoreError)
    assert snapshot(store) == before


def test_a_deeply_nested_journal_entry_is_refused(store: Path) -> None:
    _interrupted(store, [])
    (store / "nwbzarr.journal" / "deep").write_text("[" * 50_000 + "]" * 50_000)
    before = snapshot(store)
    assert "nested" in _refused(store, _append, InvalidStoreError)
    assert snapshot(store) == before


@pytest.mark.parametrize("key", ["/etc/passwd", "../sentinel/keep.txt", "a/../../x", "a\x00b"])
def test_a_bad_manifest_key_is_refused_by_read_and_verify(store: Path, key: str) -> None:
    manifest = json.loads((store / "nwbzarr.json").read_text())
    manifest["objects"][key] = [3, 0]
    (store / "nwbzarr.json").write_text(json.dumps(manifest))
    assert "manifest entry" in _refused(store, _read, InvalidStoreError)
    assert "manifest entry" in _refused(store, lambda path: verify(str(path)), InvalidStoreError)


def _consolidated(store: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((store / "zarr.json").read_text())
    return meta


def _save(store: Path, meta: dict[str, Any]) -> None:
    """Replace the root document, as another tool would (without nwbzarr's manifest, which would refuse it)."""
    (store / "zarr.json").write_text(json.dumps(meta))
    (store / "nwbzarr.json").unlink()


def _find(meta: dict[str, Any], attribute: str) -> dict[str, Any]:
    for node in meta["consolidated_metadata"]["metadata"].values():
        if attribute in json.dumps(node.get("attributes", {})):
            return dict(node["attributes"])
    raise AssertionError(f"no node with {attribute}")


@pytest.mark.parametrize("field", ["path", "name"])
@pytest.mark.parametrize("bad", ["/../../sentinel/keep.txt", "/a/\x00", "/a//b", "../x"])
def test_a_bad_link_is_refused(store: Path, field: str, bad: str) -> None:
    meta = _consolidated(store)
    for node in meta["consolidated_metadata"]["metadata"].values():
        links = node.get("attributes", {}).get("_LINKS")
        if links:
            links[0][field] = bad
            break
    else:
        raise AssertionError("the tutorial file has no link")
    _save(store, meta)
    assert "_LINKS" in _refused(store, _read, InvalidStoreError)


@pytest.mark.parametrize("bad", ["/../../sentinel/keep.txt", "/a\x00b", "", "/a/./b"])
def test_a_bad_reference_is_refused(store: Path, bad: str) -> None:
    meta = _consolidated(store)
    for node in meta["consolidated_metadata"]["metadata"].values():
        attrs = node.get("attributes", {})
        refs = [k for k, v in attrs.items() if isinstance(v, dict) and "_REFERENCE" in v]
        if refs:
            attrs[refs[0]]["_REFERENCE"]["path"] = bad
            break
    else:
        raise AssertionError("the tutorial file has no reference attribute")
    _save(store, meta)
    assert "reference target" in _refused(store, _read, InvalidStoreError)


def test_a_climbing_node_name_in_the_consolidated_metadata_is_refused(store: Path) -> None:
    meta = _consolidated(store)
    nodes = meta["consolidated_metadata"]["metadata"]
    nodes["acquisition/../../sentinel"] = {"zarr_format": 3, "node_type": "group", "attributes": {}}
    _save(store, meta)
    _refused(store, _read)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (json.dumps({"id": "x", "pid": 2**80, "host": socket.gethostname(), "since": "then"}), StoreLockedError),
        (json.dumps({"id": "x", "pid": "../../x", "host": "\x00"}), StoreLockedError),
        ("[" * 50_000 + "]" * 50_000, InvalidStoreError),  # refused when read, before it is parsed
    ],
    ids=["huge-pid", "odd-fields", "deep"],
)
def test_a_planted_lock_is_refused_without_a_raw_error(store: Path, content: str, error: type[NWBZarrError]) -> None:
    (store / "nwbzarr.lock").write_text(content)
    before = snapshot(store)
    _refused(store, _append, error)
    assert snapshot(store) == before


def test_check_store_key_rules() -> None:
    assert check_store_key("acquisition/ts/data/c/0/0", what="x") == "acquisition/ts/data/c/0/0"
    for key in ["", "/a", "../a", "a/..", "a/./b", "a//b", "a/", "a\x00b", "a\nb", "a\\b", "C:x/y", "x" * 300]:
        with pytest.raises(InvalidStoreError, match=r"journal entry 7: the key"):
            check_store_key(key, what="journal entry 7")
    with pytest.raises(InvalidStoreError, match="not a string"):
        check_store_key(5, what="journal entry 7")  # type: ignore[arg-type]
    assert check_node_path("/", what="link") == "/"
    assert check_node_path("/acquisition/ts", what="link") == "/acquisition/ts"
    with pytest.raises(InvalidStoreError):
        check_node_path("/acquisition/../..", what="link")
