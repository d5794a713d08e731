"""The NWB core and hdmf-common schema nwbzarr ships, cached under ``/specifications`` in every file."""

__all__: list[str] = []
