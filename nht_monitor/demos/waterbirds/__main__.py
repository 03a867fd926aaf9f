"""``python -m nht_monitor.demos.waterbirds``."""

import sys

from nht_monitor.demos.common.cli import main

sys.exit(main("waterbirds"))
