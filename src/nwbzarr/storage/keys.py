"""One check for every key that comes from inside a store (journal, manifest, links, references, lock).

A store received from someone else is untrusted input: a key that is absolute, climbs with ``..`` or
holds a NUL byte could make a reader or a recovering writer touch files outside the store. Every
reader and writer of such keys calls :func:`check_store_key` before using one.
"""

from __future__ import annotations

from nwbzarr.errors import InvalidStoreError

__all__ = ["MAX_KEY_BYTES", "MAX_PART_BYTES", "check_node_name", "check_node_path", "check_store_key"]

#: longest name of one path part (the common filesystem limit)
MAX_PART_BYTES = 255
#: longest whole key; deeper or longer keys are not something nwbzarr writes
MAX_KEY_BYTES = 4096


def _problem(key: str) -> str | None:
    """Why ``key`` is not a safe store-relative path, or None."""
    if not key:
        return "is empty"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        return "contains a NUL or control character"
    if "\\" in key:
        return "contains a backslash"
    if key.startswith("/"):
        return "is an absolute path"
    if len(key) > 2 and key[1] == ":" and key[0].isalpha():
        return "is an absolute (drive) path"
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if size > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    for part in key.split("/"):
        if part == "":
            return "has an empty part"
        if part in (".", ".."):
            return f"has a {part!r} part"
        if len(part.encode("utf-8")) > MAX_PART_BYTES:
            return f"has a part longer than {MAX_PART_BYTES} bytes"
    return None


def check_store_key(key: str, *, what: str) -> str:
    """``key`` unchanged if it is a safe store-relative path; else InvalidStoreError naming ``what`` and it."""
    if not isinstance(key, str):
        raise InvalidStoreError(f"{what}: the key {key!r} is not a string")
    problem = _problem(key)
    if problem is not None:
        shown = key if len(key) <= 200 else key[:200] + "..."
        raise InvalidStoreError(f"{what}: the key {shown!r} {problem}; a store key is a relative path inside it")
    return key


def check_node_path(path: str, *, what: str) -> str:
    """``path`` unchanged if it is a node path of the file (``/a/b``, or ``/`` for the root); a link or
    reference target from a store is checked with this (the same rules as a store key, after the ``/``)."""
    if not isinstance(path, str):
        raise InvalidStoreError(f"{what}: the path {path!r} is not a string")
    if path != "/":
        check_store_key(path.removeprefix("/"), what=what)
    return path


def check_node_name(name: str, *, what: str) -> str:
    """``name`` unchanged if it is one node name (a store key of one part)."""
    check_store_key(name, what=what)
    if "/" in name:
        raise InvalidStoreError(f"{what}: the name {name!r} contains '/'")
    return name
