"""``python -m nwbzarr.cli``."""

import sys

from nwbzarr.cli import main

sys.exit(main())
