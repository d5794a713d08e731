"""A chunked dataset's v1 chunk B-tree read by nwbzarr itself: a chunk's address in one request, not a walk.

HDF5 1.14's ``get_chunk_info_by_coord`` visits the B-tree's leaves from the left until it meets the chunk
(traced on a PyNWB gzip file of 600 frame chunks: frame 300 took 7 node reads, 5 of them requests to
leaves 12 MB apart), and ``chunk_iter`` reads every leaf one request after another. The tree's root is
next to the dataset's object header, in the metadata block fetched at open, so here a lookup descends
from the root to the one leaf it needs (one request), and a whole index reads each level's nodes all at
once (one round trip a level). Files this does not parse (layout message version 4: the indexes of
``libver="latest"``) return ``None`` and the caller uses h5py.

Format: HDF5 File Format Specification 3.0, sections III.A.1 (v1 B-trees), IV.A (object headers) and
IV.A.2.i (data layout message).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from nwbzarr.errors import InvalidStoreError

__all__ = ["ChunkTree", "Entry", "Node", "chunk_tree_root", "istore_k", "node_bytes", "parse_node"]

#: ``read(offset, nbytes)``: bytes of the file (from cached metadata blocks where they are held)
Read = Callable[[int, int], bytes]
#: ``read_many([(offset, nbytes), ...])``: those ranges, fetched together (one round trip)
ReadMany = Callable[[list[tuple[int, int]]], list[bytes]]

_LAYOUT = 0x0008
_CONTINUATION = 0x0010
_UNDEFINED = 0xFFFFFFFFFFFFFFFF


def _uint(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "little")


def _messages_v1(read: Read, addr: int, sa: int, ss: int) -> Iterable[tuple[int, bytes]]:
    head = read(addr, 16)
    size = _uint(head, 8, 4)
    blocks = [(addr + 16, size)]
    while blocks:
        start, length = blocks.pop(0)
        data = read(start, length)
        pos = 0
        while pos + 8 <= len(data):
            kind, nbytes = struct.unpack_from("<HH", data, pos)
            body = data[pos + 8 : pos + 8 + nbytes]
            if kind == _CONTINUATION:
                blocks.append((_uint(body, 0, sa), _uint(body, sa, ss)))
            yield kind, body
            pos += 8 + nbytes


def _messages_v2(read: Read, addr: int, sa: int, ss: int) -> Iterable[tuple[int, bytes]]:
    head = read(addr, 32)
    flags = head[5]
    pos = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
    width = 1 << (flags & 0x03)
    chunk0 = _uint(head, pos, width)
    order = 2 if flags & 0x04 else 0
    blocks = [(addr + pos + width, chunk0)]
    first = True
    while blocks:
        start, length = blocks.pop(0)
        data = read(start, length)
        if not first:
            if data[:4] != b"OCHK":
                raise InvalidStoreError(f"object header at {addr}: continuation block at {start} has no OCHK")
            data = data[4:-4]
        first = False
        pos = 0
        while pos + 4 + order <= len(data):
            kind, nbytes = data[pos], _uint(data, pos + 1, 2)
            body = data[pos + 4 + order : pos + 4 + order + nbytes]
            if kind == _CONTINUATION:
                blocks.append((_uint(body, 0, sa), _uint(body, sa, ss)))
            yield kind, body
            pos += 4 + order + nbytes


def chunk_tree_root(read: Read, header: int, sizeof_addr: int = 8, sizeof_size: int = 8) -> tuple[int, int] | None:
    """``(root address, rank)`` of the v1 chunk B-tree of the dataset whose object header is at ``header``;
    ``None`` for any other layout (contiguous, compact, version 4 chunk indexes)."""
    start = read(header, 4)
    messages = _messages_v2 if start == b"OHDR" else _messages_v1 if start[:1] == b"\x01" else None
    if messages is None:
        return None
    for kind, body in messages(read, header, sizeof_addr, sizeof_size):
        if kind == _LAYOUT:
            if len(body) < 3 + sizeof_addr or body[0] != 3 or body[1] != 2:
                return None
            root = _uint(body, 3, sizeof_addr)
            return None if root == _UNDEFINED else (root, body[2] - 1)  # undefined: no chunk written yet
    return None


@dataclass(frozen=True)
class Entry:
    """A key and its child: at level 0 a chunk (``child`` = its address), above it a node."""

    offset: tuple[int, ...]  # element offset of the chunk (the key's first chunk, above level 0)
    size: int
    mask: int
    child: int


@dataclass(frozen=True)
class Node:
    level: int
    entries: list[Entry]
    last: tuple[int, ...]  # the key after the last entry: an upper bound of the node's chunks


def node_bytes(rank: int, k: int, sizeof_addr: int = 8) -> int:
    """The size of a full chunk B-tree node (``k``: the file's ``istore_k``; a node holds up to 2k entries)."""
    key = 8 + (rank + 1) * 8
    return 8 + 2 * sizeof_addr + 2 * k * sizeof_addr + (2 * k + 1) * key


def istore_k(superblock: bytes) -> int:
    """The file's chunk B-tree ``K`` (stored in version 1 superblocks only; others use HDF5's default 32)."""
    return _uint(superblock, 24, 2) if superblock[8] == 1 else 32


def _node_length(data: bytes, rank: int, sizeof_addr: int) -> int:
    key = 8 + (rank + 1) * 8
    used = _uint(data, 6, 2) if len(data) >= 8 else 0
    return 8 + 2 * sizeof_addr + used * (key + sizeof_addr) + key


def parse_node(data: bytes, rank: int, sizeof_addr: int = 8, where: str = "") -> Node:
    """One chunk B-tree node (signature ``TREE``, node type 1)."""
    if data[:4] != b"TREE" or data[4] != 1:
        raise InvalidStoreError(f"{where}: not a chunk B-tree node (it starts with {data[:5]!r})")
    level, used = data[5], _uint(data, 6, 2)
    pos = 8 + 2 * sizeof_addr
    key = 8 + (rank + 1) * 8

    def read_key(at: int) -> tuple[int, int, tuple[int, ...]]:
        size, mask = struct.unpack_from("<II", data, at)
        return size, mask, struct.unpack_from(f"<{rank}Q", data, at + 8)

    entries = []
    for _ in range(used):
        size, mask, offset = read_key(pos)
        entries.append(Entry(offset, size, mask, _uint(data, pos + key, sizeof_addr)))
        pos += key + sizeof_addr
    if len(data) < pos + key:
        raise InvalidStoreError(f"{where}: chunk B-tree node cut short ({len(data)} bytes, {used} entries)")
    return Node(level, entries, read_key(pos)[2])


@dataclass
class ChunkTree:
    """Lookups in one dataset's chunk B-tree; nodes read once are remembered (thread-safe enough: a node
    read twice by two threads is the same bytes)."""

    root: int
    rank: int
    node_size: int
    read_many: ReadMany
    sizeof_addr: int = 8
    name: str = ""
    _nodes: dict[int, Node] = field(default_factory=dict)

    def _load(self, addresses: list[int]) -> list[Node]:
        missing = sorted({a for a in addresses if a not in self._nodes})
        if missing:
            datas = self.read_many([(a, self.node_size) for a in missing])
            for a, data in zip(missing, datas, strict=True):
                need = _node_length(data, self.rank, self.sizeof_addr)
                # a file with a larger istore_k than assumed: read the node whole
                whole = data if len(data) >= need else self.read_many([(a, need)])[0]
                self._nodes[a] = parse_node(whole, self.rank, self.sizeof_addr, f"{self.name}: node at {a}")
        return [self._nodes[a] for a in addresses]

    def find(self, offsets: Iterable[tuple[int, ...]]) -> dict[tuple[int, ...], Entry]:
        """The stored chunks among ``offsets`` (element offsets of chunks): each level's nodes on the way
        fetched together. Offsets absent from the result are not stored (they read as the fill value)."""
        wanted = sorted(set(offsets))
        found: dict[tuple[int, ...], Entry] = {}
        frontier = [(self.root, wanted)]
        while frontier:
            nodes = self._load([a for a, _ in frontier])
            following: list[tuple[int, list[tuple[int, ...]]]] = []
            for node, (_, targets) in zip(nodes, frontier, strict=True):
                if node.level == 0:
                    stored = {e.offset: e for e in node.entries}
                    found.update((t, stored[t]) for t in targets if t in stored)
                    continue
                bounds = [e.offset for e in node.entries[1:]] + [None]
                for entry, bound in zip(node.entries, bounds, strict=True):
                    mine = [t for t in targets if entry.offset <= t and (bound is None or t < bound)]
                    if mine:
                        following.append((entry.child, mine))
            frontier = following
        return found

    def all(self) -> list[Entry]:
        """Every stored chunk: the tree read level by level, each level's nodes in one round trip."""
        out: list[Entry] = []
        frontier = [self.root]
        while frontier:
            following: list[int] = []
            for node in self._load(frontier):
                if node.level == 0:
                    out.extend(node.entries)
                else:
                    following.extend(e.child for e in node.entries)
            frontier = following
        return out
