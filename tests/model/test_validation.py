"""Bad input fails at once, with an error that names the object and the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

import nwbzarr
from nwbzarr.errors import (
    ContainerNotFoundError,
    DuplicateNameError,
    InvalidNameError,
    NotInFileError,
    NWBZarrError,
    ValidationError,
)
from nwbzarr.io import NWBZarrIO
from nwbzarr.model import (
    Fluorescence,
    ImagingPlane,
    NWBFile,
    OpticalChannel,
    PlaneSegmentation,
    RoiResponseSeries,
    TimeSeries,
    TwoPhotonSeries,
)


def _plane(nwbfile: NWBFile) -> ImagingPlane:
    device = nwbfile.create_device(name="Microscope")
    channel = OpticalChannel(name="OpticalChannel", description="green", emission_lambda=510.0)
    return nwbfile.create_imaging_plane(
        name="ImagingPlane",
        optical_channel=channel,
        device=device,
        excitation_lambda=920.0,
        indicator="GCaMP6f",
        location="V1",
    )


def test_every_error_derives_from_the_root_and_a_builtin() -> None:
    assert issubclass(ValidationError, NWBZarrError) and issubclass(ValidationError, ValueError)
    assert issubclass(ContainerNotFoundError, KeyError)
    assert issubclass(nwbzarr.errors.StoreNotFoundError, FileNotFoundError)
    assert nwbzarr.NWBZarrError is NWBZarrError


@pytest.mark.parametrize("shape", [(10,), (10, 4), (10, 4, 4, 4, 4)])
def test_two_photon_data_must_be_3d_or_4d(tutorial_file: NWBFile, shape: tuple[int, ...]) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    with pytest.raises(ValidationError, match=r"TwoPhotonSeries 'tps', field 'data': must be 3 or 4-D"):
        TwoPhotonSeries(name="tps", data=np.zeros(shape), imaging_plane=plane, rate=30.0)


def test_image_mask_shape_must_match_the_table(tutorial_file: NWBFile) -> None:
    ps = tutorial_file.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert isinstance(ps, PlaneSegmentation)
    rows = len(ps)
    with pytest.raises(
        ValidationError, match=r"PlaneSegmentation 'PlaneSegmentation', field 'image_mask': shape \(8, 8\)"
    ):
        ps.add_roi(image_mask=np.zeros((8, 8)))
    assert len(ps) == rows  # nothing was appended


def test_mask_kinds_cannot_be_mixed(tutorial_file: NWBFile) -> None:
    ps = tutorial_file.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation2"]
    assert isinstance(ps, PlaneSegmentation)
    with pytest.raises(ValidationError, match="one mask kind per table"):
        ps.add_roi(image_mask=np.zeros((32, 32)))
    with pytest.raises(ValidationError, match="one mask kind per table"):
        ps.add_roi(pixel_mask=[(1, 1, 1.0)], image_mask=np.zeros((32, 32)))


def test_pixel_mask_entries_are_triplets(tutorial_file: NWBFile) -> None:
    ps = tutorial_file.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation2"]
    assert isinstance(ps, PlaneSegmentation)
    with pytest.raises(ValidationError, match=r"each entry must be \(x, y, weight\)"):
        ps.add_roi(pixel_mask=[(1, 2)])


def test_roi_response_series_width_must_match_region(tutorial_file: NWBFile) -> None:
    ps = tutorial_file.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert isinstance(ps, PlaneSegmentation)
    region = ps.create_roi_table_region(region=[0, 1, 2], description="three")
    with pytest.raises(
        ValidationError, match=r"RoiResponseSeries 'rrs', field 'data': has 2 columns but rois selects 3"
    ):
        RoiResponseSeries(name="rrs", data=np.ones((5, 2)), rois=region, unit="lumens", rate=30.0)


def test_region_rows_must_be_in_the_table(tutorial_file: NWBFile) -> None:
    ps = tutorial_file.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
    assert isinstance(ps, PlaneSegmentation)
    with pytest.raises(ValidationError, match=r"rows \[30, -1\] are outside table 'PlaneSegmentation' with 30 rows"):
        ps.create_roi_table_region(region=[0, 30, -1], description="bad")


@pytest.mark.parametrize(
    ("timing", "message"),
    [({"rate": 1.0, "timestamps": [0.0, 1.0]}, "not both"), ({}, "give either rate")],
)
def test_timing_needs_exactly_one_of_rate_and_timestamps(timing: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TimeSeries(name="ts", data=np.zeros(2), unit="m", **timing)


def test_timestamps_length_must_match_data() -> None:
    with pytest.raises(ValidationError, match="has 3 entries but data has 2 samples"):
        TimeSeries(name="ts", data=np.zeros(2), unit="m", timestamps=[0.0, 1.0, 2.0])


def test_two_objects_with_one_name_in_one_group(tutorial_file: NWBFile) -> None:
    with pytest.raises(DuplicateNameError, match="'TwoPhotonSeries1' is already there"):
        tutorial_file.add_acquisition(TimeSeries(name="TwoPhotonSeries1", data=[1.0], unit="m", rate=1.0))
    with pytest.raises(DuplicateNameError):
        Fluorescence(
            roi_response_series=[
                tutorial_file.processing["ophys"]["Fluorescence"]["RoiResponseSeries"],  # type: ignore[index]
                tutorial_file.processing["ophys"]["DfOverF"]["RoiResponseSeries"],  # type: ignore[index]
            ]
        )


@pytest.mark.parametrize("name", ["a/b", ".", "..", "", "/abs"])
def test_names_that_cannot_be_nodes(name: str) -> None:
    with pytest.raises(InvalidNameError, match="TimeSeries"):
        TimeSeries(name=name, data=[1.0], unit="m", rate=1.0)


def test_session_start_time_needs_a_time_zone() -> None:
    with pytest.raises(ValidationError, match="'session_start_time': 2024-01-01T00:00:00 has no time zone"):
        NWBFile("desc", "id", datetime(2024, 1, 1))


def test_missing_member_names_what_is_there(tutorial_file: NWBFile) -> None:
    with pytest.raises(ContainerNotFoundError, match=r"no object named 'nope' .*'ophys'") as info:
        tutorial_file.processing["nope"]
    assert isinstance(info.value, KeyError)


def test_link_to_an_object_outside_the_file_fails_before_writing(tutorial_file: NWBFile, store_path: Any) -> None:
    stray = _plane(NWBFile("other", "id2", datetime.fromisoformat("2024-01-01T00:00:00+00:00")))
    tutorial_file.add_acquisition(
        TwoPhotonSeries(name="stray", data=np.zeros((2, 3, 3)), imaging_plane=stray, rate=1.0)
    )
    with (
        pytest.raises(NotInFileError, match="TwoPhotonSeries 'stray', field 'imaging_plane'"),
        NWBZarrIO(store_path, "w") as io,
    ):
        io.write(tutorial_file)
    assert not store_path.exists()


def test_wrong_type_for_a_link_field(tutorial_file: NWBFile) -> None:
    with pytest.raises(ValidationError, match="field 'imaging_plane': expected ImagingPlane, got Device"):
        TwoPhotonSeries(name="x", data=np.zeros((2, 3, 3)), imaging_plane=tutorial_file.devices["Microscope"], rate=1.0)  # type: ignore[arg-type]


def test_external_file_series_needs_num_samples_with_rate(tutorial_file: NWBFile) -> None:
    plane = tutorial_file.imaging_planes["ImagingPlane"]
    with pytest.raises(ValidationError, match="num_samples"):
        TwoPhotonSeries(name="ext", external_file=["a.tif"], imaging_plane=plane, rate=1.0, format="external")
