"""What users do with whole files: convert, verify, validate, summarise.

Each operation works on the format-neutral tree through the backends, so it knows no format itself.
"""

__all__: list[str] = []
