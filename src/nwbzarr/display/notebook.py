"""The notebook hook: every container gains ``_repr_html_`` here, so the model never imports the views.

The package root installs it once (``nwbzarr/__init__.py``); the arrow runs from the views to the model
only. Rendering imports :mod:`nwbzarr.display.html` on first use.
"""

from __future__ import annotations

from nwbzarr.model.base import Container

__all__ = ["install_html_view"]


def _repr_html_(self: Container) -> str:
    """A collapsible tree for notebooks; reads no array data."""
    from nwbzarr.display.html import to_html

    return to_html(self)


def install_html_view() -> None:
    """Give every container (typed or generic) a notebook view; calling it again changes nothing."""
    type.__setattr__(Container, "_repr_html_", _repr_html_)
