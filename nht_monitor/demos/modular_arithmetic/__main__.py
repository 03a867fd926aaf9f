"""``python -m nht_monitor.demos.modular_arithmetic``."""

import sys

from nht_monitor.demos.common.cli import main

sys.exit(main("modular-arithmetic"))
