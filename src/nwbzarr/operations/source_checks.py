"""What a conversion refuses to copy unless asked: sources that are no NWB file.

A file without an NWBFile root (``neurodata_type`` and ``nwb_version`` on ``/``) would convert into a
store that PyNWB cannot open; ``convert(..., raw=True)`` copies such a file as it is.
"""

from __future__ import annotations

from typing import Any

from nwbzarr.errors import InvalidStoreError
from nwbzarr.storage import StoreLike
from nwbzarr.tree.nodes import Group

__all__ = ["require_nwb_root", "source_format"]


def source_format(src: StoreLike, storage_options: dict[str, Any] | None) -> str:
    """The format of an existing source (where its relative external links are resolved from)."""
    from nwbzarr.backends.open import detect_format

    return detect_format(src, sniff=True, storage_options=storage_options)


def require_nwb_root(tree: Group, source: str) -> None:
    """Raise unless ``tree`` is an NWB file: its root says ``neurodata_type: NWBFile`` and an ``nwb_version``."""
    kind, version = tree.attrs.get("neurodata_type"), tree.attrs.get("nwb_version")
    if kind == "NWBFile" and version:
        return
    found = f"neurodata_type={kind!r}, nwb_version={version!r}" if kind or version else "no NWB attributes"
    raise InvalidStoreError(
        f"{source}: not an NWB file: its root group has {found} (an NWB file's root has neurodata_type "
        "'NWBFile' and an nwb_version); pass raw=True (--raw) to copy it as it is"
    )
