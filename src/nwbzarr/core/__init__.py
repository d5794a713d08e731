"""Foundations every layer imports and that import no layer: data types, progress callbacks,
optional imports.
"""

__all__: list[str] = []
