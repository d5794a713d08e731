"""Per-dataset storage choices: wrap data in :class:`DataIO` to set its chunks, shards and codec."""

from __future__ import annotations

from typing import Any

from nwbzarr.tree.layout import Access, Compression, Layout

__all__ = ["DataIO"]


class DataIO:
    """Data plus how to store it, like PyNWB's ``H5DataIO`` / hdmf-zarr's ``ZarrDataIO``.

    >>> TwoPhotonSeries(..., data=DataIO(movie, chunks=(8, 64, 64), shards=(256, 512, 512)))
    >>> TwoPhotonSeries(..., data=DataIO(movie, access="traces"))  # the policy's preset for ROI traces

    ``access`` (``"balanced"``, ``"frames"``, ``"traces"``) chooses among the default layouts of
    :mod:`nwbzarr.writing.policy` when ``chunks`` is not given.

    The wrapper is transparent for validation (``shape``, ``dtype``, ``len``, slicing).
    """

    def __init__(
        self,
        data: Any,
        *,
        chunks: tuple[int, ...] | None = None,
        shards: tuple[int, ...] | None = None,
        compression: Compression | str | None = None,
        access: Access = "balanced",
    ) -> None:
        if isinstance(compression, str):
            compression = Compression(codec=compression)  # type: ignore[arg-type]
        self.data = data
        self.layout = Layout(chunks=chunks, shards=shards, compression=compression, access=access)

    @property
    def shape(self) -> tuple[int, ...]:
        """The wrapped data's shape."""
        return tuple(self.data.shape)

    @property
    def dtype(self) -> Any:
        """The wrapped data's dtype."""
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key: Any) -> Any:
        return self.data[key]

    def __repr__(self) -> str:
        return f"DataIO({type(self.data).__name__} shape={self.shape}, {self.layout})"
