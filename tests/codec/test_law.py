"""The codec's law: decode(encode(f)) == f, on the tutorial and on generated files."""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nwbzarr.codec import decode, encode
from nwbzarr.model import (
    DfOverF,
    Fluorescence,
    ImageSegmentation,
    NWBFile,
    OpticalChannel,
    RoiResponseSeries,
    Subject,
    TimeSeries,
    TwoPhotonSeries,
)

names = st.text(string.ascii_letters + string.digits + "_- ", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)
texts = st.text(max_size=30)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e9, max_value=1e9)
numeric_dtypes = st.sampled_from(["uint8", "uint16", "int16", "int32", "float32", "float64"])


def test_tutorial_round_trips(tutorial_file: NWBFile) -> None:
    assert decode(encode(tutorial_file)) == tutorial_file


def test_encode_is_deterministic(tutorial_file: NWBFile) -> None:
    from nwbzarr.tree.nodes import walk

    first = [(p, type(n).__name__) for p, n in walk(encode(tutorial_file))]
    second = [(p, type(n).__name__) for p, n in walk(encode(tutorial_file))]
    assert first == second


@st.composite
def nwb_files(draw: st.DrawFn) -> NWBFile:
    offset = timezone(timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60))))
    start = datetime(2020, 1, 1, tzinfo=offset) + timedelta(seconds=draw(st.integers(0, 10**8)))
    nwbfile = NWBFile(
        draw(texts),
        draw(texts),
        start,
        experimenter=draw(st.lists(texts, max_size=3)),
        keywords=draw(st.lists(texts, max_size=3)),
        notes=draw(st.none() | texts),
        subject=draw(st.none() | st.builds(Subject, species=texts, age=st.just("P90D"), subject_id=texts)),
    )
    device = nwbfile.create_device(name=draw(names), description=draw(st.none() | texts))
    plane = nwbfile.create_imaging_plane(
        name=draw(names),
        optical_channel=OpticalChannel(name="ch", description=draw(texts), emission_lambda=draw(floats)),
        device=device,
        excitation_lambda=draw(floats),
        indicator=draw(texts),
        location=draw(texts),
        grid_spacing=draw(st.none() | st.lists(floats, min_size=2, max_size=3)),
    )
    frames = draw(st.integers(1, 6))
    width, height = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    movie = draw(hnp.arrays(numeric_dtypes, (frames, width, height)))
    timing = (
        {"rate": draw(st.floats(0.1, 1000))}
        if draw(st.booleans())
        else {"timestamps": np.sort(draw(hnp.arrays("float64", frames, elements=floats)))}
    )
    series = TwoPhotonSeries(
        name=draw(names), data=movie, imaging_plane=plane, unit=draw(texts), description=draw(texts), **timing
    )
    nwbfile.add_acquisition(series)
    module = nwbfile.create_processing_module(name="ophys", description=draw(texts))
    segmentation = ImageSegmentation()
    table = segmentation.create_plane_segmentation(
        description=draw(texts), imaging_plane=plane, reference_images=series if draw(st.booleans()) else None
    )
    module.add(segmentation)
    n_rois = draw(st.integers(1, 4))
    for _ in range(n_rois):
        n = draw(st.integers(1, 4))
        pixels = [(draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1)), draw(floats)) for _ in range(n)]
        table.add_roi(pixel_mask=pixels)  # inside the image: masks outside it are refused
    region = table.create_roi_table_region(description=draw(texts), region=list(range(n_rois)))
    traces = draw(hnp.arrays("float32", (frames, n_rois)))
    container = Fluorescence if draw(st.booleans()) else DfOverF
    module.add(
        container(roi_response_series=RoiResponseSeries(name="traces", data=traces, rois=region, unit="a.u.", **timing))
    )
    nwbfile.add_acquisition(
        TimeSeries(
            name="extra_" + draw(names),
            data=draw(hnp.arrays("float64", frames)),
            unit="V",
            comments=draw(texts),
            **timing,
        )
    )
    return nwbfile


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nwb_files())
def test_decode_encode_is_identity(nwbfile: NWBFile) -> None:
    assert decode(encode(nwbfile)) == nwbfile
