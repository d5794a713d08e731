"""Write src/nwbzarr/schema/nwb-schema.json: the NWB core and hdmf-common schema nwbzarr caches in every file.

Run with PyNWB installed (``.venv/bin/python scripts/build_schema.py``) when NWB_VERSION changes; the
schema is BSD-licensed (src/nwbzarr/schema/LICENSE-*.txt). tests/schema/test_specifications.py fails when the file
differs from what the installed PyNWB gives for the same core version.
"""

from __future__ import annotations

import json
from pathlib import Path

from nwbzarr.schema.specifications import SCHEMA_FILE, export_pynwb_schema

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "src" / "nwbzarr" / SCHEMA_FILE
    target.write_text(json.dumps(export_pynwb_schema(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
