"""``python -m nht_monitor.demos.celeba``."""

import sys

from nht_monitor.demos.common.cli import main

sys.exit(main("celeba"))
