"""Images, GrayscaleImage/RGBImage/RGBAImage, ImageReferences, IndexSeries, OpticalSeries; both ways."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.interop.every_object_files import check_both_ways, new_file

from nwbzarr import NWBZarrIO
from nwbzarr.base import ImageReferences, Images
from nwbzarr.errors import ValidationError
from nwbzarr.image import GrayscaleImage, ImageMaskSeries, ImageSeries, RGBAImage, RGBImage

pytest.importorskip("pynwb")
pytest.importorskip("hdmf_zarr")


def _images(library: str) -> Any:
    nwbfile = new_file(library)
    image = importlib.import_module(f"{library}.image")
    base = importlib.import_module(f"{library}.base")
    rng = np.random.default_rng(7)
    gray = image.GrayscaleImage(name="mean", data=rng.random((6, 5)), resolution=3.5, description="mean image")
    rgb = image.RGBImage(name="rgb", data=rng.integers(0, 255, (6, 5, 3), dtype=np.uint8))
    rgba = image.RGBAImage(name="rgba", data=rng.random((6, 5, 4)))
    plain = base.Image(name="plain", data=rng.random((4, 4)))
    shown = base.Images(
        name="scenes",
        images=[gray, rgb, rgba, plain],
        description="the scenes shown",
        order_of_images=base.ImageReferences(name="order_of_images", data=[rgba, gray, rgb, plain]),
    )
    nwbfile.add_stimulus_template(shown)
    nwbfile.add_stimulus(
        image.IndexSeries(
            name="which", data=np.array([3, 0, 1], dtype=np.uint32), indexed_images=shown, unit="N/A", rate=2.0
        )
    )
    nwbfile.add_stimulus(
        image.OpticalSeries(
            name="screen",
            data=rng.random((3, 6, 5, 3)),
            unit="n.a.",
            rate=2.0,
            distance=0.5,
            field_of_view=[0.3, 0.2, 0.1],
            orientation="lower left corner is (0, 0)",
        )
    )
    module = nwbfile.create_processing_module(name="ophys", description="projections")
    module.add(base.Images(name="Backgrounds_0", images=[image.GrayscaleImage(name="max", data=np.eye(4))]))
    return nwbfile


def test_images_both_ways(tmp_path: Path) -> None:
    def same(ours: Any, theirs: Any) -> None:
        scenes = ours.stimulus_template["scenes"]
        assert [i.name for i in scenes.order_of_images.data] == ["rgba", "mean", "rgb", "plain"]
        assert scenes.order_of_images.data[1] is scenes["mean"]
        assert np.array_equal(scenes["rgb"].data[:], theirs.stimulus_template["scenes"]["rgb"].data[:])
        assert ours.stimulus["which"].indexed_images is scenes
        assert type(ours.processing["ophys"]["Backgrounds_0"]["max"]) is GrayscaleImage

    assert check_both_ways(_images, tmp_path, same) > 50


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: GrayscaleImage(name="g", data=np.ones((2, 2, 3))), r"GrayscaleImage 'g', field 'data': must be 2-D"),
        (lambda: RGBImage(name="c", data=np.ones((2, 2, 4))), r"RGBImage 'c', field 'data': needs 3 channels"),
        (lambda: RGBAImage(name="c", data=np.ones((2, 2))), r"RGBAImage 'c', field 'data': must be 3-D"),
        (lambda: RGBImage(name="c", data=np.ones(4)), r"'data': must be 3-D"),
        (lambda: ImageReferences(data=[np.ones(2)]), r"'data': expected Image objects"),
    ],
)
def test_images_of_the_wrong_shape_are_refused(build: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        build()


def test_order_must_name_images_of_the_container_and_nothing_is_written(tmp_path: Path) -> None:
    a, b = GrayscaleImage(name="a", data=np.ones((2, 2))), GrayscaleImage(name="b", data=np.ones((2, 2)))
    with pytest.raises(ValidationError, match=r"Images 'x', field 'order_of_images'.*\['b'\]"):
        Images(name="x", images=[a], order_of_images=ImageReferences(data=[a, b]))
    nwbfile = new_file("nwbzarr")
    images = nwbfile.add_stimulus_template(Images(name="x", images=[GrayscaleImage(name="c", data=np.ones((2, 2)))]))
    images.images["c"].data = np.ones((2, 2, 2))  # changed after the fact: checked again on write
    path = tmp_path / "bad.nwb.zarr"
    with pytest.raises(ValidationError, match=r"GrayscaleImage 'c', field 'data'"), NWBZarrIO(path, "w") as io:
        io.write(nwbfile)
    assert not (path / "stimulus").exists()


def test_image_mask_series_round_trips(tmp_path: Path) -> None:
    nwbfile = new_file("nwbzarr")
    movie = nwbfile.add_acquisition(ImageSeries(name="movie", data=np.ones((3, 4, 4)), unit="n.a.", rate=1.0))
    nwbfile.add_acquisition(
        ImageMaskSeries(name="mask", data=np.zeros((3, 4, 4)), unit="n.a.", rate=1.0, masked_imageseries=movie)
    )
    with NWBZarrIO(tmp_path / "m.nwb.zarr", "w") as io:
        io.write(nwbfile)
    with NWBZarrIO(tmp_path / "m.nwb.zarr") as io:
        back = io.read()
        assert back.acquisition["mask"].masked_imageseries is back.acquisition["movie"]  # type: ignore[attr-defined]
