"""Build docs/reference.md, the API reference, from the docstrings and signatures of the public names.

.venv/bin/python scripts/build_reference.py          # rewrite docs/reference.md
.venv/bin/python scripts/build_reference.py --check  # fail if it is out of date (the tests run this)
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "reference.md"
MODULES = [
    "nwbzarr",
    "nwbzarr.ophys",
    "nwbzarr.image",
    "nwbzarr.behavior",
    "nwbzarr.misc",
    "nwbzarr.epoch",
    "nwbzarr.base",
    "nwbzarr.file",
    "nwbzarr.model",
    "nwbzarr.io",
    "nwbzarr.operations.convert",
    "nwbzarr.operations.verify",
    "nwbzarr.operations.validate",
    "nwbzarr.writing.streams",
    "nwbzarr.writing.tiff",
    "nwbzarr.storage",
    "nwbzarr.writing.dataio",
    "nwbzarr.tree",
    "nwbzarr.abc",
    "nwbzarr.errors",
    "nwbzarr.display",
    "nwbzarr.display.plot",
    "nwbzarr.labelled",
    "nwbzarr.testing",
]


def _signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""


def _doc(obj: object) -> str:
    return inspect.cleandoc(obj.__doc__ or "").strip() or "(no docstring)"


def build() -> str:
    seen: set[int] = set()
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `scripts/build_reference.py`; every public name, by module.",
        "",
    ]
    for name in MODULES:
        module = importlib.import_module(name)
        lines += [f"## `{name}`", "", _doc(module), ""]
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public)
            if id(obj) in seen and not inspect.ismodule(obj):
                lines += [f"- `{public}`: see above", ""]
                continue
            seen.add(id(obj))
            if inspect.isclass(obj):
                lines += [f"### class `{public}{_signature(obj)}`", "", _doc(obj), ""]
                for attr, member in sorted(vars(obj).items()):
                    if attr.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                        continue
                    target = member.fget if isinstance(member, property) else member
                    sig = "" if isinstance(member, property) else _signature(member)
                    lines += [f"- `{attr}{sig}`: {_doc(target).splitlines()[0]}"]
                lines.append("")
            elif inspect.isfunction(obj):
                lines += [f"### `{public}{_signature(obj)}`", "", _doc(obj), ""]
            else:
                lines += [f"- `{public}` = `{obj!r}`"[:200], ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = build()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run scripts/build_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
