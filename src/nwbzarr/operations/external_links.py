"""What a conversion does with data outside the source: external links and HDF5 foreign storage.

External links name another file relative to the one that holds them (HDF5: the file's folder; Zarr:
the store's root), so a copy elsewhere breaks them unless they are rewritten. ``convert`` offers three
modes: ``"keep"`` (the default, as hdmf-zarr's export keeps such files readable) rewrites each relative
target so that it resolves from the destination and says so; ``"copy"`` brings the linked object into
the destination (the copy no longer needs the other file); ``"refuse"`` names each link and stops.

HDF5 datasets whose bytes live in raw external files (``dset.external``) or that map other files
(virtual datasets) are refused unless the user allows it: the copy would silently read other files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nwbzarr.errors import InvalidStoreError, NWBZarrError
from nwbzarr.tree.nodes import Dataset, Group, Link, walk
from nwbzarr.tree.paths import split

__all__ = ["ExternalLinks", "LinkResolver", "refuse_foreign_storage"]

ExternalLinks = Literal["keep", "copy", "refuse"]

#: a linked object copied from another file may itself link further; this many hops, then an error
_MAX_DEPTH = 8


def refuse_foreign_storage(tree: Group, source: str) -> None:
    """Raise naming every dataset whose data is stored outside ``source`` (external raw files, virtual)."""
    found = [
        f"{path} ({where})"
        for path, node in walk(tree)
        if isinstance(node, Dataset) and (where := getattr(node.data, "foreign_storage", None))
    ]
    if found:
        raise InvalidStoreError(
            f"{source}: {len(found)} dataset(s) keep their data outside the file: {'; '.join(found[:10])}; "
            "pass allow_external_data=True (--allow-external-data) to read it and copy it into the destination"
        )


def _local(target: Any) -> Path | None:
    if isinstance(target, (str, os.PathLike)) and "://" not in os.fspath(target):
        return Path(target).resolve()
    return None


def _base(location: Path, fmt: str) -> Path:
    """The folder a relative link target is resolved from: an HDF5 file's folder, a Zarr store's root."""
    return location.parent if fmt == "hdf5" else location


@dataclass
class LinkResolver:
    """Applies one external-link mode to a tree read from ``src`` that is to be written to ``dst``."""

    mode: ExternalLinks
    src: Any
    src_format: str
    dst: Any
    dst_format: str
    explain: Callable[[str], None] | None = None
    opened: list[Any] = field(default_factory=list)  # backends of copied objects: closed after the write

    def apply(self, tree: Group) -> None:
        if self.mode not in ("keep", "copy", "refuse"):
            raise NWBZarrError(f"external_links must be 'keep', 'copy' or 'refuse', got {self.mode!r}")
        src = _local(self.src)
        links = _external_links(tree)
        if not links:
            return
        if self.mode == "refuse":
            named = "; ".join(f"{path} -> {link.source}:{link.path}" for path, _, link in links[:20])
            raise InvalidStoreError(
                f"{self.src}: {len(links)} external link(s): {named}; pass external_links='keep' or 'copy' "
                "(--external-links keep|copy) to convert it"
            )
        base = _base(src, self.src_format) if src is not None else None
        self._resolve(links, base, self.src_format, depth=0)

    def _resolve(self, links: list[tuple[str, Group, Link]], base: Path | None, fmt: str, depth: int) -> None:
        for path, parent, link in links:
            name = split(path)[-1]
            if self.mode == "copy":
                parent.members[name] = self._copied(path, link, base, depth)
            else:
                parent.members[name] = self._kept(path, link, base)

    def _kept(self, path: str, link: Link, base: Path | None) -> Link:
        dst = _local(self.dst)
        if base is None or dst is None or Path(link.source).is_absolute():
            self._say(f"{path}: external link to {link.source}:{link.path} kept as it is")
            return link
        target = (base / link.source).resolve()
        rewritten = os.path.relpath(target, _base(dst, self.dst_format))
        if rewritten != link.source:
            self._say(
                f"{path}: external link to {link.source}:{link.path} now names {rewritten}, "
                f"so that it still resolves to {target} from {dst}"
            )
        return Link(path=link.path, source=rewritten)

    def _copied(self, path: str, link: Link, base: Path | None, depth: int) -> Group | Dataset:
        from nwbzarr.backends.open import detect_format, open_backend

        if depth >= _MAX_DEPTH:
            raise InvalidStoreError(f"{path}: more than {_MAX_DEPTH} external links in a row")
        target: Any = (base / link.source) if base is not None and not Path(link.source).is_absolute() else link.source
        try:
            fmt = detect_format(target)
            backend = open_backend(target, mode="r", format=fmt)
        except (NWBZarrError, OSError) as exc:
            raise InvalidStoreError(f"{path}: cannot open the target of its external link, {target}: {exc}") from exc
        self.opened.append(backend)
        other = backend.read_tree()
        node = _follow(other, link.path, path)
        self._say(f"{path}: copied {link.path} from {target} (its external link)")
        inner = [entry for entry in _external_links(node)] if isinstance(node, Group) else []
        if inner:
            self._resolve(inner, _base(Path(target).resolve(), fmt), fmt, depth + 1)
        return node

    def _say(self, text: str) -> None:
        if self.explain is not None:
            self.explain(text)

    def close(self) -> None:
        for backend in self.opened:
            backend.close()
        self.opened.clear()


def _external_links(tree: Group) -> list[tuple[str, Group, Link]]:
    out = []
    for path, node in walk(tree):
        if isinstance(node, Group):
            for name, member in node.members.items():
                if isinstance(member, Link) and member.source not in (".", ""):
                    out.append((f"{path.rstrip('/')}/{name}", node, member))
    return out


def _follow(tree: Group, target: str, where: str) -> Group | Dataset:
    """The node at ``target`` in another file, through its soft links."""
    seen: set[str] = set()
    while True:
        node = tree.get(target)
        if isinstance(node, (Group, Dataset)):
            return node
        if not isinstance(node, Link) or node.source not in (".", "") or target in seen:
            raise InvalidStoreError(f"{where}: its external link names {target!r}, which the other file lacks")
        seen.add(target)
        target = node.path
