"""NWBFile, the root of every file, and ProcessingModule."""

from __future__ import annotations

from dataclasses import KW_ONLY, InitVar
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from nwbzarr.errors import ContainerNotFoundError
from nwbzarr.model.base import Children, Container, NWBContainer, NWBDataInterface, neurodata_type
from nwbzarr.model.device import Device, Subject
from nwbzarr.model.images import Images
from nwbzarr.model.intervals import TimeIntervals
from nwbzarr.model.ophys import ImagingPlane, OpticalChannel
from nwbzarr.model.spec import Kind, attribute, child, children, dataset, members
from nwbzarr.model.table import DynamicTable, VectorData
from nwbzarr.model.timeseries import TimeSeries
from nwbzarr.model.units import Units

__all__ = ["NWB_VERSION", "LabMetaData", "NWBFile", "ProcessingModule"]

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
class LabMetaData(NWBContainer):
    """Lab-specific metadata under ``/general``; extensions derive from it."""


#: the TimeIntervals tables PyNWB names, and the description it gives a new one
_INTERVAL_TABLES = {
    "trials": "experimental trials",
    "epochs": "experimental epochs",
    "invalid_times": "time intervals to be removed from analysis",
}


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
    lab_meta_data: Children[LabMetaData] = children(path="general", default_factory=Children)
    devices: Children[Device] = children(path="general/devices", default_factory=Children)
    imaging_planes: Children[ImagingPlane] = children(path="general/optophysiology", default_factory=Children)
    #: the electrodes table (an ElectrodesTable, generic from the schema); Units ``electrodes`` select its rows
    electrodes: DynamicTable | None = child(path="general/extracellular_ephys/electrodes", default=None)
    #: the ElectrodeGroups (generic from the schema), as PyNWB's ``electrode_groups``
    electrode_groups: Children[NWBContainer] = children(path="general/extracellular_ephys", default_factory=Children)
    acquisition: Children[NWBDataInterface | DynamicTable] = children(
        path="acquisition", default_factory=Children, required=True
    )
    analysis: Children[NWBContainer | DynamicTable] = children(path="analysis", default_factory=Children, required=True)
    processing: Children[ProcessingModule] = children(path="processing", default_factory=Children, required=True)
    stimulus: Children[TimeSeries | NWBDataInterface | DynamicTable] = children(
        path="stimulus/presentation", default_factory=Children, required=True
    )
    stimulus_template: Children[TimeSeries | Images] = children(
        path="stimulus/templates", default_factory=Children, required=True
    )
    #: every TimeIntervals table (trials, epochs and invalid_times included, as PyNWB reads them)
    intervals: Children[TimeIntervals] = children(path="intervals", default_factory=Children)
    units: Units | None = child(default=None)
    scratch: Children[NWBContainer | DynamicTable] = children(path="scratch", default_factory=Children)
    if TYPE_CHECKING:  # for type checkers, properties (below, after the class); for the constructor, arguments
        trials: TimeIntervals | None = None
        epochs: TimeIntervals | None = None
        invalid_times: TimeIntervals | None = None
    else:
        #: PyNWB's constructor arguments: each goes to ``/intervals`` under its own name
        trials: InitVar[TimeIntervals | None] = None
        epochs: InitVar[TimeIntervals | None] = None
        invalid_times: InitVar[TimeIntervals | None] = None

    def __post_init__(  # type: ignore[override]  # the dataclass passes its InitVars
        self, trials: TimeIntervals | None, epochs: TimeIntervals | None, invalid_times: TimeIntervals | None
    ) -> None:
        super().__post_init__()
        for field_name, table in (("trials", trials), ("epochs", epochs), ("invalid_times", invalid_times)):
            if table is None:
                continue
            if not isinstance(table, TimeIntervals):
                raise self._fail(field_name, f"expected TimeIntervals, got {type(table).__name__}")
            if table.name != field_name:  # PyNWB's rule: the table is the one stored as /intervals/<field>
                raise self._fail(field_name, f"must be named {field_name!r}, got {table.name!r}")
            self.add_time_intervals(table)

    def __setattr__(self, key: str, value: Any) -> None:
        super().__setattr__(key, value)
        if key in ("subject", "units", "electrodes") and isinstance(value, Container) and value.parent is None:
            value.parent = self  # ``nwbfile.subject = Subject(...)`` puts it in the file, as in PyNWB

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

    # --- intervals, units, lab metadata ----------------------------------------------------------
    def _interval_table(self, name: str, create: bool) -> TimeIntervals | None:
        table = self.intervals.get(name)
        if table is None and create:
            table = self.add_time_intervals(TimeIntervals(name=name, description=_INTERVAL_TABLES[name]))
        return table

    def add_time_intervals(self, table: TimeIntervals) -> TimeIntervals:
        """Add a TimeIntervals table under ``/intervals``."""
        return self._add_child("intervals", table)

    def create_time_intervals(self, name: str, description: str = "experimental intervals") -> TimeIntervals:
        """Create and add a TimeIntervals table (PyNWB's builder)."""
        return self.add_time_intervals(TimeIntervals(name=name, description=description))

    def get_time_intervals(self, name: str) -> TimeIntervals:
        """The TimeIntervals table named ``name``."""
        return self.intervals[name]

    def add_trial_column(self, name: str, description: str, **kwargs: Any) -> VectorData:
        """Add a column to the trials table (created when needed)."""
        return self._interval_table("trials", True).add_column(name, description, **kwargs)  # type: ignore[union-attr]

    def add_trial(self, start_time: float, stop_time: float, **kwargs: Any) -> None:
        """Add a trial (PyNWB's ``add_trial``: tags, timeseries and extra columns as keywords)."""
        self._interval_table("trials", True).add_interval(start_time, stop_time, **kwargs)  # type: ignore[union-attr]

    def add_epoch_column(self, name: str, description: str, **kwargs: Any) -> VectorData:
        """Add a column to the epochs table (created when needed)."""
        return self._interval_table("epochs", True).add_column(name, description, **kwargs)  # type: ignore[union-attr]

    def add_epoch(self, start_time: float, stop_time: float, **kwargs: Any) -> None:
        """Add an epoch (PyNWB's ``add_epoch``)."""
        self._interval_table("epochs", True).add_interval(start_time, stop_time, **kwargs)  # type: ignore[union-attr]

    def add_invalid_times_column(self, name: str, description: str, **kwargs: Any) -> VectorData:
        """Add a column to the invalid-times table (created when needed)."""
        table = self._interval_table("invalid_times", True)
        return table.add_column(name, description, **kwargs)  # type: ignore[union-attr]

    def add_invalid_time_interval(self, start_time: float, stop_time: float, **kwargs: Any) -> None:
        """Add an interval to exclude from analysis (PyNWB's ``add_invalid_time_interval``)."""
        self._interval_table("invalid_times", True).add_interval(start_time, stop_time, **kwargs)  # type: ignore[union-attr]

    def _units(self) -> Units:
        if self.units is None:
            self.units = Units(name="units", description="Autogenerated by NWBFile")
            self._adopt(self.units)
        return self.units

    def add_unit_column(self, name: str, description: str, **kwargs: Any) -> VectorData:
        """Add a column to the units table (created when needed)."""
        return self._units().add_column(name, description, **kwargs)

    def add_unit(self, **kwargs: Any) -> None:
        """Add a unit (PyNWB's ``add_unit``: ``spike_times``, ``obs_intervals``, extra columns)."""
        self._units().add_unit(**kwargs)

    def add_electrode_group(self, electrode_group: C) -> C:
        """Add an ElectrodeGroup under ``/general/extracellular_ephys``."""
        return self._add_child("electrode_groups", electrode_group)

    def create_electrode_group(self, name: str, description: str, location: str, device: Device) -> NWBContainer:
        """Create and add an ElectrodeGroup (PyNWB's builder; its class is built from the NWB schema)."""
        from nwbzarr.model.generic import SpecCatalog, generic_class

        cls = generic_class(SpecCatalog.shipped(), "ElectrodeGroup", "core")
        group = cls(name=name, description=description, location=location, device=device)  # type: ignore[call-arg]
        assert isinstance(group, NWBContainer)
        return self.add_electrode_group(group)

    def add_lab_meta_data(self, lab_meta_data: LabMetaData) -> LabMetaData:
        """Add lab-specific metadata (an extension's LabMetaData) under ``/general``."""
        return self._add_child("lab_meta_data", lab_meta_data)

    def get_lab_meta_data(self, name: str) -> LabMetaData:
        """The LabMetaData named ``name``."""
        return self.lab_meta_data[name]

    # --- every object ---------------------------------------------------------------------------
    @property
    def objects(self) -> dict[str, Container]:
        """Every object of the file by ``object_id`` (PyNWB's ``nwbfile.objects``)."""
        out: dict[str, Container] = {}
        for obj in self.all_children():
            out[obj.object_id] = obj
            for column in getattr(obj, "columns", {}).values():
                index = getattr(column, "index", None)
                while index is not None:  # a doubly ragged column has an index of its index
                    out[index.object_id] = index
                    index = index.__dict__.get("index")
        return out

    def get(self, path: str) -> Container:
        """The object at ``path`` in the file (``'/processing/behavior/Position'``)."""
        wanted = "/".join(p for p in path.split("/") if p)
        stack: list[tuple[Container, str]] = [(self, "")]
        while stack:
            obj, at = stack.pop()
            if at == wanted:
                return obj
            for field_name, member in members(obj):
                value = getattr(obj, field_name)
                if member.kind is Kind.CHILD and value is not None and value.parent is obj:
                    stack.append((value, _join(at, member.storage_name(field_name))))
                elif member.kind is Kind.CHILDREN:
                    stack.extend((v, _join(at, member.path, v.name)) for v in value.values() if v.parent is obj)
            for column in getattr(obj, "columns", {}).values():
                index = getattr(column, "index", None)
                while index is not None:
                    stack.append((index, _join(at, index.name)))
                    index = index.__dict__.get("index")
        raise ContainerNotFoundError(f"{self._label}: no object at {path!r}")


def _interval_property(name: str) -> property:
    def get(self: NWBFile) -> TimeIntervals | None:
        return self._interval_table(name, False)

    get.__doc__ = f"The {name} table (``/intervals/{name}``), or None; set it with ``NWBFile(..., {name}=...)``."
    return property(get)


# after the dataclass took its constructor arguments of these names (a property in the body would be their default)
NWBFile.trials = _interval_property("trials")  # type: ignore[assignment]
NWBFile.epochs = _interval_property("epochs")  # type: ignore[assignment]
NWBFile.invalid_times = _interval_property("invalid_times")  # type: ignore[assignment]


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))
