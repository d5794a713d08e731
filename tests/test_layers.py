"""The package's layers, read from its import statements: the root is the public face, arrows run downwards.

Every ``import`` in every module counts, inside functions too (a lazy import is still an arrow; imports for
type checkers only do not run and do not count), except the
few stated on purpose: ``to_xarray`` reaching the xarray views it returns, the manifest naming its writer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nwbzarr"

#: what may sit at the root: the public face and PyNWB's import paths, nothing else
ROOT_MODULES = {"__init__", "__main__", "errors", "ophys", "image", "behavior", "misc", "epoch", "base", "file"}

#: each layer and the layers (or root modules) it may import; anything not listed is refused
ALLOWED: dict[str, set[str]] = {
    "core": {"errors"},
    "storage": {"errors", "core"},
    "abc": {"errors", "core", "tree"},
    "tree": {"errors", "core", "abc"},
    "writing": {"errors", "core", "abc", "tree"},
    "schema": {"errors", "core", "tree"},
    "model": {"errors", "core", "abc", "tree"},
    "codec": {"errors", "core", "abc", "tree", "model", "schema", "writing"},
    "backends": {"errors", "core", "abc", "tree", "storage", "writing"},
    "io": {"errors", "core", "abc", "tree", "storage", "writing", "schema", "model", "codec", "backends"},
    "operations": {"errors", "core", "abc", "tree", "storage", "writing", "schema", "model", "codec", "backends"},
    "labelled": {"errors", "core", "abc", "tree", "storage", "writing", "model", "codec", "backends"},
}

#: deliberate lazy arrows: (importing module, imported module)
STATED = {
    ("nwbzarr.model.table", "nwbzarr.labelled.table"),
    ("nwbzarr.model.timeseries", "nwbzarr.labelled.series"),
    ("nwbzarr.backends.zarr_v3.manifest", "nwbzarr.__version__"),  # the writer's name in every manifest
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:``: annotations only, never imported when the code runs."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            hidden |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return hidden


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "nwbzarr":
                found |= {f"nwbzarr.{alias.name}" for alias in node.names}
            elif node.module.startswith("nwbzarr."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("nwbzarr.")}
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_root_holds_only_the_public_face() -> None:
    loose = {p.stem for p in PACKAGE.glob("*.py")} - ROOT_MODULES
    assert not loose, f"modules at the package root that belong in a layer package: {sorted(loose)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_downwards(path: Path) -> None:
    module = _module_name(path)
    layer = _layer(module)
    allowed = ALLOWED.get(layer)
    if allowed is None:  # the top: faces, views, the command line, test helpers
        return
    wrong = sorted(
        target
        for target in _imports(path)
        if _layer(target) not in allowed | {layer}
        and (module, target) not in STATED
        and not target.startswith("nwbzarr.errors")
    )
    assert not wrong, f"{module} ({layer}/) imports from a layer above it: {wrong}"


def test_the_model_imports_no_view() -> None:
    """The notebook view is installed on the model from outside (display/notebook.py)."""
    for path in (PACKAGE / "model").rglob("*.py"):
        assert not {t for t in _imports(path) if t.startswith("nwbzarr.display")}, path


def test_every_container_has_the_notebook_view() -> None:
    import nwbzarr

    assert "<details" in nwbzarr.Device(name="scope")._repr_html_()  # type: ignore[attr-defined]
