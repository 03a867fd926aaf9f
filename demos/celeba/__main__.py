"""``python -m demos.celeba``."""

import sys

from demos.common.cli import main

sys.exit(main("celeba"))
