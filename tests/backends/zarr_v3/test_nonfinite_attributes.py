"""Non-finite attribute values: strict JSON by default (typed strings), hdmf-zarr's bare tokens on request."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nwbzarr.backends.zarr_v3.attributes import decode_attrs, encode_attrs


def _strict(doc: dict[str, object]) -> str:
    return json.dumps(doc, allow_nan=False)  # raises ValueError on a bare NaN/Infinity


def test_strict_round_trip() -> None:
    attrs = {
        "gain": math.nan,
        "rate": np.float32(np.inf),
        "floor": -math.inf,
        "bounds": np.array([1.5, np.nan, -np.inf]),
        "finite": 2.5,
        "label": "NaN",  # text that reads like a number stays text
    }
    stored = encode_attrs(attrs)
    text = _strict(stored)
    assert stored["gain"] == "NaN" and stored["rate"] == "Infinity" and stored["floor"] == "-Infinity"
    assert stored["bounds"] == [1.5, "NaN", "-Infinity"] and stored["finite"] == 2.5
    back = decode_attrs(json.loads(text), "/x")
    assert math.isnan(back["gain"]) and isinstance(back["gain"], float)
    assert back["rate"] == np.float32(np.inf) and isinstance(back["rate"], np.float32)
    assert back["floor"] == -math.inf
    assert np.array_equal(back["bounds"], attrs["bounds"], equal_nan=True)
    assert back["finite"] == 2.5 and back["label"] == "NaN"


def test_bare_keeps_hdmf_zarrs_tokens() -> None:
    stored = encode_attrs({"gain": math.nan}, nonfinite="bare")
    assert math.isnan(stored["gain"]) and "_ATTRIBUTE_DTYPES" not in stored
    with pytest.raises(ValueError, match="JSON"):
        _strict(stored)
    assert "NaN" in json.dumps(stored)
    assert math.isnan(decode_attrs(json.loads(json.dumps(stored)), "/x")["gain"])  # as hdmf-zarr's stores read


def test_unknown_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="nonfinite='json'"):
        encode_attrs({"gain": math.nan}, nonfinite="json")  # type: ignore[arg-type]
