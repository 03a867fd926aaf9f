"""``python -m demos.waterbirds``."""

import sys

from demos.common.cli import main

sys.exit(main("waterbirds"))
