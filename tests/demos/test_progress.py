"""The demos' progress-bar postfix."""

from __future__ import annotations

from nht_monitor.demos.common.progress import DemoProgress, sweep_postfix


def test_sweep_postfix_abbreviates_and_shows_pending_forecasts():
    labelled = {
        "0.01": {"regime": "weak", "transition": {"status": "not_expected"}},
        "0.1": {"regime": "intermediate",
                "transition": {"status": "pending", "forecast_step": 1341.6}},
        "0.2": {"regime": "intermediate", "transition": {"status": "done", "forecast_step": 620}},
        "1": {"regime": "undetermined", "transition": {}},
        "10": None,
    }
    assert sweep_postfix(labelled) == "0.01:weak 0.1:inter~1342 0.2:inter 1:undet 10:…"


def test_bar_shows_the_postfix(capsys):
    bar = DemoProgress(10, "sweep")
    bar.update_many(5, {"0.1": {"regime": "strong", "transition": {}}})
    bar.bar.refresh()
    bar.close()
    assert "0.1:strong" in capsys.readouterr().err
