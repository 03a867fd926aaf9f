"""Trainer and sweep integrations (optional extras).

* ``nht_monitor.integrations.lightning`` and ``nht_monitor.integrations.huggingface``:
  an ``NHTMonitorCallback`` each (extras ``[lightning]``, ``[huggingface]``);
* ``nht_monitor.integrations.ray_tune``: ``NHTStopper``, ``report_fields``,
  ``trial_watch_options`` — stop hopeless Ray Tune trials (extra ``[ray]``);
* ``nht_monitor.integrations.optuna``: ``NHTPruner``, ``report_to_trial`` — prune
  hopeless Optuna trials (extra ``[optuna]``);
* ``nht_monitor.integrations.early_stop``: the keep/stop decision both sweep
  integrations use (``StopPolicy``, ``TrialState``, ``decide``; pure, no extra).

Importing this package imports none of Lightning, transformers, Ray or Optuna.
"""
