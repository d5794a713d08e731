"""The codec between the container model and the format-neutral tree.

The law it keeps: ``decode(encode(f)) == f`` for every file ``f`` the model can build.
"""

from nwbzarr.codec.decode import decode
from nwbzarr.codec.encode import encode, object_paths

__all__ = ["decode", "encode", "object_paths"]
