"""What a write is made of: the data sources users hand in (DataIO, FrameStream, TiffStack),
the default layout policy, and the block walk that keeps every write within bounded memory.
"""

__all__: list[str] = []
