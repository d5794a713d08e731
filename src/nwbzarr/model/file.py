"""NWBFile, the root of every file, and ProcessingModule."""

from __future__ import annotations

from dataclasses import KW_ONLY
from datetime import datetime
from typing import Any, TypeVar

from nwbzarr.model.base import Children, Container, NWBContainer, NWBDataInterface, neurodata_type
from nwbzarr.model.device import Device, Subject
from nwbzarr.model.ophys import ImagingPlane, OpticalChannel
from nwbzarr.model.spec import attribute, child, children, dataset
from nwbzarr.model.table import DynamicTable
from nwbzarr.model.timeseries import TimeSeries

__all__ = ["NWB_VERSION", "NWBFile", "ProcessingModule"]

#: the NWB core schema version this model follows and writes
NWB_VERSION = "2.11.0"

C = TypeVar("C", bound=Container)
_TEXT_LIST = (("num_items",),)


@neurodata_type("core")
class ProcessingModule(NWBContainer):
    """Processed data of one kind (``ophys``, ``behavior``...)."""

    description: str = attribute()
    data_interfaces: Children[NWBDataInterface | DynamicTable] = children(default_factory=Children)

    def add(self, container: C) -> C:
        """Add a data interface or table (``ophys_module.add(motion_correction)``)."""
        return self._add_child("data_interfaces", container)

    add_data_interface = add

    def get(self, name: str) -> NWBDataInterface | DynamicTable:
        """The data interface or table named ``name``."""
        return self.data_interfaces[name]

    def __getitem__(self, name: str) -> NWBDataInterface | DynamicTable:
        return self.data_interfaces[name]

    def __contains__(self, name: str) -> bool:
        return name in self.data_interfaces


@neurodata_type("core")
class NWBFile(NWBContainer):
    """The root of an NWB file: session metadata and everything recorded or derived in it."""

    session_description: str = dataset(dtype="text", kw_only=False)
    identifier: str = dataset(dtype="text", kw_only=False)
    session_start_time: datetime = dataset(dtype="isodatetime", kw_only=False)
    _: KW_ONLY
    name: str = "root"
    timestamps_reference_time: datetime = dataset(dtype="isodatetime", default=None)
    file_create_date: tuple[datetime, ...] = dataset(dtype="isodatetime", dims=(("num_modifications",),), default=None)
    experimenter: tuple[str, ...] | None = dataset(
        path="general/experimenter", dtype="text", dims=_TEXT_LIST, default=None
    )
    experiment_description: str | None = dataset(path="general/experiment_description", dtype="text", default=None)
    session_id: str | None = dataset(path="general/session_id", dtype="text", default=None)
    institution: str | None = dataset(path="general/institution", dtype="text", default=None)
    lab: str | None = dataset(path="general/lab", dtype="text", default=None)
    keywords: tuple[str, ...] | None = dataset(path="general/keywords", dtype="text", dims=_TEXT_LIST, default=None)
    notes: str | None = dataset(path="general/notes", dtype="text", default=None)
    pharmacology: str | None = dataset(path="general/pharmacology", dtype="text", default=None)
    protocol: str | None = dataset(path="general/protocol", dtype="text", default=None)
    related_publications: tuple[str, ...] | None = dataset(
        path="general/related_publications", dtype="text", dims=_TEXT_LIST, default=None
    )
    slices: str | None = dataset(path="general/slices", dtype="text", default=None)
    source_script: str | None = dataset(path="general/source_script", dtype="text", default=None)
    source_script_file_name: str | None = attribute(on="general/source_script", name="file_name", default=None)
    data_collection: str | None = dataset(path="general/data_collection", dtype="text", default=None)
    surgery: str | None = dataset(path="general/surgery", dtype="text", default=None)
    virus: str | None = dataset(path="general/virus", dtype="text", default=None)
    stimulus_notes: str | None = dataset(path="general/stimulus", dtype="text", default=None)
    subject: Subject | None = child(path="general/subject", default=None)
    devices: Children[Device] = children(path="general/devices", default_factory=Children)
    imaging_planes: Children[ImagingPlane] = children(path="general/optophysiology", default_factory=Children)
    acquisition: Children[NWBDataInterface | DynamicTable] = children(
        path="acquisition", default_factory=Children, required=True
    )
    analysis: Children[NWBContainer | DynamicTable] = children(path="analysis", default_factory=Children, required=True)
    processing: Children[ProcessingModule] = children(path="processing", default_factory=Children, required=True)
    stimulus: Children[TimeSeries | NWBDataInterface | DynamicTable] = children(
        path="stimulus/presentation", default_factory=Children, required=True
    )
    stimulus_template: Children[TimeSeries] = children(
        path="stimulus/templates", default_factory=Children, required=True
    )
    scratch: Children[NWBContainer | DynamicTable] = children(path="scratch", default_factory=Children)

    def _validate(self) -> None:
        super()._validate()
        if self.name != "root":
            raise self._fail("name", f"an NWBFile is always named 'root', got {self.name!r}")
        if self.__dict__.get("timestamps_reference_time") is None:  # defaults to the session start
            self.timestamps_reference_time = self.session_start_time
        if self.__dict__.get("file_create_date") is None:
            self.file_create_date = (datetime.now().astimezone(),)
        if self.source_script is not None and self.source_script_file_name is None:
            raise self._fail("source_script_file_name", "is required with source_script")

    # --- PyNWB's builders -------------------------------------------------------------------
    def create_device(self, name: str, **kwargs: Any) -> Device:
        """Create and add a Device (PyNWB's builder)."""
        return self.add_device(Device(name=name, **kwargs))

    def add_device(self, device: Device) -> Device:
        """Add a Device under ``/general/devices``."""
        return self._add_child("devices", device)

    def create_imaging_plane(
        self, name: str, optical_channel: OpticalChannel | list[OpticalChannel], **kwargs: Any
    ) -> ImagingPlane:
        """Create and add an ImagingPlane (PyNWB's builder)."""
        return self.add_imaging_plane(ImagingPlane(name=name, optical_channel=optical_channel, **kwargs))  # type: ignore[arg-type]

    def add_imaging_plane(self, imaging_plane: ImagingPlane) -> ImagingPlane:
        """Add an ImagingPlane under ``/general/optophysiology``."""
        return self._add_child("imaging_planes", imaging_plane)

    def add_acquisition(self, data: C) -> C:
        """Add raw acquired data (a series or table) under ``/acquisition``."""
        return self._add_child("acquisition", data)

    def add_analysis(self, data: C) -> C:
        """Add an analysis result under ``/analysis``."""
        return self._add_child("analysis", data)

    def add_stimulus(self, data: C) -> C:
        """Add a presented stimulus under ``/stimulus/presentation``."""
        return self._add_child("stimulus", data)

    def add_stimulus_template(self, data: C) -> C:
        """Add a stimulus template under ``/stimulus/templates``."""
        return self._add_child("stimulus_template", data)

    def add_scratch(self, data: C) -> C:
        """Add a temporary result under ``/scratch``."""
        return self._add_child("scratch", data)

    def create_processing_module(self, name: str, description: str) -> ProcessingModule:
        """Create and add a ProcessingModule (PyNWB's builder)."""
        return self.add_processing_module(ProcessingModule(name=name, description=description))

    def add_processing_module(self, module: ProcessingModule) -> ProcessingModule:
        """Add a ProcessingModule under ``/processing``."""
        return self._add_child("processing", module)

    def get_acquisition(self, name: str) -> NWBDataInterface | DynamicTable:
        """The acquisition object named ``name``."""
        return self.acquisition[name]

    def get_processing_module(self, name: str) -> ProcessingModule:
        """The processing module named ``name``."""
        return self.processing[name]

    @property
    def modules(self) -> Children[ProcessingModule]:
        """The processing modules (PyNWB's alias of ``processing``)."""
        return self.processing

    def all_children(self) -> list[Container]:
        """Every object owned by the file, depth first."""
        out: list[Container] = []
        stack: list[Container] = [self]
        while stack:
            item = stack.pop()
            out.append(item)
            stack.extend(reversed(list(item.children())))
        return out
