"""``python -m nht_monitor.demos.cifar10``."""

import sys

from nht_monitor.demos.common.cli import main

sys.exit(main("cifar10"))
