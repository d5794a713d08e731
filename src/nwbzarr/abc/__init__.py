"""Contracts that backends implement; no implementation lives here."""

from nwbzarr.abc.array import LazyArray
from nwbzarr.abc.backend import Backend, Capabilities

__all__ = ["Backend", "Capabilities", "LazyArray"]
