"""Devices and the subject: the bare metadata groups under ``/general``."""

from __future__ import annotations

from datetime import datetime

from nwbzarr.model.base import NWBContainer, neurodata_type
from nwbzarr.model.spec import attribute, dataset

__all__ = ["Device", "Subject"]


@neurodata_type("core")
class Device(NWBContainer):
    """An instrument (microscope, camera...). manufacturer/model_* are deprecated in NWB 2.9 but still written."""

    description: str | None = attribute(default=None)
    manufacturer: str | None = attribute(default=None)
    model_number: str | None = attribute(default=None)
    model_name: str | None = attribute(default=None)
    serial_number: str | None = attribute(default=None)


@neurodata_type("core")
class Subject(NWBContainer):
    """The animal or person recorded from. Stored at ``/general/subject``."""

    name: str = "subject"
    age: str | None = dataset(dtype="text", default=None, doc="ISO 8601 duration, e.g. P90D")
    age__reference: str = attribute(on="age", name="reference", default="birth", doc="birth or gestational")
    date_of_birth: datetime | None = dataset(dtype="isodatetime", default=None)
    description: str | None = dataset(dtype="text", default=None)
    genotype: str | None = dataset(dtype="text", default=None)
    sex: str | None = dataset(dtype="text", default=None, doc="M, F, O or U")
    species: str | None = dataset(dtype="text", default=None, doc="Latin binomial, e.g. Mus musculus")
    strain: str | None = dataset(dtype="text", default=None)
    subject_id: str | None = dataset(dtype="text", default=None)
    weight: str | None = dataset(dtype="text", default=None, doc="with unit, e.g. '20 g'")

    def _validate(self) -> None:
        super()._validate()
        if self.name != "subject":
            raise self._fail("name", f"a Subject is stored as 'subject', got {self.name!r}")
        if self.age__reference not in ("birth", "gestational"):
            raise self._fail("age__reference", f"must be 'birth' or 'gestational', got {self.age__reference!r}")
