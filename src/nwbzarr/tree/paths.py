"""Node paths inside one NWB file: absolute, '/'-separated, no '.' or '..' parts."""

from __future__ import annotations

from nwbzarr.errors import InvalidNameError

__all__ = ["check_name", "join", "parent_and_name", "split"]


def check_name(name: object, what: str = "object") -> str:
    """Return ``name`` if it can be a node name; raise :class:`InvalidNameError` naming ``what``."""
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"{what}: name must be a non-empty string, got {name!r}")
    if "/" in name or name in (".", ".."):
        raise InvalidNameError(f"{what}: name {name!r} cannot contain '/' or be '.' or '..'")
    return name


def split(path: str) -> list[str]:
    """``'/a/b'`` -> ``['a', 'b']``; ``'/'`` -> ``[]``. Rejects parts that would climb out."""
    parts = [p for p in path.split("/") if p]
    for part in parts:
        if part in (".", ".."):
            raise InvalidNameError(f"path {path!r} contains {part!r}")
    return parts


def join(*parts: str) -> str:
    """Join parts into an absolute path: ``join('/a', 'b/c')`` -> ``'/a/b/c'``."""
    out: list[str] = []
    for part in parts:
        out.extend(split(part))
    return "/" + "/".join(out)


def parent_and_name(path: str) -> tuple[str, str]:
    parts = split(path)
    if not parts:
        raise InvalidNameError("the root has no parent")
    return "/" + "/".join(parts[:-1]), parts[-1]
