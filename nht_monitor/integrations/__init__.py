"""Trainer integrations (optional extras): ``nht_monitor.integrations.lightning`` and
``nht_monitor.integrations.huggingface``, each with an ``NHTMonitorCallback``.

Importing this package imports neither Lightning nor transformers.
"""
