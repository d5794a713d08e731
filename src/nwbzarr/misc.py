"""PyNWB's ``pynwb.misc`` import path: ``from nwbzarr.misc import Units, IntervalSeries, AnnotationSeries``."""

from nwbzarr.model.misc import AnnotationSeries, IntervalSeries
from nwbzarr.model.units import Units

__all__ = ["AnnotationSeries", "IntervalSeries", "Units"]
