"""``python -m demos.cifar10``."""

import sys

from demos.common.cli import main

sys.exit(main("cifar10"))
