"""The demos' progress display: postfix, a tqdm bar on a terminal, plain lines in logs."""

from __future__ import annotations

import io

from nht_monitor.demos.common.progress import DemoProgress, PlainProgress, sweep_postfix


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


def test_on_a_terminal_it_is_a_tqdm_bar():
    out = FakeTerminal()
    bar = DemoProgress(10, "sweep", file=out)
    assert bar.interactive
    bar.update_many(5, {"0.1": {"regime": "strong", "transition": {}}})
    bar.bar.refresh()
    bar.close()
    text = out.getvalue()
    assert "0.1:strong" in text and "\r" in text  # redrawn in place


def test_in_a_log_it_writes_plain_lines_every_ten_percent():
    out = io.StringIO()  # not a terminal
    bar = DemoProgress(1000, "λ=0.1", file=out)
    assert not bar.interactive
    assessment = {"regime": "intermediate",
                  "transition": {"status": "pending", "forecast_step": 1500}}
    for step in range(1, 1001):
        bar.update(step, assessment)
    bar.close()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 10, lines  # 10 %, 20 %, …, 100 %; close() adds nothing new
    assert lines[0].startswith("λ=0.1: 100/1000 (10%)")
    assert lines[-1].startswith("λ=0.1: 1000/1000 (100%)")
    assert all("regime=intermediate, forecast=~1500" in line for line in lines)


def test_in_a_log_a_slow_run_gets_a_line_every_interval():
    out, clock = io.StringIO(), FakeClock()
    bar = PlainProgress(10_000, "sweep", out, every_percent=10, every_seconds=30, clock=clock)
    for step in range(1, 201):  # 2 % of the total, 1 s per step
        clock.now += 1.0
        bar.set_postfix_str("0.1:inter~1342")
        bar.update(1)
    bar.close()
    lines = out.getvalue().splitlines()
    # one line per 30 s (at 30, 60, …, 180 s), then the final position at close()
    assert len(lines) == 7, lines
    assert lines[0].startswith("sweep: 30/10000 (0%) 30 s, 1.0 it/s, 0.1:inter~1342")
    assert lines[-1].startswith("sweep: 200/10000 (2%) 200 s")


def test_plain_progress_without_total_and_disabled():
    out = io.StringIO()
    bar = DemoProgress(0, "λ=1", file=out)
    bar.bar.total = 50  # the image demos learn the total later
    for step in range(1, 51):
        bar.update(step)
    bar.close()
    assert out.getvalue().count("\n") == 10
    quiet = io.StringIO()
    silent = DemoProgress(50, "λ=1", disable=True, file=quiet)
    for step in range(1, 51):
        silent.update(step)
    silent.close()
    assert quiet.getvalue() == ""


def test_announce_prints_one_plain_line(capsys):
    class Monitor:
        prometheus_url = "http://0.0.0.0:9464/metrics"

    bar = DemoProgress(10, "λ=1", file=io.StringIO())
    bar.announce(Monitor())
    bar.announce(Monitor())
    bar.close()
    assert capsys.readouterr().out == "serving live metrics at http://0.0.0.0:9464/metrics\n"
