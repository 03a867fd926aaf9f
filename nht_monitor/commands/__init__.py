"""Subcommands of the ``nht-monitor`` CLI, one module each (see ``nht_monitor.cli``)."""
