"""The backend contract: a format reads a store into a tree and writes a tree into a store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nwbzarr.core.progress import Callback
    from nwbzarr.tree.nodes import Group

__all__ = ["Backend", "Capabilities"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Capabilities:
    """What a backend can do, so faces can refuse early with a clear message."""

    writable: bool
    appendable: bool
    remote: bool
    sharding: bool


class Backend(ABC):
    """One open file or store. Reads are lazy: array data stays in the store until sliced."""

    capabilities: Capabilities

    @abstractmethod
    def read_tree(self) -> Group:
        """The whole hierarchy with metadata; datasets carry lazy arrays."""

    @abstractmethod
    def write_tree(self, tree: Group, *, append: bool, progress: Callback) -> None:
        """Write ``tree``. With ``append``, nodes that exist already are left as they are."""

    @abstractmethod
    def discard(self) -> None:
        """Remove everything this backend wrote (after a failed write that created the file)."""

    @abstractmethod
    def close(self) -> None:
        """Release the file or store (lazy arrays stop working)."""
