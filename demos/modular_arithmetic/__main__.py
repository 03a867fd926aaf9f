"""``python -m demos.modular_arithmetic``."""

import sys

from demos.common.cli import main

sys.exit(main("modular-arithmetic"))
