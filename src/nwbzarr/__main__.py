"""``python -m nwbzarr``: the nwbzarr command."""

import sys

from nwbzarr.cli import main

sys.exit(main())
