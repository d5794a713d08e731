"""``validate``: check a stored file against the rules the model enforces, reporting every problem.

Unlike reading (which stops at the first problem), validation visits every object and collects each
broken rule with the path of the object. It also says when the file carries no cached NWB schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nwbzarr.backends.open import Format, open_backend
from nwbzarr.codec import decode, object_paths
from nwbzarr.errors import NWBZarrError
from nwbzarr.schema.specifications import SPEC_GROUP
from nwbzarr.storage import StoreLike

__all__ = ["Problem", "validate"]


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One broken rule: where, what, and whether it makes the file invalid or is advice."""

    path: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.severity.upper()} {self.path}: {self.message}"


def validate(
    target: StoreLike,
    *,
    format: Format | None = None,
    storage_options: dict[str, Any] | None = None,
) -> list[Problem]:
    """Every problem of the file at ``target`` (an empty list for a valid file)."""
    backend = open_backend(target, mode="r", format=format, storage_options=storage_options)
    problems: list[Problem] = []
    try:
        tree = backend.read_tree()
        if SPEC_GROUP not in tree.members:
            problems.append(
                Problem(
                    path="/specifications",
                    severity="warning",
                    message=(
                        "no cached NWB schema; validators that read the schema from the file (pynwb.validate, "
                        "nwbinspector) fall back to their own. Convert the file with nwbzarr (`nwbzarr convert`), "
                        "which adds it"
                    ),
                )
            )
        try:
            nwbfile = decode(tree)
        except NWBZarrError as exc:
            return [*problems, Problem(path="/", message=str(exc))]
        try:
            paths = object_paths(nwbfile)
        except NWBZarrError as exc:
            return [*problems, Problem(path="/", message=str(exc))]
        for obj in nwbfile.all_children():
            try:
                found: list[NWBZarrError] = list(obj.problems())
            except NWBZarrError as exc:  # a value that cannot even be read
                found = [exc]
            problems.extend(Problem(path=paths.get(id(obj), "?"), message=str(exc)) for exc in found)
    finally:
        backend.close()
    return problems
