"""``python -m nht_monitor``: the ``nht-monitor`` command."""

import sys

from nht_monitor.cli import main

sys.exit(main())
