"""PyNWB's ``pynwb.file`` import path: ``from nwbzarr.file import NWBFile, Subject, LabMetaData``."""

from nwbzarr.model.device import Subject
from nwbzarr.model.file import LabMetaData, NWBFile, ProcessingModule

__all__ = ["LabMetaData", "NWBFile", "ProcessingModule", "Subject"]
