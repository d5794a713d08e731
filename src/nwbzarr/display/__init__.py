"""Views of NWB objects for people, built from lazy reads only.

``to_html`` renders any container as a collapsible tree for notebooks (``_repr_html_``) without reading
data; :mod:`~nwbzarr.display.budget`, :mod:`~nwbzarr.display.masks` and :mod:`~nwbzarr.display.reads`
serve ``nwbzarr plot`` (reads priced in chunks, ROI outlines, what a session summary shows).
"""

from nwbzarr.display.arrays import ArrayInfo, array_info
from nwbzarr.display.html import storage_path, to_html

__all__ = ["ArrayInfo", "array_info", "storage_path", "to_html"]
