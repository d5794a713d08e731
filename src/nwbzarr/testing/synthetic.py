"""A realistic synthetic calcium-imaging session: cells, transients, neuropil, shot noise.

Everything is generated from one seed, deterministically, and the movie is generated in blocks of
frames (any block can be regenerated on its own), so movies far larger than memory can be written
and benchmarked. :class:`SyntheticMovie` is a lazy, sliceable view that computes only what is asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from nwbzarr.abc.array import normalize_key

__all__ = ["SyntheticMovie", "SyntheticSession"]

_BLOCK = 64  # frames generated together (and seeded together)


@dataclass(frozen=True, kw_only=True)
class SyntheticSession:
    """Parameters of a two-photon session; the properties compute its parts (cached)."""

    n_frames: int = 600
    height: int = 256
    width: int = 256
    n_cells: int = 200
    rate_hz: float = 30.0
    seed: int = 0
    baseline: float = 40.0  # photons per pixel per frame of neuropil at the centre of the field
    brightness: float = 60.0  # photons per pixel at a cell's centre at rest
    firing_hz: float = 0.3  # mean rate of calcium events per cell
    decay_s: float = 0.7  # GCaMP6f-like decay
    rise_s: float = 0.05
    cell_radius: float = 4.0  # pixels

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n_frames, height, width)."""
        return (self.n_frames, self.height, self.width)

    # --- cells -------------------------------------------------------------------------------
    @cached_property
    def centers(self) -> np.ndarray:
        """(n_cells, 2) row/column centres, kept apart by about a cell diameter when there is room."""
        rng = np.random.default_rng([self.seed, 1])
        margin = self.cell_radius * 2
        picked: list[np.ndarray] = []
        tries = 0
        while len(picked) < self.n_cells:
            candidate = rng.uniform([margin, margin], [self.height - margin, self.width - margin])
            tries += 1
            too_close = any(np.hypot(*(candidate - p)) < 2 * self.cell_radius for p in picked)
            if not too_close or tries > 50 * self.n_cells:
                picked.append(candidate)
        return np.asarray(picked).reshape(-1, 2)

    @cached_property
    def patches(self) -> list[tuple[int, int, np.ndarray]]:
        """Each cell's footprint as (top row, left column, float32 patch in [0, 1]): a soft Gaussian blob."""
        rng = np.random.default_rng([self.seed, 2])
        half = math.ceil(self.cell_radius * 1.5)
        out = []
        for cy, cx in self.centers:
            sy, sx = self.cell_radius * rng.uniform(0.35, 0.55, size=2)
            top, left = max(0, int(cy) - half), max(0, int(cx) - half)
            bottom, right = min(self.height, int(cy) + half + 1), min(self.width, int(cx) + half + 1)
            yy, xx = np.mgrid[top:bottom, left:right]
            blob = np.exp(-(((yy - cy) / sy) ** 2 + ((xx - cx) / sx) ** 2) / 2).astype(np.float32)
            blob[blob < 0.05] = 0
            out.append((top, left, blob))
        return out

    @property
    def footprints(self) -> np.ndarray:
        """(n_cells, height, width) dense footprints (for small sessions; large ones use ``patches``)."""
        out = np.zeros((self.n_cells, self.height, self.width), dtype=np.float32)
        for i, (top, left, patch) in enumerate(self.patches):
            out[i, top : top + patch.shape[0], left : left + patch.shape[1]] = patch
        return out

    def pixel_masks(self) -> list[list[tuple[int, int, float]]]:
        """Each cell's footprint as (x, y, weight) triplets (x = column, y = row, as NWB pixel masks)."""
        masks = []
        for top, left, patch in self.patches:
            rows, cols = np.nonzero(patch)
            masks.append([(int(c + left), int(r + top), float(patch[r, c])) for r, c in zip(rows, cols, strict=True)])
        return masks

    # --- activity ------------------------------------------------------------------------------
    @cached_property
    def spikes(self) -> np.ndarray:
        """(n_frames, n_cells) calcium events per frame (Poisson, rates varying across cells)."""
        rng = np.random.default_rng([self.seed, 3])
        rates = rng.gamma(2.0, self.firing_hz / 2.0, size=self.n_cells) / self.rate_hz
        return rng.poisson(rates, size=(self.n_frames, self.n_cells)).astype(np.float32)

    @cached_property
    def calcium(self) -> np.ndarray:
        """(n_frames, n_cells) dF/F ground truth: events through a rise/decay kernel, amplitudes per cell."""
        rng = np.random.default_rng([self.seed, 4])
        t = np.arange(int(self.decay_s * 6 * self.rate_hz) + 1) / self.rate_hz
        kernel = (np.exp(-t / self.decay_s) - np.exp(-t / self.rise_s)).astype(np.float32)
        kernel /= kernel.max()
        amplitude = rng.uniform(0.3, 1.5, size=self.n_cells).astype(np.float32)
        out = np.empty_like(self.spikes)
        for i in range(self.n_cells):
            out[:, i] = np.convolve(self.spikes[:, i], kernel)[: self.n_frames] * amplitude[i]
        return out

    # --- the movie -----------------------------------------------------------------------------------
    @cached_property
    def _neuropil(self) -> np.ndarray:
        """A smooth background with vignetting (brighter centre), (height, width) float32."""
        yy, xx = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        r2 = ((yy - self.height / 2) / self.height) ** 2 + ((xx - self.width / 2) / self.width) ** 2
        rng = np.random.default_rng([self.seed, 5])
        waves: np.ndarray = sum(
            np.sin(yy / self.height * k1 * math.pi + p1) * np.cos(xx / self.width * k2 * math.pi + p2)
            for k1, k2, p1, p2 in rng.uniform([1, 1, 0, 0], [4, 4, 6, 6], size=(3, 4))
        )
        out: np.ndarray = (self.baseline * np.exp(-2.0 * r2) * (1 + 0.15 * waves)).astype(np.float32)
        return out

    def frames(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start:stop`` as uint16 photon counts (regenerated the same way every time)."""
        start, stop = max(0, start), min(self.n_frames, stop)
        blocks = [self._block(b) for b in range(start // _BLOCK, -(-stop // _BLOCK))]
        if not blocks:
            return np.zeros((0, self.height, self.width), dtype=np.uint16)
        movie = np.concatenate(blocks)
        offset = (start // _BLOCK) * _BLOCK
        return movie[start - offset : stop - offset]

    def _block(self, index: int) -> np.ndarray:
        t0, t1 = index * _BLOCK, min(self.n_frames, (index + 1) * _BLOCK)
        times = np.arange(t0, t1, dtype=np.float32) / self.rate_hz
        drift = 1 + 0.05 * np.sin(2 * math.pi * times / 60.0)  # slow baseline drift, one-minute period
        expected = np.empty((t1 - t0, self.height, self.width), dtype=np.float32)
        expected[:] = self._neuropil
        expected *= drift[:, None, None]
        activity = (1 + self.calcium[t0:t1]) * self.brightness
        for i, (top, left, patch) in enumerate(self.patches):
            h, w = patch.shape
            expected[:, top : top + h, left : left + w] += activity[:, i, None, None] * patch
        # shot noise: Poisson counts, drawn with the normal approximation (exact enough at these
        # photon counts and ~10x faster, which matters for multi-GB benchmark movies)
        rng = np.random.default_rng([self.seed, 6, index])
        noise = rng.standard_normal(expected.shape, dtype=np.float32)
        noise *= np.sqrt(expected)
        expected += noise
        np.clip(expected + 0.5, 0, np.iinfo(np.uint16).max, out=expected)
        return expected.astype(np.uint16)

    def movie(self) -> SyntheticMovie:
        """A lazy, sliceable view of the movie."""
        return SyntheticMovie(self)

    # --- derived traces ----------------------------------------------------------------------------------
    def fluorescence(self) -> np.ndarray:
        """(n_frames, n_cells) expected fluorescence in each footprint (weighted mean of the noiseless movie)."""
        own = np.empty(self.n_cells, dtype=np.float32)
        neuropil = np.empty(self.n_cells, dtype=np.float32)
        for i, (top, left, patch) in enumerate(self.patches):
            h, w = patch.shape
            norm = patch.sum()
            own[i] = (patch * patch).sum() / norm
            neuropil[i] = (patch * self._neuropil[top : top + h, left : left + w]).sum() / norm
        return ((1 + self.calcium) * self.brightness * own + neuropil).astype(np.float32)

    def dff(self) -> np.ndarray:
        """(n_frames, n_cells) dF/F of :meth:`fluorescence` against its 10th percentile."""
        f = self.fluorescence()
        f0 = np.percentile(f, 10, axis=0, keepdims=True)
        out: np.ndarray = ((f - f0) / f0).astype(np.float32)
        return out

    def mean_image(self) -> np.ndarray:
        """The expected mean frame (neuropil plus resting cells)."""
        out = self._neuropil.copy()
        for top, left, patch in self.patches:
            out[top : top + patch.shape[0], left : left + patch.shape[1]] += patch * self.brightness
        return out


class SyntheticMovie:
    """A lazy (n_frames, height, width) uint16 view of a session's movie: slicing computes only those frames."""

    def __init__(self, session: SyntheticSession) -> None:
        self.session = session
        self.shape = session.shape
        self.dtype = np.dtype(np.uint16)
        self.ndim = 3

    @property
    def nbytes(self) -> int:
        """Bytes of the whole movie."""
        return math.prod(self.shape) * 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        idx = normalize_key(key, self.shape)
        t = idx[0]
        if isinstance(t, int):
            frame: np.ndarray = self.session.frames(t, t + 1)[0][idx[1:]]
            return frame
        block = self.session.frames(t.start, t.stop)[:: t.step]
        return block[(slice(None), *idx[1:])]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self.session.frames(0, self.shape[0])
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"SyntheticMovie{self.shape}"
